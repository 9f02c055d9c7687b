"""What the workflows that live for weeks or months share: turns of work, and
between them one steady timer for the next deadline; a new run, carrying the state
as it is, once the history is long; an end once every handler has finished."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ApplicationError


class DeadlineTimer:
    """The timer of a workflow's next deadline (a reminder, an escalation, a
    checkpoint), in the manner of Temporal's updatable timer: it is moved when the
    deadline moves, and outlives the waits that leave it where it is, so that
    answers coming and going cost no timer cancelled and another started each time."""

    def __init__(self) -> None:
        self._deadline: datetime | None = None
        self._timer: asyncio.Task[None] | None = None

    @property
    def expired(self) -> bool:
        return self._timer is not None and self._timer.done()

    def move(self, deadline: datetime | None) -> None:
        if deadline == self._deadline:
            return
        self.cancel()
        self._deadline = deadline
        if deadline is not None:
            seconds = (deadline - workflow.now()).total_seconds()
            self._timer = asyncio.create_task(asyncio.sleep(seconds))

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._deadline = None, None

    async def wait(self, deadline: datetime | None, work: Callable[[], bool]) -> None:
        """Until there is work or ``deadline`` comes (none: until there is work); at
        once when either is there already."""
        if work() or (deadline is not None and deadline <= workflow.now()):
            return
        self.move(deadline)
        await workflow.wait_condition(lambda: work() or self.expired)
        if self.expired:
            self._timer, self._deadline = None, None


class LongRun:
    """The life of such a workflow between its turns of work. ``next_run`` gives
    the input of the run it continues as new, once its history has passed
    ``history_limit`` events (or Temporal suggests it); without it the workflow
    keeps one run."""

    def __init__(
        self, history_limit: int = 0, next_run: Callable[[], BaseModel] | None = None
    ) -> None:
        self._history_limit = history_limit
        self._next_run = next_run
        self._timer = DeadlineTimer()
        self.ended = False
        """Set as the run returns: a query of the closed run, which Temporal answers by
        replaying its history, says it finished."""

    async def between_turns(self, deadline: datetime | None, work: Callable[[], bool]) -> None:
        """Continues as new when the history is long, even while answers keep coming
        (lest it grow with them: what is left to do goes to the next run with the
        state); else waits for work or the next deadline."""
        if self._next_run is not None and self._history_is_long():
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(self._next_run())
        await self._timer.wait(deadline, work)

    async def end(self, closing: Callable[[], Awaitable[None]]) -> None:
        """Once every handler has finished, ``closing`` (codes closed, last lines
        written); then the run has ended."""
        self._timer.cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await closing()
        self.ended = True

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._history_limit
        )


def refusal(message: str, kind: str) -> ApplicationError:
    """An update refused: the caller gets ``message``, and it is not retried."""
    return ApplicationError(message, type=kind, non_retryable=True)
