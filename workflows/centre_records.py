"""A department's centres written to the store as they change, with the crisis-log
lines of the answers, so that status reads need not query the workflow.

The writes run as local activities, in the workflow task that made the change: an
answer is readable in one round trip. Temporal may run them in a task attempt it
then discards; so each answer's line is keyed by its MessageSid (the same line in
every attempt), and each write carries a revision that grows with the history, so a
late write of a discarded attempt cannot undo a newer one.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from definitions.crisis_log import CrisisLogEntry
    from definitions.mobilisation import CentreRecords, CentreSupport
    from definitions.temporal_names import RECORD_CENTRES
    from workflows.store_calls import call_store_locally

REVISIONS_PER_RUN = 1_000_000
"""More than Temporal lets a run's history hold, so a later run always writes over."""


class CentreRecorder:
    def __init__(self, event_id: str, department_code: str, generation: int) -> None:
        self._event_id = event_id
        self._department_code = department_code
        self._generation = generation
        self._changed: dict[str, CentreSupport] = {}
        self._entries: list[CrisisLogEntry] = []
        self._writing = False

    @property
    def pending(self) -> bool:
        return bool(self._changed or self._entries)

    @property
    def idle(self) -> bool:
        return not (self.pending or self._writing)

    def changed(self, *centres: CentreSupport) -> None:
        self._changed.update((centre.organisation_id, centre) for centre in centres)

    def answered(self, entry: CrisisLogEntry) -> None:
        self._entries.append(entry)

    async def keep_writing(self) -> None:
        """Runs beside the workflow's main loop, which may be busy sending a batch."""
        while True:
            await workflow.wait_condition(lambda: self.pending)
            self._writing = True
            changed, self._changed = self._changed, {}
            entries, self._entries = self._entries, []
            info = workflow.info()
            await call_store_locally(
                RECORD_CENTRES,
                CentreRecords(
                    workflow_id=info.workflow_id,
                    event_id=self._event_id,
                    department_code=self._department_code,
                    revision=self._generation * REVISIONS_PER_RUN
                    + info.get_current_history_length(),
                    centres=list(changed.values()),
                    entries=entries,
                ),
            )
            self._writing = False
