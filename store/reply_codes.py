"""Open reply codes: what each phone may answer, and which workflow waits for it.

A task keeps one code for all its recipients. A new code avoids every code open
anywhere when it can, so that a code quoted from the wrong phone is recognised
as someone else's; it must at least be free for the task's own phones.
"""

import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from definitions.awaited_replies import AwaitedRecipient, AwaitedTask, ReplyCodeClosure
from definitions.replies import ReplyKeyword
from store.tables import ReplyCodeRow

CODE_SPACE = 10_000
GLOBAL_TRIES = 30


IS_OPEN = col(ReplyCodeRow.closed_at).is_(None)
WITHOUT_PHONE = AwaitedRecipient(contact_id="", phone="")
"""Keeps a task open for its web link when none of its recipients has a phone."""


def _draw(taken: set[str]) -> str | None:
    for _ in range(GLOBAL_TRIES):
        code = f"{secrets.randbelow(CODE_SPACE):04d}"
        if code not in taken:
            return code
    return None


def _new_code(session: Session, phones: Iterable[str], open_anywhere: set[str]) -> str:
    code = _draw(open_anywhere)
    if code is not None:
        return code
    phones = list(phones)
    taken_here = set(
        session.exec(select(ReplyCodeRow.code).where(IS_OPEN, col(ReplyCodeRow.phone).in_(phones)))
    )
    free = [f"{n:04d}" for n in range(CODE_SPACE) if f"{n:04d}" not in taken_here]
    return free[secrets.randbelow(len(free))]


def open_codes(
    session: Session, workflow_id: str, event_id: str, tasks: list[AwaitedTask], now: datetime
) -> dict[str, str]:
    """The code of each task, opened now unless the task already has one."""
    existing = {
        (row.task_key, row.phone): row
        for row in session.exec(
            select(ReplyCodeRow).where(IS_OPEN, ReplyCodeRow.workflow_id == workflow_id)
        )
    }
    codes = {task_key: row.code for (task_key, _), row in existing.items()}
    open_anywhere = set(session.exec(select(ReplyCodeRow.code).where(IS_OPEN).distinct()))
    for task in tasks:
        code = codes.get(task.task_key)
        if code is None:
            code = _new_code(session, (r.phone for r in task.recipients), open_anywhere)
            codes[task.task_key] = code
            open_anywhere.add(code)
        for recipient in task.recipients or [WITHOUT_PHONE]:
            if (task.task_key, recipient.phone) in existing:
                continue
            session.add(
                ReplyCodeRow(
                    code=code,
                    phone=recipient.phone,
                    contact_id=recipient.contact_id,
                    workflow_id=workflow_id,
                    task_key=task.task_key,
                    event_id=event_id,
                    keywords=",".join(keyword.value for keyword in task.keywords),
                    opened_at=now,
                )
            )
    session.flush()
    return {task.task_key: codes[task.task_key] for task in tasks}


def close_codes(session: Session, closure: ReplyCodeClosure, now: datetime) -> int:
    statement = update(ReplyCodeRow).where(
        IS_OPEN, col(ReplyCodeRow.workflow_id) == closure.workflow_id
    )
    if closure.task_keys:
        statement = statement.where(col(ReplyCodeRow.task_key).in_(closure.task_keys))
    result = session.exec(statement.values(closed_at=now))
    return result.rowcount


def codes_of_phone(session: Session, phone: str) -> list[ReplyCodeRow]:
    """Every code this phone was given, open ones first, newest first."""
    query = select(ReplyCodeRow).where(ReplyCodeRow.phone == phone)
    rows = session.exec(query.order_by(col(ReplyCodeRow.opened_at).desc())).all()
    return sorted(rows, key=lambda row: row.closed_at is not None)


def awaiting_message(session: Session, phone: str, outbox_key: str) -> ReplyCodeRow | None:
    """The open task an SMS was sent for: same phone, and the outbox key names the
    task's workflow and contact (see ``idempotency_key``)."""
    rows = session.exec(select(ReplyCodeRow).where(IS_OPEN, ReplyCodeRow.phone == phone))
    for row in rows:
        if outbox_key.startswith(row.workflow_id + "/") and f"/{row.contact_id}/" in outbox_key:
            return row
    return None


def keywords_of(row: ReplyCodeRow) -> list[ReplyKeyword]:
    return [ReplyKeyword(value) for value in row.keywords.split(",")]


def open_keywords(session: Session, workflow_id: str, task_key: str) -> list[ReplyKeyword]:
    """The answers the task takes, while it is open (none once closed)."""
    query = select(ReplyCodeRow).where(
        IS_OPEN, ReplyCodeRow.workflow_id == workflow_id, ReplyCodeRow.task_key == task_key
    )
    row = session.exec(query.limit(1)).first()
    return keywords_of(row) if row else []
