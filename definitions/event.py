"""A major event: what staff declare, and the status its workflow reports."""

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

COMMUNE_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
TITLE_MAX_LENGTH = 200


class EventType(StrEnum):
    """Kinds of major event; each has its own protocol."""

    ATTENTAT = "attentat"
    INONDATION = "inondation"
    TEMPETE = "tempete"
    ACCIDENT_COLLECTIF = "accident_collectif"
    ACCIDENT_INDUSTRIEL = "accident_industriel"
    CANICULE = "canicule"
    CRISE_SANITAIRE = "crise_sanitaire"

    @property
    def label(self) -> str:
        return _EVENT_TYPE_LABELS[self]


_EVENT_TYPE_LABELS = {
    EventType.ATTENTAT: "Attentat",
    EventType.INONDATION: "Inondation",
    EventType.TEMPETE: "Tempête",
    EventType.ACCIDENT_COLLECTIF: "Accident collectif",
    EventType.ACCIDENT_INDUSTRIEL: "Accident industriel",
    EventType.CANICULE: "Canicule",
    EventType.CRISE_SANITAIRE: "Crise sanitaire",
}


class Phase(StrEnum):
    """The protocol's phases, in the order an event goes through them."""

    DECLARED = "declared"
    REPRESENTATIVE = "representative"
    MOBILISATION = "mobilisation"
    COMMITTEE = "committee"
    REVIEW = "review"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return _PHASE_LABELS[self]


_PHASE_LABELS = {
    Phase.DECLARED: "déclaré",
    Phase.REPRESENTATIVE: "désignation du représentant",
    Phase.MOBILISATION: "mobilisation des CCAS/CIAS",
    Phase.COMMITTEE: "suivi des comités",
    Phase.REVIEW: "retour d'expérience",
    Phase.CLOSED: "clos",
}


class EventDeclaration(BaseModel):
    """What on-call staff give to activate Tocsin."""

    type: EventType
    communes: list[str] = Field(min_length=1)
    title: str = Field(min_length=1, max_length=TITLE_MAX_LENGTH)
    exercise: bool = False

    @field_validator("title", mode="before")
    @classmethod
    def _strip_title(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("communes")
    @classmethod
    def _check_commune_codes(cls, codes: list[str]) -> list[str]:
        """Corsica's 2A/2B are accepted in either case; duplicates are dropped."""
        malformed = [code for code in codes if not COMMUNE_CODE.match(code.strip().upper())]
        if malformed:
            raise ValueError(
                "code(s) commune INSEE mal formé(s) : "
                + ", ".join(malformed)
                + " (5 caractères, par exemple 59350 ou 2A004)"
            )
        return list(dict.fromkeys(code.strip().upper() for code in codes))


class EventStart(BaseModel):
    """The input of an event's workflow: the declaration and who made it."""

    event_id: str
    declaration: EventDeclaration
    declared_by: str


class PhaseChange(BaseModel):
    phase: Phase
    at: datetime


class EventCounters(BaseModel):
    communes: int
    crisis_log_entries: int = 0


class EventStatus(BaseModel):
    """What the event's workflow answers to a status query."""

    event_id: str
    type: EventType
    title: str
    exercise: bool
    communes: list[str]
    declared_by: str
    phase: Phase
    declared_at: datetime
    phases: list[PhaseChange]
    counters: EventCounters
    closed_at: datetime | None = None


class CloseRequest(BaseModel):
    """Staff standing the event down (levée du dispositif)."""

    closed_by: str
    reason: str = Field(default="", max_length=500)
