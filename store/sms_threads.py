"""SMS and calls as each phone saw them: what Tocsin sent it (the outbox) and what
it sent back (received SMS), for the console's phone simulator in the local
sandbox."""

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, func, select

from definitions.outgoing import Channel
from store.reply_codes import awaiting_message
from store.tables import ContactRow, InboundSmsRow, OutboxRow

THREAD_LENGTH = 100


class PhoneLine(BaseModel):
    number: str
    names: list[str]
    received: int
    last_at: datetime


class Sms(BaseModel):
    at: datetime
    incoming: bool
    """True for an SMS the phone received from Tocsin."""
    text: str


class PhoneCall(BaseModel):
    """A call Tocsin placed to this phone, as the provider knows it."""

    key: str
    call_sid: str
    at: datetime
    code: str | None
    """The reply code its keypad answers, while its question is open."""


PHONE_CHANNELS = (Channel.SMS.value, Channel.VOICE.value)


def phones(session: Session) -> list[PhoneLine]:
    """Every number Tocsin sent an SMS to or called, most recent first, with who
    has it."""
    rows = session.exec(
        select(OutboxRow.recipient, func.count(), func.max(OutboxRow.created_at))
        .where(col(OutboxRow.channel).in_(PHONE_CHANNELS))
        .group_by(col(OutboxRow.recipient))
        .order_by(func.max(OutboxRow.created_at).desc())
    ).all()
    numbers = [number for number, _, _ in rows]
    names: dict[str, list[str]] = {}
    for phone, name in session.exec(
        select(ContactRow.phone, ContactRow.name).where(col(ContactRow.phone).in_(numbers))
    ):
        names.setdefault(phone or "", []).append(name)
    return [
        PhoneLine(number=number, names=names.get(number, []), received=count, last_at=last_at)
        for number, count, last_at in rows
    ]


def thread(session: Session, number: str) -> list[Sms]:
    """The last SMS between Tocsin and this phone, oldest first."""
    sent = session.exec(
        select(OutboxRow.created_at, OutboxRow.body)
        .where(OutboxRow.channel == Channel.SMS.value, OutboxRow.recipient == number)
        .order_by(col(OutboxRow.id).desc())
        .limit(THREAD_LENGTH)
    ).all()
    received = session.exec(
        select(InboundSmsRow.received_at, InboundSmsRow.body)
        .where(InboundSmsRow.sender == number)
        .order_by(col(InboundSmsRow.received_at).desc())
        .limit(THREAD_LENGTH)
    ).all()
    messages = [Sms(at=at, incoming=True, text=text) for at, text in sent]
    messages += [Sms(at=at, incoming=False, text=text) for at, text in received]
    return sorted(messages, key=lambda sms: sms.at)[-THREAD_LENGTH:]


def last_call(session: Session, number: str) -> PhoneCall | None:
    """The latest call placed to this phone (one the provider took)."""
    row = session.exec(
        select(OutboxRow)
        .where(
            OutboxRow.channel == Channel.VOICE.value,
            OutboxRow.recipient == number,
            col(OutboxRow.provider_id).is_not(None),
        )
        .order_by(col(OutboxRow.id).desc())
        .limit(1)
    ).first()
    if row is None or row.provider_id is None:
        return None
    task = awaiting_message(session, number, row.idempotency_key)
    return PhoneCall(
        key=row.idempotency_key,
        call_sid=row.provider_id,
        at=row.created_at,
        code=task.code if task else None,
    )
