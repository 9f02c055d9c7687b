"""The store, on SQLite and on PostgreSQL: migrations, an append-only crisis log,
idempotent writes, UTC times."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlmodel import SQLModel

from activities.centre_records import CentreRecordActivities
from definitions.crisis_log import CrisisLogKind, DeclarationRecord
from definitions.directory import OrganisationKind
from definitions.event import EventDeclaration, Phase
from definitions.event_type import EventType
from definitions.mobilisation import CentreRecords, CentreSupport, SupportCounts, SupportState
from store import centre_supports, events
from store.database import Store
from store.tables import EventRow
from tests.conftest import BOTH_DATABASES, record_event

pytestmark = BOTH_DATABASES

DECLARED_AT = datetime(2026, 11, 22, 3, 14, tzinfo=UTC)


def _declare(store: Store, event_id: str = "tempete-20261122-abcd") -> DeclarationRecord:
    declaration = EventDeclaration(type=EventType.TEMPETE, communes=["29019"], title="Tempête")
    return record_event(store, event_id, declaration, DECLARED_AT)


def test_migrations_create_the_schema_and_run_twice(store: Store) -> None:
    store.upgrade()
    tables = set(inspect(store.engine).get_table_names())
    assert {"events", "crisis_log", "alembic_version"} <= tables


def test_retried_writes_land_once(store: Store) -> None:
    record = _declare(store)
    _declare(store)
    with store.session() as session:
        log = events.crisis_log(session, record.event_id)
    assert len(log) == 1


def test_crisis_log_refuses_updates_and_deletes(store: Store) -> None:
    _declare(store)
    for statement in ("UPDATE crisis_log SET text = 'réécrit'", "DELETE FROM crisis_log"):
        with store.session() as session, pytest.raises(DatabaseError, match="ajout seul"):
            session.execute(text(statement))


def test_timestamps_come_back_in_utc(store: Store) -> None:
    record = _declare(store)
    paris_winter = timezone(timedelta(hours=1))
    with store.session() as session:
        events.set_phase(
            session,
            record.event_id,
            Phase.CLOSED,
            datetime(2026, 11, 23, 10, 0, tzinfo=paris_winter),
        )
        session.commit()
        log = events.crisis_log(session, record.event_id)
        row = session.get(EventRow, record.event_id)
    assert log[0].at == DECLARED_AT and log[0].at.tzinfo is not None
    assert row is not None and row.closed_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert row.phase == "closed"


def test_last_entries_are_given_oldest_first(store: Store) -> None:
    record = _declare(store)
    with store.session() as session:
        for minute in range(1, 5):
            events.append_entry(
                session,
                record.entry.model_copy(
                    update={
                        "entry_key": f"{record.event_id}/{minute + 1}",
                        "at": DECLARED_AT + timedelta(minutes=minute),
                        "text": f"minute {minute}",
                    }
                ),
            )
        session.commit()
        last = events.crisis_log(session, record.event_id, limit=2)
    assert [entry.text for entry in last] == ["minute 3", "minute 4"]


def test_migrations_match_the_tables(store: Store) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_a_late_write_of_an_older_revision_undoes_no_answer(store: Store) -> None:
    """An older write may land after a newer one (an activity attempt that timed out,
    finishing late): its centres change nothing; its crisis-log line lands once."""
    record = _declare(store)
    asked = CentreSupport(
        organisation_id="ccas-29019",
        kind=OrganisationKind.CCAS,
        name="CCAS de Brest",
        recipients=[],
        requested_at=DECLARED_AT,
    )
    answered = asked.model_copy(update={"answer": "OK", "answered_at": DECLARED_AT})
    delivered = asked.model_copy(
        update={
            "organisation_id": "ccas-29232",
            "name": "CCAS de Quimper",
            "delivered_at": DECLARED_AT,
        }
    )
    line = record.entry.model_copy(
        update={"entry_key": "wf/7", "kind": CrisisLogKind.SUPPORT_ANSWERED}
    )
    recorder = CentreRecordActivities(store)

    def write(revision: int, *centres: CentreSupport) -> None:
        recorder.record_centres(
            CentreRecords(
                workflow_id="wf",
                event_id=record.event_id,
                department_code="29",
                revision=revision,
                centres=list(centres),
                entries=[line],
            )
        )

    write(5, answered, delivered)
    write(3, asked)
    with store.session() as session:
        [seen] = centre_supports.centres(session, "wf", ["ccas-29019"])
        counts = centre_supports.counts_by_department(session, record.event_id)
        lines = events.crisis_log(session, record.event_id)
    assert seen.state is SupportState.MOBILISED
    assert counts == {"29": SupportCounts.of([answered, delivered])}
    assert counts["29"].mobilised == 1 and counts["29"].delivered == 2
    assert [entry.entry_key for entry in lines] == [record.entry.entry_key, "wf/7"]


def test_a_batch_of_crisis_log_lines_adds_only_the_new_ones(store: Store) -> None:
    """A retried turn writes its lines again with some new ones: those alone land.
    A batch with a line of an unknown event is refused whole."""
    record = _declare(store)
    lines = [
        record.entry.model_copy(update={"entry_key": f"wf/{number}", "text": f"ligne {number}"})
        for number in range(3)
    ]
    stranger = lines[0].model_copy(update={"entry_key": "wf/9", "event_id": "inconnu"})
    with store.session() as session:
        assert events.append_entries(session, lines[:2]) == 2
        assert events.append_entries(session, [*lines, lines[2]]) == 1
        session.commit()
    with store.session() as session, pytest.raises(IntegrityError):
        events.append_entries(
            session, [lines[0].model_copy(update={"entry_key": "wf/8"}), stranger]
        )
    with store.session() as session:
        keys = [entry.entry_key for entry in events.crisis_log(session, record.event_id)]
    assert keys == [record.entry.entry_key, "wf/0", "wf/1", "wf/2"]
