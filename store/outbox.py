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
from store.tables import OutboxCallbackRow, OutboxRow, table_of

_outbox = table_of(OutboxRow)
_callbacks = table_of(OutboxCallbackRow)
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
class OutboxCallback:
    """One delivery callback as received; ``applied`` when it moved the status."""

    status: OutboxStatus
    error_code: str | None
    applied: bool
    received_at: datetime


@dataclass(frozen=True)
class OutboxMark:
    """What became of a message; a field left None keeps its value."""

    key: str
    status: OutboxStatus
    provider_id: str | None = None
    error_code: str | None = None
    possible_duplicate: bool = False
    """Sent again although an earlier attempt may have left."""


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
        possible_duplicates=row.possible_duplicates,
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
                    "possible_duplicates": 0,
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
        possible_duplicates=_outbox.c.possible_duplicates + bindparam("duplicates"),
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
                "duplicates": 1 if mark.possible_duplicate else 0,
                "new_provider_id": mark.provider_id,
                "new_error_code": mark.error_code,
            }
            for mark in marks
        ],
    )


_STAGE = {
    OutboxStatus.PENDING: 0,
    OutboxStatus.SENDING: 1,
    OutboxStatus.QUEUED: 2,
    OutboxStatus.SENT: 3,
    OutboxStatus.DELIVERED: 4,
    OutboxStatus.UNDELIVERED: 4,
    OutboxStatus.FAILED: 4,
}
"""Twilio's order, ``queued < sending < sent < delivered | undelivered | failed``
(its ``sending`` is the outbox's ``sent``); the last stage is final."""


def _earlier_than(status: OutboxStatus) -> list[str]:
    return [earlier.value for earlier, stage in _STAGE.items() if stage < _STAGE[status]]


@dataclass(frozen=True)
class RecordedCallback:
    """A message after one of its delivery callbacks; ``moved`` when the callback
    took it forward (a late or repeated one does not)."""

    entry: OutboxEntry
    moved: bool


_ROW_BY_PROVIDER_ID = select(_outbox).where(_outbox.c.provider_id == bindparam("provider_id"))
_ROW_BY_KEY = select(_outbox).where(_outbox.c.idempotency_key == bindparam("key"))
_MOVE_FORWARD = (
    update(_outbox)
    .where(
        _outbox.c.idempotency_key == bindparam("key"),
        _outbox.c.status.in_(bindparam("earlier", expanding=True)),
    )
    .values(
        status=bindparam("status"),
        updated_at=bindparam("now"),
        error_code=func.coalesce(bindparam("error_code"), _outbox.c.error_code),
    )
)
_KEEP_CALLBACK = insert(_callbacks)
"""Built once: a delivery callback comes twice for each SMS of a national activation,
and building the statements cost the gateway as much as running them."""


def record_delivery(
    session: Session, provider_id: str, status: OutboxStatus, error_code: str | None, now: datetime
) -> RecordedCallback | None:
    """A provider's status callback, kept in the message's history; its status only
    moves forward, so a late ``sent`` never overwrites ``delivered`` and a final
    status stays. None when the message is not Tocsin's. A callback that moved the
    status gives the row as it read it with the values it wrote; one that did not,
    the row read again."""
    connection = session.connection()
    row = connection.execute(_ROW_BY_PROVIDER_ID, {"provider_id": provider_id}).first()
    if row is None:
        return None
    key = row.idempotency_key
    moved = (
        connection.execute(
            _MOVE_FORWARD,
            {
                "key": key,
                "earlier": _earlier_than(status),
                "status": status.value,
                "now": now,
                "error_code": error_code,
            },
        ).rowcount
        == 1
    )
    connection.execute(
        _KEEP_CALLBACK,
        {
            "outbox_key": key,
            "provider_id": provider_id,
            "status": status.value,
            "error_code": error_code,
            "applied": moved,
            "received_at": now,
        },
    )
    if not moved:
        return RecordedCallback(_entry(connection.execute(_ROW_BY_KEY, {"key": key}).one()), False)
    written = _entry(row).model_copy(
        update={"status": status, "updated_at": now, "error_code": error_code or row.error_code}
    )
    return RecordedCallback(written, True)


def callbacks(session: Session, key: str) -> list[OutboxCallback]:
    """A message's delivery callbacks, in the order they were received."""
    query = select(_callbacks).where(_callbacks.c.outbox_key == key).order_by(_callbacks.c.id)
    return [
        OutboxCallback(
            status=OutboxStatus(row.status),
            error_code=row.error_code,
            applied=row.applied,
            received_at=row.received_at,
        )
        for row in session.execute(query)
    ]


def entries(session: Session, event_id: str | None = None, limit: int = 50) -> list[OutboxEntry]:
    """Newest first."""
    query = select(_outbox).order_by(_outbox.c.id.desc()).limit(limit)
    if event_id is not None:
        query = query.where(_outbox.c.event_id == event_id)
    return [_entry(row) for row in session.execute(query)]


def entry(session: Session, key: str) -> OutboxEntry | None:
    """One message's row, if it was ever asked for."""
    return _rows_by_key(session, [key]).get(key)
