"""The deployment's sending schedule: one row per channel holds the next free
moment at the provider, so that every worker process, on every machine sharing
the database, takes its sending slots from the same timeline.

Temporal's task-queue rate limit counts activities, and a batch activity carries
up to fifty SMS: the server cannot space the SMS themselves. A slot is taken by
one UPDATE that both reads and moves the row, so two processes never get the
same moment; no lock is held while a message is sent."""

from sqlalchemy import case, literal, update
from sqlmodel import Session

from definitions.outgoing import Channel
from store.tables import SendingScheduleRow, table_of

sending_schedule = table_of(SendingScheduleRow)


def take_slots(
    session: Session, channel: Channel, count: int, interval: float, now: float
) -> float:
    """The first of ``count`` consecutive slots ``interval`` seconds apart, none
    before ``now`` (seconds since the epoch); the next caller's start after them."""
    column = sending_schedule.c.next_slot
    start = case((column > now, column), else_=literal(now))
    taken = session.execute(
        update(sending_schedule)
        .where(sending_schedule.c.channel == channel.value)
        .values(next_slot=start + count * interval)
        .returning(sending_schedule.c.next_slot)
    ).scalar_one()
    return float(taken) - count * interval
