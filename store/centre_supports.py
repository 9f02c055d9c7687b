"""Each mobilised centre's support state as its department's workflow last recorded
it: the read side of a mobilisation, so that status reads never wait for a busy
workflow. A write older than the stored one (an activity attempt that timed out,
finishing late) changes nothing."""

from collections import defaultdict

from sqlmodel import Session, col, func, select

from definitions.mobilisation import CentreRecords, CentreSupport, SupportCounts, SupportState
from store.tables import CentreSupportRow

COUNTED_STATES = {
    SupportState.MOBILISED.value,
    SupportState.NEEDS_SUPPORT.value,
    SupportState.UNANSWERED.value,
    SupportState.UNREACHABLE.value,
}


def record_centres(session: Session, records: CentreRecords) -> int:
    """Writes the centres unless a newer revision is there; says how many it wrote."""
    by_id = {centre.organisation_id: centre for centre in records.centres}
    stored = {
        row.organisation_id: row
        for row in session.exec(
            select(CentreSupportRow).where(
                CentreSupportRow.workflow_id == records.workflow_id,
                col(CentreSupportRow.organisation_id).in_(list(by_id)),
            )
        )
    }
    written = 0
    for organisation_id, centre in by_id.items():
        row = stored.get(organisation_id) or CentreSupportRow(
            workflow_id=records.workflow_id,
            organisation_id=organisation_id,
            event_id=records.event_id,
            department_code=records.department_code,
            revision=-1,
            state="",
            requested=False,
            delivered=False,
            support={},
        )
        if row.revision > records.revision:
            continue
        row.revision = records.revision
        row.state = centre.state.value
        row.requested = centre.requested_at is not None
        row.delivered = centre.delivered
        row.support = centre.model_dump(mode="json")
        session.add(row)
        written += 1
    return written


def centres(session: Session, workflow_id: str, organisation_ids: list[str]) -> list[CentreSupport]:
    query = select(CentreSupportRow.support).where(
        CentreSupportRow.workflow_id == workflow_id,
        col(CentreSupportRow.organisation_id).in_(organisation_ids),
    )
    return [CentreSupport.model_validate(support) for support in session.exec(query)]


def department_recorded(session: Session, workflow_id: str) -> bool:
    query = select(CentreSupportRow.organisation_id).where(
        CentreSupportRow.workflow_id == workflow_id
    )
    return session.exec(query.limit(1)).first() is not None


def counts_by_department(session: Session, event_id: str) -> dict[str, SupportCounts]:
    """The same figures as ``SupportCounts.of``, counted by the database."""
    query = (
        select(
            CentreSupportRow.department_code,
            CentreSupportRow.state,
            CentreSupportRow.requested,
            CentreSupportRow.delivered,
            func.count(),
        )
        .where(CentreSupportRow.event_id == event_id)
        .group_by(
            CentreSupportRow.department_code,
            CentreSupportRow.state,
            CentreSupportRow.requested,
            CentreSupportRow.delivered,
        )
    )
    figures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for department, state, requested, delivered, count in session.exec(query):
        tally = figures[department]
        tally["centres"] += count
        tally["requested"] += count * requested
        tally["delivered"] += count * delivered
        if state in COUNTED_STATES:
            tally[state] += count
    return {department: SupportCounts(**tally) for department, tally in figures.items()}
