"""Who represents UNCCAS for which active event: one person should not carry two
events while someone else on the roster is free."""

from datetime import datetime

from sqlmodel import Session, col, select

from definitions.designation import ClaimOutcome, RepresentativeClaim
from store.tables import EventRow, RepresentativeRow


def busy_elsewhere(session: Session, event_id: str) -> dict[str, str]:
    """Contact id → the other active event each one represents."""
    rows = session.exec(
        select(RepresentativeRow.contact_id, RepresentativeRow.event_id)
        .join(EventRow, col(EventRow.id) == col(RepresentativeRow.event_id))
        .where(RepresentativeRow.event_id != event_id, col(EventRow.closed_at).is_(None))
    ).all()
    return dict(rows)


def claim(session: Session, claim: RepresentativeClaim, now: datetime) -> ClaimOutcome:
    """Record the representative unless they are busy with another active event
    (and being busy is not allowed). A retried claim for the same person is granted."""
    busy_with = busy_elsewhere(session, claim.event_id).get(claim.contact_id)
    if busy_with is not None and not claim.allow_busy:
        return ClaimOutcome(granted=False, busy_with=busy_with)
    row = session.get(RepresentativeRow, claim.event_id)
    if row is None:
        session.add(
            RepresentativeRow(
                event_id=claim.event_id, contact_id=claim.contact_id, designated_at=now
            )
        )
    elif row.contact_id != claim.contact_id:
        row.contact_id = claim.contact_id
        row.designated_at = now
        session.add(row)
    session.flush()
    return ClaimOutcome(granted=True, busy_with=busy_with)
