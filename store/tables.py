"""SQLModel tables. Timestamps are stored and returned in UTC."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    LargeBinary,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import class_mapper
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """SQLite forgets time zones; this gives every timestamp back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: timestamps must carry a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_column(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable, index=index)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model, for statements written without the ORM
    (SQLModel sets ``__table__`` on such a model but does not declare it)."""
    table = class_mapper(model, configure=False).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


class EventRow(SQLModel, table=True):
    __tablename__ = "events"

    id: str = Field(primary_key=True, max_length=64)
    type: str = Field(max_length=32, index=True)
    title: str = Field(max_length=200)
    exercise: bool = False
    communes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    departments: list[str] = Field(sa_column=Column(JSON, nullable=False))
    declared_by: str = Field(max_length=100)
    phase: str = Field(max_length=32, index=True)
    declared_at: datetime = Field(sa_column=_utc_column(index=True))
    updated_at: datetime = Field(sa_column=_utc_column())
    closed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class CrisisLogRow(SQLModel, table=True):
    """One line of the main courante. Rows are never updated nor deleted."""

    __tablename__ = "crisis_log"

    id: int | None = Field(default=None, primary_key=True)
    entry_key: str = Field(max_length=200, unique=True)
    event_id: str = Field(foreign_key="events.id", index=True, max_length=64)
    at: datetime = Field(sa_column=_utc_column(index=True))
    actor: str = Field(max_length=100)
    kind: str = Field(max_length=64)
    text: str = Field(max_length=1000)
    subject: str = Field(default="", max_length=64, index=True)
    figures: dict[str, int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class CentreSupportRow(SQLModel, table=True):
    """A centre as its department's workflow last recorded it: what status reads
    use instead of querying the workflow. ``revision`` only grows."""

    __tablename__ = "centre_supports"

    workflow_id: str = Field(primary_key=True, max_length=200)
    organisation_id: str = Field(primary_key=True, max_length=64)
    event_id: str = Field(foreign_key="events.id", index=True, max_length=64)
    department_code: str = Field(max_length=3)
    revision: int
    state: str = Field(max_length=32)
    requested: bool
    delivered: bool
    support: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class OrganisationRow(SQLModel, table=True):
    __tablename__ = "organisations"

    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16, index=True)
    name: str = Field(max_length=200)
    insee_code: str | None = Field(default=None, max_length=5, index=True)
    epci_siren: str | None = Field(default=None, max_length=9, index=True)
    department_code: str | None = Field(default=None, max_length=3, index=True)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=16)


class ContactRow(SQLModel, table=True):
    __tablename__ = "contacts"

    id: str = Field(primary_key=True, max_length=64)
    organisation_id: str = Field(foreign_key="organisations.id", index=True, max_length=64)
    name: str = Field(max_length=200)
    role: str = Field(max_length=32, index=True)
    phone: str | None = Field(default=None, max_length=16)
    email: str | None = Field(default=None, max_length=320)
    roster_rank: int | None = Field(default=None)


class OutboxRow(SQLModel, table=True):
    """One outgoing message; written before the provider is called."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=300, unique=True)
    event_id: str = Field(max_length=64, index=True)
    channel: str = Field(max_length=8)
    step: str = Field(max_length=64)
    recipient: str = Field(max_length=320)
    subject: str | None = Field(default=None, max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16, index=True)
    provider_id: str | None = Field(default=None, max_length=200, index=True)
    error_code: str | None = Field(default=None, max_length=32)
    provider_calls: int = 0
    possible_duplicates: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(sa_column=_utc_column())
    updated_at: datetime = Field(sa_column=_utc_column())


class InboundSmsRow(SQLModel, table=True):
    """Every SMS received, once: Twilio may post the same MessageSid again."""

    __tablename__ = "inbound_sms"

    message_sid: str = Field(primary_key=True, max_length=64)
    sender: str = Field(max_length=32, index=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    outcome: str = Field(max_length=64)
    received_at: datetime = Field(sa_column=_utc_column())


class ParkedReceiptRow(SQLModel, table=True):
    """A delivery callback for a sid no message carries yet: the sending activity
    died between the provider's answer and its record, and its retry will find the
    message at the provider. Kept until then, each status once."""

    __tablename__ = "parked_receipts"

    message_sid: str = Field(primary_key=True, max_length=64)
    status: str = Field(primary_key=True, max_length=32)
    error_code: str | None = Field(default=None, max_length=32)
    received_at: datetime = Field(sa_column=_utc_column(index=True))


class SmsOptOutRow(SQLModel, table=True):
    """Numbers that answered STOP: no more SMS to them, email instead."""

    __tablename__ = "sms_opt_outs"

    phone: str = Field(primary_key=True, max_length=32)
    opted_out_at: datetime = Field(sa_column=_utc_column())


class ReplyCodeRow(SQLModel, table=True):
    """A code someone may quote in an SMS reply; one row per task and phone."""

    __tablename__ = "reply_codes"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=4)
    phone: str = Field(max_length=32, index=True)
    contact_id: str = Field(max_length=64)
    workflow_id: str = Field(max_length=200, index=True)
    task_key: str = Field(max_length=200)
    event_id: str = Field(max_length=64)
    keywords: str = Field(max_length=64, description="comma-separated reply keywords")
    opened_at: datetime = Field(sa_column=_utc_column())
    closed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class RepresentativeRow(SQLModel, table=True):
    """Who represents UNCCAS for each event (the latest designation)."""

    __tablename__ = "representatives"

    event_id: str = Field(primary_key=True, max_length=64)
    contact_id: str = Field(max_length=64, index=True)
    designated_at: datetime = Field(sa_column=_utc_column())


class ReviewInvitationRow(SQLModel, table=True):
    """One respondent asked in one round of an after-action review; answering
    closes it, so that its link serves once."""

    __tablename__ = "review_invitations"
    __table_args__ = (UniqueConstraint("event_id", "round", "respondent_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(foreign_key="events.id", index=True, max_length=64)
    round: str = Field(max_length=16)
    respondent_id: str = Field(max_length=64)
    role: str = Field(max_length=16)
    department_code: str = Field(default="", max_length=3)
    person_name: str = Field(max_length=200)
    organisation_name: str = Field(default="", max_length=200)
    invited_at: datetime = Field(sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column())
    answered_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class ReviewAnswerRow(SQLModel, table=True):
    __tablename__ = "review_answers"
    __table_args__ = (UniqueConstraint("invitation_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int = Field(foreign_key="review_invitations.id", index=True)
    question_id: str = Field(max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))


class ReviewReportRow(SQLModel, table=True):
    """The latest report of an event's review, kept whole for the guide and the
    console: its HTML, its PDF, and its lessons and actions as data."""

    __tablename__ = "review_reports"

    event_id: str = Field(foreign_key="events.id", primary_key=True, max_length=64)
    version: int
    event_type: str = Field(max_length=32, index=True)
    title: str = Field(max_length=200)
    exercise: bool = False
    declared_at: datetime = Field(sa_column=_utc_column())
    compiled_at: datetime = Field(sa_column=_utc_column(index=True))
    html: str = Field(sa_column=Column(Text, nullable=False))
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    lessons: list[dict[str, str]] = Field(sa_column=Column(JSON, nullable=False))
    actions: list[dict[str, str]] = Field(sa_column=Column(JSON, nullable=False))


class GuideEditionRow(SQLModel, table=True):
    """A numbered edition of a type's guide of good practice, as it was sent."""

    __tablename__ = "guide_editions"
    __table_args__ = (UniqueConstraint("event_type", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    event_type: str = Field(max_length=32)
    number: int
    content_hash: str = Field(max_length=64)
    events: int
    published_at: datetime = Field(sa_column=_utc_column())
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AccountRow(SQLModel, table=True):
    """A person who signs in to the console or calls the API."""

    __tablename__ = "accounts"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=32)
    contact_id: str | None = Field(default=None, max_length=64, index=True)
    department: str | None = Field(default=None, max_length=3)
    password_hash: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=_utc_column())


class ApiTokenRow(SQLModel, table=True):
    """A token for scripts; only its SHA-256 is kept, the token is shown once."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=_utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class WebSessionRow(SQLModel, table=True):
    """A signed-in browser; the cookie holds the secret, this row its SHA-256, so
    that any gateway of a deployment recognises it."""

    __tablename__ = "web_sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column(index=True))


class LoginFailureRow(SQLModel, table=True):
    """A refused sign-in, counted to slow down password guessing on every gateway."""

    __tablename__ = "login_failures"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = Field(sa_column=_utc_column(index=True))


class SendingScheduleRow(SQLModel, table=True):
    """The next free moment at the provider for one channel, shared by every worker
    process of a deployment (see store/sending_slots.py)."""

    __tablename__ = "sending_schedule"

    channel: str = Field(primary_key=True, max_length=8)
    next_slot: float


class OutboxCallbackRow(SQLModel, table=True):
    """A delivery callback as the provider posted it for a message, and whether it
    moved the message's status (callbacks come in any order)."""

    __tablename__ = "outbox_callbacks"

    id: int | None = Field(default=None, primary_key=True)
    outbox_key: str = Field(max_length=300, index=True)
    provider_id: str = Field(max_length=200)
    status: str = Field(max_length=16)
    error_code: str | None = Field(default=None, max_length=32)
    applied: bool
    received_at: datetime = Field(sa_column=_utc_column())


class DirectoryImportRow(SQLModel, table=True):
    """When the directory was replaced by an import: links issued before no longer
    name the same rows, and a campaign running says it took the new contacts."""

    __tablename__ = "directory_imports"

    id: int | None = Field(default=None, primary_key=True)
    imported_at: datetime = Field(sa_column=_utc_column())


class VerificationRequestRow(SQLModel, table=True):
    """One organisation asked to confirm its line in one verification campaign."""

    __tablename__ = "verification_requests"

    campaign_id: str = Field(primary_key=True, max_length=64)
    organisation_id: str = Field(primary_key=True, max_length=64)
    department_code: str | None = Field(default=None, max_length=3, index=True)
    asked_at: datetime = Field(sa_column=_utc_column())
    reminded_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    confirmed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    reported_silent_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class DirectoryConfirmationRow(SQLModel, table=True):
    """An organisation's last confirmation or correction of its line; kept across
    directory imports, which replace the organisations' rows."""

    __tablename__ = "directory_confirmations"

    organisation_id: str = Field(primary_key=True, max_length=64)
    confirmed_at: datetime = Field(sa_column=_utc_column(index=True))
    via: str = Field(max_length=8, description="sms or web")
    contact_id: str = Field(max_length=64)
    campaign_id: str = Field(max_length=64)


class DirectoryChangeRow(SQLModel, table=True):
    """One field corrected through the self-service page. Rows are never updated
    but for ``digested_at``, set once the day's digest has told the UD and UNCCAS."""

    __tablename__ = "directory_changes"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: str = Field(max_length=64, index=True)
    contact_id: str | None = Field(default=None, max_length=64)
    field: str = Field(max_length=32)
    before: str | None = Field(default=None, max_length=320)
    after: str | None = Field(default=None, max_length=320)
    changed_at: datetime = Field(sa_column=_utc_column(index=True))
    changed_by: str = Field(max_length=200)
    campaign_id: str = Field(max_length=64, description="the link's campaign")
    digested_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
