"""Received SMS and opt-outs."""

from collections.abc import Collection
from datetime import datetime

from sqlmodel import Session, col, select

from store.conflict_inserts import insert_new
from store.tables import InboundSmsRow, SmsOptOutRow, table_of


def record_first(
    session: Session, message_sid: str, *, sender: str, body: str, outcome: str, now: datetime
) -> bool:
    """Keep the message unless its MessageSid was seen; says whether it is new."""
    row = {
        "message_sid": message_sid,
        "sender": sender,
        "body": body,
        "outcome": outcome,
        "received_at": now,
    }
    return insert_new(session, table_of(InboundSmsRow), [row]) == 1


def seen(session: Session, message_sid: str) -> bool:
    return session.get(InboundSmsRow, message_sid) is not None


def opt_out(session: Session, phone: str, now: datetime) -> None:
    if session.get(SmsOptOutRow, phone) is None:
        session.add(SmsOptOutRow(phone=phone, opted_out_at=now))
        session.flush()


def opted_out_among(session: Session, phones: Collection[str]) -> set[str]:
    if not phones:
        return set()
    query = select(SmsOptOutRow.phone).where(col(SmsOptOutRow.phone).in_(phones))
    return set(session.exec(query).all())
