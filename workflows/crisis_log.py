"""Writing to the crisis log from a workflow: one sequence per workflow, so that
each entry's key is stable across retries and replays."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from definitions.crisis_log import CrisisLogEntry, CrisisLogKind
    from definitions.temporal_names import APPEND_CRISIS_LOG, APPEND_CRISIS_LOG_ENTRIES
    from workflows.store_calls import call_store


class CrisisLogWriter:
    def __init__(self, event_id: str, key_prefix: str, written: int = 0) -> None:
        self._event_id = event_id
        self._key_prefix = key_prefix
        self.written = written

    def entry(
        self,
        kind: CrisisLogKind,
        actor: str,
        text: str,
        *,
        subject: str = "",
        figures: dict[str, int] | None = None,
    ) -> CrisisLogEntry:
        self.written += 1
        return CrisisLogEntry(
            entry_key=f"{self._key_prefix}/{self.written}",
            event_id=self._event_id,
            at=workflow.now(),
            actor=actor,
            kind=kind,
            text=text,
            subject=subject,
            figures=figures,
        )

    async def append(self, kind: CrisisLogKind, actor: str, text: str) -> None:
        await call_store(APPEND_CRISIS_LOG, self.entry(kind, actor, text))


class CrisisLogBuffer:
    """Entries made while handling signals, where nothing may be awaited, written
    together at the next step: one activity for a whole wave of answers."""

    def __init__(
        self, writer: CrisisLogWriter, entries: list[CrisisLogEntry] | None = None
    ) -> None:
        self._writer = writer
        self._entries = entries or []

    @property
    def pending(self) -> bool:
        return bool(self._entries)

    @property
    def unwritten(self) -> list[CrisisLogEntry]:
        return list(self._entries)

    def add(
        self,
        kind: CrisisLogKind,
        actor: str,
        text: str,
        *,
        subject: str = "",
        figures: dict[str, int] | None = None,
    ) -> None:
        self._entries.append(
            self._writer.entry(kind, actor, text, subject=subject, figures=figures)
        )

    def take(self) -> list[CrisisLogEntry]:
        """The entries not written yet, for a caller that writes them with more."""
        entries, self._entries = self._entries, []
        return entries

    async def flush(self) -> None:
        if self._entries:
            await call_store(APPEND_CRISIS_LOG_ENTRIES, self.take())
