"""Recording an event's declaration and phases in the store and its crisis log."""

from collections.abc import Callable

import structlog
from temporalio import activity

from definitions.crisis_log import AreaRecord, CrisisLogEntry, DeclarationRecord, PhaseRecord
from definitions.temporal_names import (
    APPEND_CRISIS_LOG,
    APPEND_CRISIS_LOG_ENTRIES,
    RECORD_AREA,
    RECORD_DECLARATION,
    RECORD_PHASE,
)
from store import events
from store.database import Store

log = structlog.get_logger(__name__)


class EventRecordActivities:
    """Synchronous on purpose: they run in the worker's thread pool, so a slow
    database never blocks the event loop that drives the workflows."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name=RECORD_DECLARATION)
    def record_declaration(self, record: DeclarationRecord) -> None:
        with self._store.session() as session:
            events.save_event(session, record)
            added = events.append_entry(session, record.entry)
            session.commit()
        log.info("event.recorded", type=record.declaration.type.value, new_entry=added)

    @activity.defn(name=RECORD_PHASE)
    def record_phase(self, record: PhaseRecord) -> None:
        with self._store.session() as session:
            events.set_phase(session, record.entry.event_id, record.phase, record.entry.at)
            added = events.append_entry(session, record.entry)
            session.commit()
        log.info("event.phase_recorded", phase=record.phase.value, new_entry=added)

    @activity.defn(name=RECORD_AREA)
    def record_area(self, record: AreaRecord) -> None:
        with self._store.session() as session:
            events.set_area(session, record.entry.event_id, record.communes, record.departments)
            added = events.append_entry(session, record.entry)
            session.commit()
        log.info("event.area_recorded", communes=len(record.communes), new_entry=added)

    @activity.defn(name=APPEND_CRISIS_LOG)
    def append_crisis_log(self, entry: CrisisLogEntry) -> None:
        with self._store.session() as session:
            added = events.append_entry(session, entry)
            session.commit()
        log.info("crisis_log.appended", kind=entry.kind.value, new_entry=added)

    @activity.defn(name=APPEND_CRISIS_LOG_ENTRIES)
    def append_crisis_log_entries(self, entries: list[CrisisLogEntry]) -> None:
        """Many entries in one transaction: a busy department's answers of a moment."""
        with self._store.session() as session:
            added = events.append_entries(session, entries)
            session.commit()
        log.info("crisis_log.appended", entries=len(entries), new_entries=added)

    @property
    def all(self) -> list[Callable[..., object]]:
        return [
            self.record_declaration,
            self.record_phase,
            self.record_area,
            self.append_crisis_log,
            self.append_crisis_log_entries,
        ]
