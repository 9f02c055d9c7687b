"""Messages leaving Tocsin, as workflows ask for them and the outbox records them."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from definitions.local_time import PARIS_ZONE

SMS_BODY_MAX = 1600
PERMANENT_DELIVERY_ERROR = "PermanentDeliveryError"
"""Type of the non-retryable error a workflow answers by trying the other channel."""
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024


class OutboxStatus(StrEnum):
    """``pending`` and ``sending`` are Tocsin's; the others are the provider's words.
    ``sending`` means the provider was called and its answer is not known yet."""

    PENDING = "pending"
    SENDING = "sending"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"

    @property
    def left(self) -> bool:
        """The provider has the message: sending it again would be a duplicate."""
        return self in (
            OutboxStatus.QUEUED,
            OutboxStatus.SENT,
            OutboxStatus.DELIVERED,
            OutboxStatus.UNDELIVERED,
        )


_PROVIDER_STATUSES = {
    "accepted": OutboxStatus.QUEUED,
    "scheduled": OutboxStatus.QUEUED,
    "queued": OutboxStatus.QUEUED,
    "sending": OutboxStatus.SENT,
    "sent": OutboxStatus.SENT,
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.DELIVERED,
    "undelivered": OutboxStatus.UNDELIVERED,
    "failed": OutboxStatus.FAILED,
}


def provider_status(status: str) -> OutboxStatus | None:
    """Twilio's message status in the outbox's words (its ``sending`` is our ``sent``)."""
    return _PROVIDER_STATUSES.get(status)


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    VOICE = "voice"


def idempotency_key(workflow_id: str, step: str, recipient_id: str, channel: Channel) -> str:
    """Workflow id + step + recipient: the same message, however often it is asked for."""
    return f"{workflow_id}/{step}/{recipient_id}/{channel.value}"


class SmsRequest(BaseModel):
    key: str = Field(max_length=300)
    event_id: str
    step: str
    to: str = Field(pattern=r"^\+[1-9]\d{7,14}$")
    body: str = Field(min_length=1, max_length=SMS_BODY_MAX)


class Attachment(BaseModel):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(pattern=r"^[a-z]+/[a-z0-9.+\-]+$")
    content: bytes = Field(max_length=ATTACHMENT_MAX_BYTES)


class CalendarMethod(StrEnum):
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


class CalendarInvite(BaseModel):
    """A meeting as an email carries it (RFC 5545 / iMIP): the same ``uid`` for every
    version, a higher ``sequence`` each time it moves or is cancelled."""

    uid: str = Field(min_length=1, max_length=200)
    sequence: int = Field(ge=0)
    method: CalendarMethod
    starts_at: datetime
    ends_at: datetime
    summary: str = Field(min_length=1, max_length=300)
    location: str = Field(max_length=300)
    description: str = Field(default="", max_length=2000)
    time_zone: str = Field(default=PARIS_ZONE, description="where the meeting is held")


class EmailRequest(BaseModel):
    key: str = Field(max_length=300)
    event_id: str
    step: str
    to: str
    subject: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1)
    attachments: list[Attachment] = Field(default_factory=list)
    in_reply_to: str | None = Field(
        default=None, description="Message-ID of the thread's first mail"
    )
    calendar: CalendarInvite | None = None


class SendResult(BaseModel):
    key: str
    status: OutboxStatus
    provider_id: str
    duplicate_suspected: bool = False


class BatchItemResult(BaseModel):
    """One message of a batch: handed to the provider, or refused for good (then
    ``refused`` is the provider's code and the workflow tries the other channel)."""

    key: str
    result: SendResult | None = None
    refused: str | None = None


class OutboxEntry(BaseModel):
    key: str
    event_id: str
    channel: Channel
    step: str
    recipient: str
    subject: str | None
    body: str
    status: OutboxStatus
    provider_id: str | None
    error_code: str | None
    provider_calls: int
    possible_duplicates: int = 0
    """Times the message was sent again when an earlier attempt may have left."""
    created_at: datetime
    updated_at: datetime
