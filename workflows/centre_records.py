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
    from definitions.crisis_log import CrisisLogEntry
    from definitions.mobilisation import CentreRecords, CentreSupport
    from definitions.temporal_names import RECORD_CENTRES
    from workflows.store_calls import call_store

REVISIONS_PER_RUN = 1_000_000
"""More than Temporal lets a run's history hold, so a later run always writes over."""
WRITTEN_WITHIN = timedelta(seconds=2)
"""How long a change that no answer brought (a delivery receipt) may wait to be
written: the receipts of a busy moment then go out together, instead of costing a
turn of the workflow each."""


class CentreRecorder:
    def __init__(self, event_id: str, department_code: str, generation: int) -> None:
        self._event_id = event_id
        self._department_code = department_code
        self.generation = generation
        self._changed: dict[str, CentreSupport] = {}
        self._first_change: datetime | None = None

    @property
    def pending(self) -> bool:
        return bool(self._changed)

    @property
    def unrecorded(self) -> list[str]:
        return list(self._changed)

    @property
    def due(self) -> datetime | None:
        """When the changes not written yet must be, at the latest."""
        if not self._changed or self._first_change is None:
            return None
        return self._first_change + WRITTEN_WITHIN

    def changed(self, *centres: CentreSupport) -> None:
        if centres and not self._changed:
            self._first_change = workflow.now()
        self._changed.update((centre.organisation_id, centre) for centre in centres)

    async def write(self, entries: list[CrisisLogEntry]) -> None:
        if not (self._changed or entries):
            return
        changed, self._changed = self._changed, {}
        info = workflow.info()
        await call_store(
            RECORD_CENTRES,
            CentreRecords(
                workflow_id=info.workflow_id,
                event_id=self._event_id,
                department_code=self._department_code,
                revision=self.generation * REVISIONS_PER_RUN + info.get_current_history_length(),
                centres=list(changed.values()),
                entries=entries,
            ),
        )
