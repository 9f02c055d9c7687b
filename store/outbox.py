"""The outbox: every outgoing message, written before the provider is called and
updated after, so that a retry knows whether the message already left.

Written with SQL statements rather than ORM objects: a national activation
writes each of its thousands of rows twice, and the ORM's load-modify-flush
cost more than the provider calls."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlmodel import Session

from definitions.outgoing import Channel, OutboxEntry, OutboxStatus
from store.tables import OutboxRow, table_of

_outbox = table_of(OutboxRow)
_KEYS_PER_QUERY = 500


@dataclass(frozen=True)
class OutboxClaim:
    """A message about to be handed to a provider."""

    key: str
    event_id: str
    channel: Channel
    step: str
    recipient: str
    body: str
    subject: str | None = None


@dataclass(frozen=True)
class OutboxMark:
    """What became of a message; a field left None keeps its value."""

    key: str
    status: OutboxStatus
    provider_id: str | None = None
    error_code: str | None = None


def _entry(row: Row[Any]) -> OutboxEntry:
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


def _rows_by_key(session: Session, keys: Sequence[str]) -> dict[str, OutboxEntry]:
    found: dict[str, OutboxEntry] = {}
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[start : start + _KEYS_PER_QUERY]
        query = select(_outbox).where(_outbox.c.idempotency_key.in_(chunk))
        found |= {row.idempotency_key: _entry(row) for row in session.execute(query)}
    return found


def claim_all(
    session: Session, claims: Sequence[OutboxClaim], now: datetime
) -> dict[str, OutboxEntry]:
    """Each message's row by key, written as pending the first time it is asked for."""
    keys = [claim.key for claim in claims]
    existing = _rows_by_key(session, keys)
    new = {claim.key: claim for claim in claims if claim.key not in existing}
    if new:
        session.execute(
            insert(_outbox),
            [
                {
                    "idempotency_key": claim.key,
                    "event_id": claim.event_id,
                    "channel": claim.channel.value,
                    "step": claim.step,
                    "recipient": claim.recipient,
                    "subject": claim.subject,
                    "body": claim.body,
                    "status": OutboxStatus.PENDING.value,
                    "provider_calls": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for claim in new.values()
            ],
        )
    return existing | _rows_by_key(session, list(new))


_MARK = (
    update(_outbox)
    .where(_outbox.c.idempotency_key == bindparam("key"))
    .values(
        status=bindparam("new_status"),
        updated_at=bindparam("now"),
        provider_calls=_outbox.c.provider_calls + bindparam("calls"),
        provider_id=func.coalesce(bindparam("new_provider_id"), _outbox.c.provider_id),
        error_code=func.coalesce(bindparam("new_error_code"), _outbox.c.error_code),
    )
)


def mark_all(session: Session, marks: Sequence[OutboxMark], now: datetime) -> None:
    """Entering ``sending`` counts one more provider call."""
    if not marks:
        return
    session.connection().execute(
        _MARK,
        [
            {
                "key": mark.key,
                "new_status": mark.status.value,
                "now": now,
                "calls": 1 if mark.status is OutboxStatus.SENDING else 0,
                "new_provider_id": mark.provider_id,
                "new_error_code": mark.error_code,
            }
            for mark in marks
        ],
    )


def record_delivery(
    session: Session, provider_id: str, status: OutboxStatus, error_code: str | None, now: datetime
) -> OutboxEntry | None:
    """A provider's status callback; None when the message is not Tocsin's."""
    key = session.execute(
        select(_outbox.c.idempotency_key).where(_outbox.c.provider_id == provider_id)
    ).scalar()
    if key is None:
        return None
    mark_all(session, [OutboxMark(key, status, error_code=error_code)], now)
    return _rows_by_key(session, [key])[key]


def entries(session: Session, event_id: str | None = None, limit: int = 50) -> list[OutboxEntry]:
    """Newest first."""
    query = select(_outbox).order_by(_outbox.c.id.desc()).limit(limit)
    if event_id is not None:
        query = query.where(_outbox.c.event_id == event_id)
    return [_entry(row) for row in session.execute(query)]
