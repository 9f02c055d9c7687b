"""Events and their crisis log in the database. Every write is idempotent so
that a retried activity changes nothing the second time."""

from datetime import datetime

from sqlmodel import Session, col, func, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from definitions.crisis_log import CrisisLogEntry, CrisisLogKind, DeclarationRecord
from definitions.event import Phase
from definitions.temporal_names import mobilisation_workflow_id
from store.conflict_inserts import insert_new
from store.tables import CentreSupportRow, CrisisLogRow, EventRow, table_of


def save_event(session: Session, record: DeclarationRecord) -> None:
    if session.get(EventRow, record.event_id) is not None:
        return
    declaration = record.declaration
    session.add(
        EventRow(
            id=record.event_id,
            type=declaration.type.value,
            title=declaration.title,
            exercise=declaration.exercise,
            communes=declaration.communes,
            departments=declaration.departments,
            declared_by=record.declared_by,
            phase=Phase.DECLARED.value,
            declared_at=record.declared_at,
            updated_at=record.declared_at,
        )
    )
    session.flush()


def set_phase(session: Session, event_id: str, phase: Phase, at: datetime) -> None:
    row = session.get(EventRow, event_id)
    if row is None:
        raise LookupError(f"unknown event {event_id}")
    row.phase = phase.value
    row.updated_at = at
    if phase is Phase.CLOSED:
        row.closed_at = at
    session.add(row)
    session.flush()


def set_area(session: Session, event_id: str, communes: list[str], departments: list[str]) -> None:
    """The event's whole area, as an extension leaves it."""
    row = session.get(EventRow, event_id)
    if row is None:
        raise LookupError(f"unknown event {event_id}")
    row.communes = communes
    row.departments = departments
    session.add(row)
    session.flush()


def append_entries(session: Session, entries: list[CrisisLogEntry]) -> int:
    """Adds the entries whose key is not there yet; says how many. An entry of an
    unknown event is refused (the integrity error goes on)."""
    rows = [entry.model_dump(mode="python") for entry in entries]
    return insert_new(session, table_of(CrisisLogRow), rows)


def append_entry(session: Session, entry: CrisisLogEntry) -> bool:
    """Says whether the entry was added (False: its key was already there)."""
    return append_entries(session, [entry]) == 1


def _lines(session: Session, event_id: str, within: str | None) -> SelectOfScalar[CrisisLogRow]:
    """The event's lines; ``within`` a department: without those of another
    department's mobilisation or about one of its centres, as a departmental union
    reads them."""
    query = select(CrisisLogRow).where(CrisisLogRow.event_id == event_id)
    if within is None:
        return query
    key = col(CrisisLogRow.entry_key)
    mobilisations = mobilisation_workflow_id(event_id, "")
    own = mobilisation_workflow_id(event_id, within) + "/"
    elsewhere = (
        CentreSupportRow.event_id == event_id,
        CentreSupportRow.department_code != within,
    )
    event = session.get(EventRow, event_id)
    declared = [code for code in (event.departments if event else []) if code != within]
    subject = col(CrisisLogRow.subject)
    return query.where(
        ~or_(
            key.startswith(mobilisations, autoescape=True) & ~key.startswith(own, autoescape=True),
            subject.in_(declared),
            subject.in_(select(CentreSupportRow.organisation_id).where(*elsewhere)),
            subject.in_(select(CentreSupportRow.department_code).where(*elsewhere)),
        )
    )


def crisis_log(
    session: Session, event_id: str, limit: int | None = None, within: str | None = None
) -> list[CrisisLogEntry]:
    """The event's entries, oldest first (the last ``limit`` when given)."""
    query = _lines(session, event_id, within)
    if limit is None:
        rows = session.exec(query.order_by(col(CrisisLogRow.at), col(CrisisLogRow.id))).all()
    else:
        newest = query.order_by(col(CrisisLogRow.at).desc(), col(CrisisLogRow.id).desc())
        rows = list(reversed(session.exec(newest.limit(limit)).all()))
    return [_entry(row) for row in rows]


def _entry(row: CrisisLogRow) -> CrisisLogEntry:
    return CrisisLogEntry(
        entry_key=row.entry_key,
        event_id=row.event_id,
        at=row.at,
        actor=row.actor,
        kind=CrisisLogKind(row.kind),
        text=row.text,
        subject=row.subject,
        figures=row.figures,
    )


def crisis_log_since(
    session: Session, event_id: str, after_id: int, limit: int, within: str | None = None
) -> list[tuple[int, CrisisLogEntry]]:
    """Lines written after row ``after_id``, in the order they were written, with
    their row ids, for a live view to ask for what it has not shown yet. With
    ``after_id`` 0, the last ``limit`` lines."""
    query = _lines(session, event_id, within)
    if after_id > 0:
        rows = session.exec(
            query.where(col(CrisisLogRow.id) > after_id).order_by(col(CrisisLogRow.id)).limit(limit)
        ).all()
    else:
        rows = list(
            reversed(session.exec(query.order_by(col(CrisisLogRow.id).desc()).limit(limit)).all())
        )
    return [(row.id or 0, _entry(row)) for row in rows]


def crisis_log_page(
    session: Session, event_id: str, after_id: int, limit: int, within: str | None = None
) -> list[tuple[int, CrisisLogEntry]]:
    """Up to ``limit`` lines written after row ``after_id`` (0: from the first), in
    the order they were written, with their row ids: a cursor for the API."""
    query = (
        _lines(session, event_id, within)
        .where(col(CrisisLogRow.id) > after_id)
        .order_by(col(CrisisLogRow.id))
        .limit(limit)
    )
    return [(row.id or 0, _entry(row)) for row in session.exec(query).all()]


def crisis_log_slice(
    session: Session, event_id: str, offset: int, limit: int, within: str | None = None
) -> list[CrisisLogEntry]:
    """Up to ``limit`` lines from the ``offset``-th, in the order they were written:
    one numbered page of the console's."""
    query = _lines(session, event_id, within).order_by(col(CrisisLogRow.id))
    return [_entry(row) for row in session.exec(query.offset(offset).limit(limit)).all()]


def event_row(session: Session, event_id: str) -> EventRow | None:
    return session.get(EventRow, event_id)


def crisis_log_count(session: Session, event_id: str, within: str | None = None) -> int:
    lines = _lines(session, event_id, within).subquery()
    return session.exec(select(func.count()).select_from(lines)).one()


def open_event_counts(session: Session) -> dict[bool, int]:
    """Events not closed yet, by whether they are exercises."""
    query = (
        select(EventRow.exercise, func.count())
        .where(col(EventRow.closed_at).is_(None))
        .group_by(col(EventRow.exercise))
    )
    return {bool(exercise): count for exercise, count in session.exec(query).all()}
