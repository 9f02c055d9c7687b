"""Replies a workflow waits for: each task gets a four-digit code that its
recipients quote (``OUI 4821``); the gateway routes a quoted code, or a bare
keyword from someone with a single open task, to the waiting workflow."""

from datetime import datetime

from pydantic import BaseModel, Field

from definitions.outgoing import Channel
from definitions.people import Person
from definitions.replies import ReplyKeyword


class AwaitedRecipient(BaseModel):
    contact_id: str
    phone: str


class AwaitedTask(BaseModel):
    """``task_key`` names the task inside its workflow (a candidate, a CCAS)."""

    task_key: str = Field(min_length=1, max_length=200)
    keywords: list[ReplyKeyword] = Field(min_length=1)
    recipients: list[AwaitedRecipient]

    @classmethod
    def from_people(
        cls, task_key: str, keywords: list[ReplyKeyword], people: list[Person]
    ) -> "AwaitedTask":
        """Awaited from these people: by SMS from those with a phone (the others
        answer through a link, when the task has one)."""
        return cls(
            task_key=task_key,
            keywords=keywords,
            recipients=[
                AwaitedRecipient(contact_id=person.contact_id, phone=person.phone)
                for person in people
                if person.phone
            ],
        )


class ReplyCodeRequest(BaseModel):
    workflow_id: str
    event_id: str
    tasks: list[AwaitedTask]
    links_valid_until: datetime | None = Field(
        default=None, description="web links outlive their usual validity until then"
    )


class ReplyCodeClosure(BaseModel):
    """Closes the listed tasks of the workflow, or all of them when none is listed."""

    workflow_id: str
    task_keys: list[str] = Field(default_factory=list)


class ReplyReceived(BaseModel):
    """The signal a workflow receives for an SMS answering one of its tasks."""

    task_key: str
    contact_id: str
    keyword: ReplyKeyword
    code: str
    accepts: bool | None = None
    message_sid: str
    received_at: datetime


class DeliveryFailed(BaseModel):
    """The signal a workflow receives when a message it awaits an answer to bounced."""

    task_key: str
    contact_id: str
    channel: Channel
    step: str
    error_code: str | None = None


class DeliveryReceipt(BaseModel):
    """The provider confirmed that a message a workflow tracks reached the phone."""

    task_key: str
    contact_id: str
    step: str


class DeliveryReceipts(BaseModel):
    """The signal a workflow receives: the receipts of the last moments, together."""

    receipts: list[DeliveryReceipt]
