"""Writing to the crisis log from a workflow: one sequence per workflow, so that
each entry's key is stable across retries and replays."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.crisis_log import CrisisLogEntry, CrisisLogKind, CrisisLogSequence
    from workflows.store_calls import call_store


class CrisisLogWriter:
    def __init__(
        self, event_id: str, key_prefix: str, sequence: CrisisLogSequence | None = None
    ) -> None:
        self._event_id = event_id
        self._key_prefix = key_prefix
        self.sequence = sequence or CrisisLogSequence()

    @property
    def numbered(self) -> int:
        return self.sequence.numbered

    def entry(
        self,
        kind: CrisisLogKind,
        actor: str,
        text: str,
        *,
        subject: str = "",
        figures: dict[str, int] | None = None,
    ) -> CrisisLogEntry:
        self.sequence.numbered += 1
        return CrisisLogEntry(
            entry_key=f"{self._key_prefix}/{self.sequence.numbered}",
            event_id=self._event_id,
            at=workflow.now(),
            actor=actor,
            kind=kind,
            text=text,
            subject=subject,
            figures=figures,
        )

    async def append(self, kind: CrisisLogKind, actor: str, text: str) -> None:
        await call_store(stubs.append_crisis_log, self.entry(kind, actor, text))


class CrisisLogBuffer:
    """Entries made while handling signals, where nothing may be awaited, written
    together at the next step: one activity for a whole wave of answers. They wait
    in the writer's sequence, which a workflow carries over continue-as-new."""

    def __init__(self, writer: CrisisLogWriter) -> None:
        self._writer = writer
        self._sequence = writer.sequence

    @property
    def pending(self) -> bool:
        return bool(self._sequence.unwritten)

    def add(
        self,
        kind: CrisisLogKind,
        actor: str,
        text: str,
        *,
        subject: str = "",
        figures: dict[str, int] | None = None,
    ) -> None:
        self._sequence.unwritten.append(
            self._writer.entry(kind, actor, text, subject=subject, figures=figures)
        )

    def take(self) -> list[CrisisLogEntry]:
        """The entries not written yet, for a caller that writes them with more."""
        entries, self._sequence.unwritten = self._sequence.unwritten, []
        return entries

    async def flush(self) -> None:
        if self._sequence.unwritten:
            await call_store(stubs.append_crisis_log_entries, self.take())
