"""A major event: what staff declare, and the status its workflow reports."""

import re
from enum import StrEnum

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from definitions.event_type import EventType

COMMUNE_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
DEPARTMENT_CODE = re.compile(r"^(\d{2,3}|2[AB])$")
TITLE_MAX_LENGTH = 200
PLACE_MAX_LENGTH = 100
MAX_COMMUNES = 40_000
MAX_DEPARTMENTS = 120


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


def _canonical_code(place: str) -> str:
    """2a004 → 2A004, 2b → 2B, 9 → 09; anything else is kept as typed."""
    upper = place.upper()
    if COMMUNE_CODE.match(upper) or DEPARTMENT_CODE.match(upper):
        return upper
    return f"0{place}" if place.isdigit() and len(place) == 1 else place


def _clean_places(values: list[str]) -> list[str]:
    """Strip, drop blanks and duplicates, write codes the canonical way."""
    cleaned = []
    for value in values:
        place = value.strip()
        if len(place) > PLACE_MAX_LENGTH:
            raise ValueError(
                f"« {place[:20]}… » est trop long ({PLACE_MAX_LENGTH} caractères au plus)"
            )
        if place:
            cleaned.append(_canonical_code(place))
    return list(dict.fromkeys(cleaned))


class EventDeclaration(BaseModel):
    """What on-call staff give to activate Tocsin: the affected area is a list of
    communes (INSEE codes), of whole departments, or both. Whether the codes exist
    is checked against the territory before anything starts."""

    type: EventType
    communes: list[str] = Field(default_factory=list, max_length=MAX_COMMUNES)
    departments: list[str] = Field(
        default_factory=list, max_length=MAX_DEPARTMENTS, validate_default=True
    )
    title: str = Field(min_length=1, max_length=TITLE_MAX_LENGTH)
    exercise: bool = False

    @field_validator("title", mode="before")
    @classmethod
    def _strip_title(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("communes")
    @classmethod
    def _clean_communes(cls, values: list[str]) -> list[str]:
        return _clean_places(values)

    @field_validator("departments")
    @classmethod
    def _clean_departments_and_require_an_area(
        cls, values: list[str], info: ValidationInfo
    ) -> list[str]:
        """Checked here rather than on the model, so that the problem is listed
        with every other one instead of hiding behind them."""
        departments = _clean_places(values)
        if not departments and not info.data.get("communes"):
            raise ValueError("indiquez au moins une commune (code INSEE) ou un département touché")
        return departments


AREA_CODES_SHOWN = 10


def describe_area(communes: list[str], departments: list[str]) -> str:
    """The declared area in one short French phrase, for logs and messages."""

    def listed(codes: list[str]) -> str:
        shown = ", ".join(codes[:AREA_CODES_SHOWN])
        hidden = len(codes) - AREA_CODES_SHOWN
        return shown + (f"… (+{hidden})" if hidden > 0 else "")

    parts = []
    if departments:
        parts.append(f"département(s) {listed(departments)}")
    if communes:
        parts.append(f"commune(s) {listed(communes)}")
    return " et ".join(parts)


class EventStart(BaseModel):
    """The input of an event's workflow: the declaration and who made it."""

    event_id: str
    declaration: EventDeclaration
    declared_by: str


class CloseRequest(BaseModel):
    """Staff standing the event down (levée du dispositif)."""

    closed_by: str
    reason: str = Field(default="", max_length=500)
    review: bool = Field(
        default=True, description="False: no after-action review (an event declared by mistake)"
    )
