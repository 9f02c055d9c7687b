"""The outbox as a sending activity uses it: claim the message's row before the
provider call, note what became of it after, and give up for good on a permanent
refusal.

An SMS batch's outcomes are written together, a few times a second, not one
transaction per message: written one by one, most SMS threads of a national
hand-over stood in line for the database. A worker that dies loses at most the
outcomes noted since the last write; their rows stay ``sending``, which the SMS
sender reconciles with the provider. An email is marked ``sending`` just before
it leaves, in the same write as the previous email's outcome, so that a worker
that dies leaves at most one email of each batch ``sending``: the one its retry
sends again, counted as a possible duplicate (same Message-ID). Writes of the
batches of one process that fall due together are one transaction.
"""

import asyncio
import contextlib
import contextvars
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import NoReturn, Protocol, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from definitions.metrics import FailureStage, TocsinMetrics
from definitions.outgoing import (
    PERMANENT_DELIVERY_ERROR,
    BatchItemResult,
    Channel,
    OutboxEntry,
    OutboxStatus,
    SendResult,
)
from store import inbound, outbox
from store.database import Store
from store.outbox import OutboxClaim, OutboxMark

OPTED_OUT = "opted_out"
NOTED_MARKS_WRITTEN_AT = 20
NOTED_MARKS_WRITTEN_WITHIN_SECONDS = 0.2
"""A delivery receipt that comes before its message's sid is written waits for it
(see gateway/twilio_webhooks.py); this keeps that wait short."""
HEARTBEAT_EVERY_SECONDS = 5.0
"""A batch's heartbeat says its worker is alive, not how far it got (the outbox
knows): it beats on a timer, however long one provider call takes, so that a
short heartbeat timeout finds a dead worker fast and never a slow provider."""


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


Request = TypeVar("Request", bound=_Keyed)


def permanent_failure(what: str, code: str) -> NoReturn:
    """Non-retryable, with the provider's code: the workflow tries the other channel."""
    raise ApplicationError(
        f"{what} refusé par le fournisseur (code {code})",
        code,
        type=PERMANENT_DELIVERY_ERROR,
        non_retryable=True,
    )


def earlier_outcome(entry: OutboxEntry, what: str) -> SendResult | None:
    """The earlier result when the message already left: it must not leave twice.
    A message refused for good earlier is refused again, with the same code."""
    if entry.status.left and entry.provider_id:
        return SendResult(key=entry.key, status=entry.status, provider_id=entry.provider_id)
    if entry.status is OutboxStatus.FAILED:
        permanent_failure(what, entry.error_code or "?")
    return None


def _refused(key: str, error: ApplicationError) -> BatchItemResult:
    """A permanent refusal becomes the item's result; anything else stops the batch,
    which Temporal retries: the messages already sent are then skipped."""
    if error.type != PERMANENT_DELIVERY_ERROR:
        raise error
    return BatchItemResult(key=key, refused=str(error.details[0]) if error.details else "?")


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@contextlib.contextmanager
def heartbeating() -> Iterator[None]:
    """Heartbeats from a timer thread of its own, for a batch run in a thread (the
    SDK hands a thread's heartbeat to the worker's event loop) or on the event loop
    (each beat is handed to that loop): a beat never waits for the batch."""
    stop = threading.Event()
    context = contextvars.copy_context()
    loop = _running_loop()

    def beat_once() -> None:
        # A loop too busy to take a beat within 10 s (TimeoutError), or closing
        # (RuntimeError), loses that beat only.
        with contextlib.suppress(TimeoutError, RuntimeError):
            context.run(activity.heartbeat)

    def beat() -> None:
        while not stop.wait(HEARTBEAT_EVERY_SECONDS):
            if loop is None:
                beat_once()
            else:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(beat_once)

    beater = threading.Thread(target=beat, name="heartbeat", daemon=True)
    beater.start()
    try:
        yield
    finally:
        stop.set()
        beater.join()


async def send_each(
    requests: Sequence[Request],
    send: Callable[[Request], Awaitable[SendResult]],
    ledger: "OutboxLedger",
) -> list[BatchItemResult]:
    """Each request in turn; the outcomes noted are written as they fall due (in a
    thread, the event loop's work goes on meanwhile) and, whatever happens, before
    the batch ends."""
    results = []
    try:
        for request in requests:
            try:
                results.append(BatchItemResult(key=request.key, result=await send(request)))
            except ApplicationError as error:
                results.append(_refused(request.key, error))
            if ledger.writing_due:
                await asyncio.to_thread(ledger.write_noted)
    finally:
        await asyncio.to_thread(ledger.write_noted)
    return results


def _count(channel: Channel, marks: Sequence[OutboxMark]) -> None:
    """Each message is counted once, when its outcome is written: sent, or failed."""
    if not activity.in_activity():
        return
    metrics = TocsinMetrics(activity.metric_meter())
    for mark in marks:
        if mark.status.left:
            metrics.message_sent(channel)
        elif mark.status is OutboxStatus.FAILED:
            stopped = mark.error_code == OPTED_OUT
            stage = FailureStage.OPTED_OUT if stopped else FailureStage.REFUSED
            metrics.message_failed(channel, stage)


class OutboxLedger:
    """One channel's messages. Writes are serialised within the process: SQLite
    takes one writer at a time, and threads queueing on a Python lock wake sooner
    than on SQLite's busy sleeps."""

    _writing = threading.Lock()

    def __init__(self, store: Store, channel: Channel) -> None:
        self._store = store
        self._channel = channel
        self._noted: list[OutboxMark] = []
        self._noted_since = 0.0
        self._noting = threading.Lock()

    def claim_all(self, claims: Sequence[OutboxClaim]) -> dict[str, OutboxEntry]:
        """The rows of these messages by key, in one transaction, each as it stood
        before. A pending SMS is marked ``sending`` from here on, since the provider
        may be called at any moment and can be asked later what it received (one
        left ``sending`` earlier is for the sender to reconcile); an SMS to a number
        that answered STOP fails at once. An email stays pending until the moment it
        leaves (see ``EmailActivities``): an SMTP server cannot be asked."""
        now = datetime.now(UTC)
        with self._writing, self._store.session() as session:
            entries = outbox.claim_all(session, claims, now)
            pending = [entry for entry in entries.values() if entry.status is OutboxStatus.PENDING]
            stopped = inbound.opted_out_among(
                session, [entry.recipient for entry in pending if entry.channel is Channel.SMS]
            )
            marks = [
                OutboxMark(entry.key, OutboxStatus.FAILED, error_code=OPTED_OUT)
                if entry.recipient in stopped
                else OutboxMark(entry.key, OutboxStatus.SENDING)
                for entry in pending
                if entry.channel is Channel.SMS
            ]
            outbox.mark_all(session, marks, now)
            session.commit()
        _count(self._channel, marks)
        for mark in marks:
            if mark.status is OutboxStatus.FAILED:
                entries[mark.key] = entries[mark.key].model_copy(
                    update={"status": mark.status, "error_code": mark.error_code}
                )
        return entries

    def note(
        self,
        key: str,
        status: OutboxStatus,
        *,
        provider_id: str | None = None,
        error_code: str | None = None,
        possible_duplicate: bool = False,
    ) -> None:
        """Kept for the next ``write_noted``, by whichever thread calls it."""
        with self._noting:
            if not self._noted:
                self._noted_since = time.monotonic()
            self._noted.append(OutboxMark(key, status, provider_id, error_code, possible_duplicate))

    @property
    def writing_due(self) -> bool:
        return len(self._noted) >= NOTED_MARKS_WRITTEN_AT or (
            bool(self._noted)
            and time.monotonic() - self._noted_since >= NOTED_MARKS_WRITTEN_WITHIN_SECONDS
        )

    def write_noted(self) -> None:
        """Every mark noted so far, in one transaction. Taken after the writer
        lock, so that marks another thread was writing are written when it returns;
        kept for the next write when this one fails."""
        with self._writing:
            with self._noting:
                marks, self._noted = self._noted, []
            if not marks:
                return
            try:
                with self._store.session() as session:
                    outbox.mark_all(session, marks, datetime.now(UTC))
                    session.commit()
            except Exception:
                with self._noting:
                    self._noted[:0] = marks
                raise
        _count(self._channel, marks)

    def mark(
        self,
        key: str,
        status: OutboxStatus,
        *,
        provider_id: str | None = None,
        error_code: str | None = None,
        possible_duplicate: bool = False,
    ) -> None:
        """Written when it returns, with whatever else was noted."""
        self.note(
            key,
            status,
            provider_id=provider_id,
            error_code=error_code,
            possible_duplicate=possible_duplicate,
        )
        self.write_noted()
