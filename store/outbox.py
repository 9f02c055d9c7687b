"""The outbox: every outgoing message, written before the provider is called and
updated after, so that a retry knows whether the message already left."""

from datetime import datetime

from sqlmodel import Session, col, select

from definitions.outgoing import Channel, OutboxEntry, OutboxStatus
from store.tables import OutboxRow


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        key=row.idempotency_key,
        event_id=row.event_id,
        channel=Channel(row.channel),
        step=row.step,
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        status=OutboxStatus(row.status),
        provider_id=row.provider_id,
        error_code=row.error_code,
        provider_calls=row.provider_calls,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _find(session: Session, key: str) -> OutboxRow | None:
    return session.exec(select(OutboxRow).where(OutboxRow.idempotency_key == key)).first()


def claim(
    session: Session,
    *,
    key: str,
    event_id: str,
    channel: Channel,
    step: str,
    recipient: str,
    subject: str | None,
    body: str,
    now: datetime,
) -> OutboxEntry:
    """The message's row, written as pending the first time it is asked for."""
    existing = _find(session, key)
    if existing is not None:
        return _entry(existing)
    row = OutboxRow(
        idempotency_key=key,
        event_id=event_id,
        channel=channel.value,
        step=step,
        recipient=recipient,
        subject=subject,
        body=body,
        status=OutboxStatus.PENDING.value,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return _entry(row)


def mark(
    session: Session,
    key: str,
    status: OutboxStatus,
    now: datetime,
    *,
    provider_id: str | None = None,
    error_code: str | None = None,
) -> OutboxEntry:
    row = _find(session, key)
    if row is None:
        raise LookupError(f"no outbox row for {key}")
    row.status = status.value
    row.updated_at = now
    if status is OutboxStatus.SENDING:
        row.provider_calls += 1
    if provider_id is not None:
        row.provider_id = provider_id
    if error_code is not None:
        row.error_code = error_code
    session.add(row)
    session.flush()
    return _entry(row)


def record_delivery(
    session: Session, provider_id: str, status: OutboxStatus, error_code: str | None, now: datetime
) -> OutboxEntry | None:
    """A provider's status callback; None when the message is not Tocsin's."""
    row = session.exec(select(OutboxRow).where(OutboxRow.provider_id == provider_id)).first()
    if row is None:
        return None
    return mark(session, row.idempotency_key, status, now, error_code=error_code)


def entries(session: Session, event_id: str | None = None, limit: int = 50) -> list[OutboxEntry]:
    """Newest first."""
    query = select(OutboxRow).order_by(col(OutboxRow.id).desc()).limit(limit)
    if event_id is not None:
        query = query.where(OutboxRow.event_id == event_id)
    return [_entry(row) for row in session.exec(query).all()]
