"""Delivery callbacks kept until the sid they name is recorded on its message.

A worker killed between the provider's answer and the record of the sid leaves the
message ``sending`` until the retry of its batch finds it at the provider, about a
heartbeat timeout later; the provider's callbacks for it arrive meanwhile and are
kept here instead of being lost. The gateway tries them again until they land."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, select

from definitions.outgoing import OutboxStatus
from store import outbox
from store.conflict_inserts import insert_new
from store.tables import OutboxRow, ParkedReceiptRow, table_of


@dataclass(frozen=True)
class ParkedReceipt:
    message_sid: str
    status: OutboxStatus
    error_code: str | None


def park(
    session: Session,
    message_sid: str,
    status: OutboxStatus,
    error_code: str | None,
    now: datetime,
) -> None:
    """Kept once per sid and status: the same callback posted again changes nothing."""
    row = {
        "message_sid": message_sid,
        "status": status.value,
        "error_code": error_code,
        "received_at": now,
    }
    insert_new(session, table_of(ParkedReceiptRow), [row])


def landable(session: Session, limit: int) -> list[ParkedReceipt]:
    """Those whose sid a message now carries, the oldest first, as the provider sent
    them: receipts that will never land do not hold up those that can."""
    query = (
        select(ParkedReceiptRow)
        .join(OutboxRow, col(OutboxRow.provider_id) == col(ParkedReceiptRow.message_sid))
        .order_by(col(ParkedReceiptRow.received_at))
        .limit(limit)
    )
    return [
        ParkedReceipt(row.message_sid, OutboxStatus(row.status), row.error_code)
        for row in session.exec(query)
    ]


def land(session: Session, receipt: ParkedReceipt, now: datetime) -> outbox.RecordedCallback | None:
    """Records a landable receipt on its message and forgets it; None when another
    gateway took it first. In a session of its own, committed only on success."""
    taken = session.exec(
        delete(ParkedReceiptRow).where(
            col(ParkedReceiptRow.message_sid) == receipt.message_sid,
            col(ParkedReceiptRow.status) == receipt.status.value,
        )
    )
    if taken.rowcount != 1:
        return None
    return outbox.record_delivery(
        session, receipt.message_sid, receipt.status, receipt.error_code, now
    )


def drop_received_before(session: Session, before: datetime) -> int:
    """Says how many were dropped: callbacks for messages that never were Tocsin's."""
    dropped = session.exec(
        delete(ParkedReceiptRow).where(col(ParkedReceiptRow.received_at) < before)
    )
    return dropped.rowcount
