"""The guide's editions, and which of an edition's emails already left."""

from collections.abc import Sequence

from sqlmodel import Session, col, select

from definitions.event_type import EventType
from definitions.guide import GuideEdition
from definitions.outgoing import OutboxStatus
from store.tables import GuideEditionRow, OutboxRow

LEFT = [status.value for status in OutboxStatus if status.left]


def _edition(row: GuideEditionRow) -> GuideEdition:
    return GuideEdition(
        event_type=EventType(row.event_type),
        number=row.number,
        published_at=row.published_at,
        events=row.events,
    )


def latest(session: Session, event_type: EventType) -> tuple[GuideEdition, str] | None:
    """The last edition of the type and its content's hash."""
    row = session.exec(
        select(GuideEditionRow)
        .where(GuideEditionRow.event_type == event_type.value)
        .order_by(col(GuideEditionRow.number).desc())
    ).first()
    return None if row is None else (_edition(row), row.content_hash)


def add(session: Session, edition: GuideEdition, content_hash: str, pdf: bytes) -> None:
    """Two publications racing for one number: the unique constraint refuses the
    second, whose activity is retried and finds the first."""
    session.add(
        GuideEditionRow(
            event_type=edition.event_type.value,
            number=edition.number,
            content_hash=content_hash,
            events=edition.events,
            published_at=edition.published_at,
            pdf=pdf,
        )
    )
    session.flush()


def pdf(session: Session, event_type: EventType, number: int) -> bytes | None:
    row = session.exec(
        select(GuideEditionRow).where(
            GuideEditionRow.event_type == event_type.value, GuideEditionRow.number == number
        )
    ).first()
    return None if row is None else row.pdf


def editions(session: Session, event_type: EventType) -> list[GuideEdition]:
    """Newest first."""
    rows = session.exec(
        select(GuideEditionRow)
        .where(GuideEditionRow.event_type == event_type.value)
        .order_by(col(GuideEditionRow.number).desc())
    ).all()
    return [_edition(row) for row in rows]


def already_left(session: Session, keys: Sequence[str]) -> set[str]:
    """Those of these idempotency keys whose message the provider already has."""
    if not keys:
        return set()
    rows = session.exec(
        select(OutboxRow.idempotency_key).where(
            col(OutboxRow.idempotency_key).in_(list(keys)), col(OutboxRow.status).in_(LEFT)
        )
    ).all()
    return set(rows)
