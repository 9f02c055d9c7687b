"""A department's centres written to the store as they change, so that status
reads need not query the workflow.

The changed centres go out at the end of each turn of the workflow's main loop, in
the same ordinary activity as the turn's crisis-log lines: an answer reaches the
API and the crisis log together, for no extra round trip. Not a local activity, nor
a task beside the main loop: both made a replayed run decide to continue as new at
another point than the original one, and an answer arriving meanwhile was lost.
Each write carries a revision that grows with the history, so that a late attempt
of an older write cannot undo a newer one.
"""

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.crisis_log import CrisisLogEntry
    from definitions.mobilisation import CentreRecords, CentreSupport, MobilisationState
    from workflows.store_calls import call_store

REVISIONS_PER_RUN = 1_000_000
"""More than Temporal lets a run's history hold, so a later run always writes over."""
WRITTEN_WITHIN = timedelta(seconds=2)
"""How long a change that no answer brought (a delivery receipt) may wait to be
written: the receipts of a busy moment then go out together, instead of costing a
turn of the workflow each."""


class CentreRecorder:
    """The centres changed and not written yet are kept in the department's state,
    so that a run continued as new writes them."""

    def __init__(self, event_id: str, department_code: str, state: MobilisationState) -> None:
        self._event_id = event_id
        self._department_code = department_code
        self._state = state

    @property
    def due(self) -> datetime | None:
        """When the changes not written yet must be, at the latest."""
        first = next(iter(self._state.unrecorded.values()), None)
        return None if first is None else first + WRITTEN_WITHIN

    def changed(self, *centres: CentreSupport) -> None:
        now = workflow.now()
        for centre in centres:
            self._state.unrecorded.setdefault(centre.organisation_id, now)

    async def write(self, entries: list[CrisisLogEntry]) -> None:
        if not (self._state.unrecorded or entries):
            return
        changed, self._state.unrecorded = self._state.unrecorded, {}
        info = workflow.info()
        await call_store(
            stubs.record_centres,
            CentreRecords(
                workflow_id=info.workflow_id,
                event_id=self._event_id,
                department_code=self._department_code,
                revision=self._state.generation * REVISIONS_PER_RUN
                + info.get_current_history_length(),
                centres=[self._state.centres[key] for key in changed],
                entries=entries,
            ),
        )
