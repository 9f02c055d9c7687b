"""Designating the UNCCAS representative: who was asked, how each answered, and
who represents the network for the event."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from definitions.competence import TerritorySummary
from definitions.event import EventDeclaration
from definitions.outgoing import Channel, EmailRequest
from definitions.people import Person
from definitions.protocol import DesignationRules, Recipients


class Answer(StrEnum):
    WAITING = "waiting"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    RELEASED = "released"
    BUSY = "busy"
    UNREACHABLE = "unreachable"

    @property
    def label(self) -> str:
        return _ANSWER_LABELS[self]


_ANSWER_LABELS = {
    Answer.WAITING: "sans réponse",
    Answer.ACCEPTED: "a accepté",
    Answer.DECLINED: "a décliné",
    Answer.RELEASED: "libéré(e), un(e) autre a été désigné(e)",
    Answer.BUSY: "déjà représentant(e) d'un autre événement",
    Answer.UNREACHABLE: "injoignable",
}


class DesignationMode(StrEnum):
    ROSTER = "roster"
    MANUAL = "manual"


class Attempt(BaseModel):
    """One candidate asked in one round."""

    contact_id: str
    name: str
    code: str
    round: int
    asked_at: datetime
    channels: list[Channel]
    answer: Answer = Answer.WAITING
    answered_at: datetime | None = None


class Representative(BaseModel):
    person: Person
    designated_at: datetime
    mode: DesignationMode
    designated_by: str


class RepresentativeChange(BaseModel):
    """Staff designating someone (``contact_id``), or asking for a new search."""

    contact_id: str | None = Field(default=None, max_length=64)
    requested_by: str = Field(min_length=1, max_length=100)


class DesignationStart(BaseModel):
    """What the designation workflow needs of its event: it reads nothing else."""

    event_id: str
    generation: int = Field(ge=1, description="1, then one more per handover")
    declaration: EventDeclaration
    header: str
    rules: DesignationRules
    recipients: Recipients
    territory: TerritorySummary
    manual: RepresentativeChange | None = None
    previous: Representative | None = None


class DesignationStatus(BaseModel):
    """What the designation workflow reports to its event, at every step."""

    generation: int
    searching: bool
    finished: bool = False
    round: int = 0
    attempts: list[Attempt] = Field(default_factory=list)
    representative: Representative | None = None


class RepresentativeClaim(BaseModel):
    event_id: str
    contact_id: str
    allow_busy: bool


class ClaimOutcome(BaseModel):
    granted: bool
    busy_with: str | None = None
    """The other active event this person already represents."""


class BriefingRequest(BaseModel):
    """The briefing email; its CSV lists are attached by the activity, from the
    directory, so that a national list never travels through the history."""

    email: EmailRequest
    declaration: EventDeclaration
