"""Accounts, API tokens, browser sessions and refused sign-ins. Secrets handed to
people (tokens, session cookies) are kept only as SHA-256; passwords as Argon2id."""

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import bindparam, case, delete, func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from definitions.accounts import Account, AccountRequest, ApiTokenInfo, Role
from definitions.department_scope import area_departments
from definitions.territory import load_territory
from store.tables import (
    AccountRow,
    ApiTokenRow,
    EventRow,
    LoginFailureRow,
    RepresentativeRow,
    WebSessionRow,
)

HASHER = PasswordHasher()
SESSION_LIFETIME = timedelta(hours=12)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_LOGIN = 5
"""Refusals of one login from one address before each attempt has to wait."""
FIRST_DELAY = timedelta(seconds=2)
"""The wait after the first refusal past that; it doubles with each one, up to the
window: guessing is slowed where it comes from, and nobody can keep a login's owner
out by typing wrong passwords from elsewhere."""
MAX_FAILURES_PER_ADDRESS = 30
"""Refusals from one address, whatever the logins, before it waits out the window."""


class AccountExistsError(ValueError):
    def __init__(self, login: str) -> None:
        super().__init__(f"le compte {login} existe déjà")


class TooManyAttemptsError(RuntimeError):
    """Too many refused sign-ins lately, for this login from this address or from
    this address for any login; ``retry_after`` says how long to wait."""

    def __init__(self, login: str, retry_after: timedelta) -> None:
        super().__init__(login)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignedIn:
    account: Account
    csrf_token: str


@functools.cache
def _unknown_login_hash() -> str:
    """What an unknown login's password is checked against, so that it takes as long
    as a known one; made at the first sign-in, not at import, since every CLI command
    imports this module and a hash is slow by design."""
    return HASHER.hash("tocsin: no such login")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _account(row: AccountRow) -> Account:
    assert row.id is not None
    return Account(
        id=row.id,
        login=row.login,
        name=row.name,
        role=Role(row.role),
        contact_id=row.contact_id,
        department=row.department,
    )


def create_account(session: Session, request: AccountRequest, now: datetime) -> Account:
    if session.exec(select(AccountRow).where(AccountRow.login == request.login)).first():
        raise AccountExistsError(request.login)
    row = AccountRow(
        login=request.login,
        name=request.name,
        role=request.role.value,
        contact_id=request.contact_id,
        department=request.department,
        password_hash=HASHER.hash(request.password),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _account(row)


def set_password(session: Session, login: str, password: str) -> Account:
    """The new password; every browser signed in with the old one is signed out."""
    row = session.exec(select(AccountRow).where(AccountRow.login == login)).first()
    if row is None:
        raise LookupError(f"compte inconnu : {login}")
    row.password_hash = HASHER.hash(password)
    session.add(row)
    session.execute(delete(WebSessionRow).where(col(WebSessionRow.account_id) == row.id))
    session.flush()
    return _account(row)


def account_named(session: Session, login: str) -> Account | None:
    row = session.exec(select(AccountRow).where(AccountRow.login == login)).first()
    return None if row is None else _account(row)


def _wait_before_trying(
    session: Session, login: str, address: str, now: datetime
) -> timedelta | None:
    """How long this login from this address must still wait, or None."""
    since = now - FAILURE_WINDOW
    by_address = session.exec(
        select(func.count(), func.min(LoginFailureRow.at)).where(
            LoginFailureRow.address == address, LoginFailureRow.at > since
        )
    ).one()
    if by_address[0] >= MAX_FAILURES_PER_ADDRESS:
        return by_address[1] + FAILURE_WINDOW - now
    count, last = session.exec(
        select(func.count(), func.max(LoginFailureRow.at)).where(
            LoginFailureRow.login == login,
            LoginFailureRow.address == address,
            LoginFailureRow.at > since,
        )
    ).one()
    if count < MAX_FAILURES_PER_LOGIN:
        return None
    delay = min(FIRST_DELAY * 2 ** (count - MAX_FAILURES_PER_LOGIN), FAILURE_WINDOW)
    wait = last + delay - now
    return wait if wait > timedelta(0) else None


def authenticate(
    session: Session, login: str, password: str, address: str, now: datetime
) -> Account | None:
    """The account if the password is right; every refusal is counted. Past the limits,
    this login from this address (or anything from an address that refused too often)
    is refused, even with the right password, until its wait is over."""
    wait = _wait_before_trying(session, login, address, now)
    if wait is not None:
        raise TooManyAttemptsError(login, wait)
    row = session.exec(select(AccountRow).where(AccountRow.login == login)).first()
    try:
        HASHER.verify(row.password_hash if row else _unknown_login_hash(), password)
    except (VerifyMismatchError, InvalidHashError):
        row = None
    if row is None:
        session.add(LoginFailureRow(login=login[:64], address=address[:64], at=now))
        session.flush()
        return None
    if HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = HASHER.hash(password)
        session.add(row)
    session.execute(delete(LoginFailureRow).where(col(LoginFailureRow.at) < now - FAILURE_WINDOW))
    return _account(row)


def open_session(session: Session, account: Account, now: datetime) -> tuple[str, SignedIn]:
    """The cookie's secret, and who it signs in."""
    secret = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(24)
    session.add(
        WebSessionRow(
            token_hash=_digest(secret),
            account_id=account.id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.execute(delete(WebSessionRow).where(col(WebSessionRow.expires_at) < now))
    session.flush()
    return secret, SignedIn(account, csrf_token)


def session_account(session: Session, secret: str, now: datetime) -> SignedIn | None:
    row = session.exec(
        select(WebSessionRow, AccountRow)
        .join(AccountRow, col(AccountRow.id) == col(WebSessionRow.account_id))
        .where(WebSessionRow.token_hash == _digest(secret), WebSessionRow.expires_at > now)
    ).first()
    if row is None:
        return None
    web_session, account = row
    return SignedIn(_account(account), web_session.csrf_token)


def close_session(session: Session, secret: str) -> None:
    session.execute(delete(WebSessionRow).where(col(WebSessionRow.token_hash) == _digest(secret)))


def create_token(session: Session, login: str, name: str, now: datetime) -> tuple[str, int]:
    """A new token for the account (shown once) and its id."""
    account = account_named(session, login)
    if account is None:
        raise LookupError(f"compte inconnu : {login}")
    token = "tocsin_" + secrets.token_urlsafe(32)
    row = ApiTokenRow(account_id=account.id, name=name, token_hash=_digest(token), created_at=now)
    session.add(row)
    session.flush()
    assert row.id is not None
    return token, row.id


TOKEN_ACCOUNT = (
    core_select(
        col(AccountRow.id),
        col(AccountRow.login),
        col(AccountRow.name),
        col(AccountRow.role),
        col(AccountRow.contact_id),
        col(AccountRow.department),
    )
    .join(ApiTokenRow, col(ApiTokenRow.account_id) == col(AccountRow.id))
    .where(
        col(ApiTokenRow.token_hash) == bindparam("token_hash"),
        col(ApiTokenRow.revoked_at).is_(None),
    )
)
"""Built once and run on the connection: every API call asks it, and the ORM's
statement building and loading took most of a status read's time."""


def token_account(session: Session, token: str) -> Account | None:
    found = session.connection().execute(TOKEN_ACCOUNT, {"token_hash": _digest(token)})
    row = found.mappings().first()
    return None if row is None else Account.model_validate(dict(row))


def revoke_token(session: Session, token_id: int, now: datetime) -> bool:
    """Says whether a live token was revoked."""
    row = session.get(ApiTokenRow, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    session.add(row)
    session.flush()
    return True


def tokens(session: Session) -> list[ApiTokenInfo]:
    rows = session.exec(
        select(ApiTokenRow, AccountRow.login)
        .join(AccountRow, col(AccountRow.id) == col(ApiTokenRow.account_id))
        .order_by(col(ApiTokenRow.id))
    ).all()
    return [
        ApiTokenInfo(
            id=token.id or 0,
            login=login,
            name=token.name,
            created_at=token.created_at,
            revoked_at=token.revoked_at,
        )
        for token, login in rows
    ]


def represents(session: Session, account: Account, event_id: str) -> bool:
    """Whether the account's contact is the event's representative now."""
    if account.contact_id is None:
        return False
    row = session.get(RepresentativeRow, event_id)
    return row is not None and row.contact_id == account.contact_id


def _in_department(row: EventRow, department: str | None) -> bool:
    return department in area_departments(row.communes, row.departments, load_territory())


def reaches_event(session: Session, account: Account, event_id: str) -> bool:
    """Whether a representative represents the event now, or whether the event
    touches a departmental union's department (which then reads only its own
    department's part of it)."""
    if account.role is Role.UD:
        row = session.get(EventRow, event_id)
        return row is not None and _in_department(row, account.department)
    return represents(session, account, event_id)


def holds_event(session: Session, account: Account, event_id: str) -> bool:
    """Whether the account acts on the whole event: a representative on the event
    they represent now, a departmental union on an event wholly within its
    department (one that spreads further is led by UNCCAS's on-call staff)."""
    if account.role is Role.UD:
        row = session.get(EventRow, event_id)
        return row is not None and area_departments(
            row.communes, row.departments, load_territory()
        ) == {account.department}
    return represents(session, account, event_id)


def visible_events(session: Session, account: Account) -> list[EventRow]:
    """Active events first, newest first; a representative sees only theirs, a
    departmental union those of its department."""
    query = select(EventRow)
    if account.role is Role.REPRESENTATIVE:
        query = query.join(
            RepresentativeRow, col(RepresentativeRow.event_id) == col(EventRow.id)
        ).where(RepresentativeRow.contact_id == (account.contact_id or ""))
    closed_last = case((col(EventRow.closed_at).is_(None), 0), else_=1)
    query = query.order_by(closed_last, col(EventRow.declared_at).desc())
    rows = list(session.exec(query).all())
    if account.role is Role.UD:
        return [row for row in rows if _in_department(row, account.department)]
    return rows
