"""Each mobilised centre's support state as its department's workflow last recorded
it: the read side of a mobilisation, so that status reads never wait for a busy
workflow. A write older than the stored one (an activity attempt that timed out,
finishing late) changes nothing."""

from collections import defaultdict

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, col, func, select

from definitions.mobilisation import CentreRecords, CentreSupport, SupportCounts, SupportState
from store.conflict_inserts import ConflictInsert, insert_rows
from store.tables import CentreSupportRow, table_of

COUNTED_STATES = {
    SupportState.MOBILISED.value,
    SupportState.NEEDS_SUPPORT.value,
    SupportState.UNANSWERED.value,
    SupportState.UNREACHABLE.value,
}


def record_centres(session: Session, records: CentreRecords) -> int:
    """Writes the centres unless a newer revision is there; says how many it wrote."""
    table = table_of(CentreSupportRow)
    rows = [
        {
            "workflow_id": records.workflow_id,
            "organisation_id": centre.organisation_id,
            "event_id": records.event_id,
            "department_code": records.department_code,
            "revision": records.revision,
            "state": centre.state.value,
            "requested": centre.requested_at is not None,
            "delivered": centre.delivered,
            "support": centre.model_dump(mode="json"),
        }
        for centre in {centre.organisation_id: centre for centre in records.centres}.values()
    ]

    def newer_only(insert: ConflictInsert) -> ConflictInsert:
        changed = ("revision", "state", "requested", "delivered", "support")
        return insert.on_conflict_do_update(
            index_elements=[table.c.workflow_id, table.c.organisation_id],
            set_={name: insert.excluded[name] for name in changed},
            where=table.c.revision <= insert.excluded.revision,
        )

    return insert_rows(session, table, rows, newer_only)


CENTRES = select(CentreSupportRow.support).where(
    CentreSupportRow.workflow_id == bindparam("workflow_id"),
    col(CentreSupportRow.organisation_id).in_(bindparam("organisation_ids", expanding=True)),
)
"""Built once and run on the connection, like ``accounts.TOKEN_ACCOUNT``: the status
read a phone or a console polls."""


def centres(session: Session, workflow_id: str, organisation_ids: list[str]) -> list[CentreSupport]:
    found = session.connection().execute(
        CENTRES, {"workflow_id": workflow_id, "organisation_ids": organisation_ids}
    )
    return [CentreSupport.model_validate(support) for support in found.scalars()]


def states(session: Session, event_id: str) -> dict[str, SupportState]:
    """Each centre of the event in the state its workflow last recorded: the map of
    an event that has ended."""
    query = select(CentreSupportRow.organisation_id, CentreSupportRow.state).where(
        CentreSupportRow.event_id == event_id
    )
    return {organisation: SupportState(state) for organisation, state in session.exec(query)}


def department_recorded(session: Session, workflow_id: str) -> bool:
    query = select(CentreSupportRow.organisation_id).where(
        CentreSupportRow.workflow_id == workflow_id
    )
    return session.exec(query.limit(1)).first() is not None


def counts_by_department(session: Session, event_id: str) -> dict[str, SupportCounts]:
    """The same figures as ``SupportCounts.of``, counted by the database."""
    query = (
        core_select(
            col(CentreSupportRow.department_code),
            col(CentreSupportRow.state),
            col(CentreSupportRow.requested),
            col(CentreSupportRow.delivered),
            func.count(),
        )
        .where(col(CentreSupportRow.event_id) == event_id)
        .group_by(
            col(CentreSupportRow.department_code),
            col(CentreSupportRow.state),
            col(CentreSupportRow.requested),
            col(CentreSupportRow.delivered),
        )
    )
    figures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for department, state, requested, delivered, count in session.execute(query):
        tally = figures[department]
        tally["centres"] += count
        tally["requested"] += count * requested
        tally["delivered"] += count * delivered
        if state in COUNTED_STATES:
            tally[state] += count
    return {department: SupportCounts(**tally) for department, tally in figures.items()}
