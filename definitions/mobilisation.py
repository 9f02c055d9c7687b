"""Mobilising the competent CCAS/CIAS of one department: each centre's support
request and answer, the support actions opened by AIDE, and what the status of a
department (or of the whole event) counts."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from definitions.competence import DepartmentTerritory
from definitions.crisis_log import CrisisLogEntry
from definitions.directory import OrganisationKind
from definitions.event import EventDeclaration
from definitions.long_runs import LongRunState
from definitions.outgoing import Channel
from definitions.people import Person
from definitions.protocol import MobilisationRules

SITUATION_REPORT_MAX_LENGTH = 480


class SupportState(StrEnum):
    """Where one centre stands, from the most to the least settled."""

    MOBILISED = "mobilised"
    NEEDS_SUPPORT = "needs_support"
    UNREACHABLE = "unreachable"
    UNANSWERED = "unanswered"
    DELIVERED = "delivered"
    REQUESTED = "requested"
    PENDING = "pending"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


_STATE_LABELS = {
    SupportState.MOBILISED: "mobilisé",
    SupportState.NEEDS_SUPPORT: "besoin de soutien",
    SupportState.UNREACHABLE: "injoignable",
    SupportState.UNANSWERED: "sans réponse (signalé)",
    SupportState.DELIVERED: "demande remise",
    SupportState.REQUESTED: "demande envoyée",
    SupportState.PENDING: "demande à envoyer",
}


class SupportTarget(BaseModel):
    """A competent centre as the directory gives it: director first, deputy next."""

    organisation_id: str
    kind: OrganisationKind
    name: str
    recipients: list[Person]


class CentreSupport(BaseModel):
    """One centre's support request, as the department's workflow holds it."""

    organisation_id: str
    kind: OrganisationKind
    name: str
    recipients: list[Person]
    code: str = ""
    reached: list[str] = Field(default_factory=list, description="``contact/channel`` sent")
    requested_at: datetime | None = None
    delivered_at: datetime | None = None
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    unreachable_at: datetime | None = None
    answer: str | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None

    @property
    def state(self) -> SupportState:
        if self.answer == "OK":
            return SupportState.MOBILISED
        if self.answer == "AIDE":
            return SupportState.NEEDS_SUPPORT
        if self.unreachable_at is not None:
            return SupportState.UNREACHABLE
        if self.escalated_at is not None:
            return SupportState.UNANSWERED
        if self.delivered_at is not None:
            return SupportState.DELIVERED
        if self.requested_at is not None:
            return SupportState.REQUESTED
        return SupportState.PENDING

    @property
    def channels(self) -> list[Channel]:
        return sorted({Channel(item.rsplit("/", 1)[1]) for item in self.reached})

    @property
    def awaits_answer(self) -> bool:
        return self.answer is None and self.unreachable_at is None

    @property
    def delivered(self) -> bool:
        """A receipt came, or an answer, which no undelivered request gets."""
        return self.delivered_at is not None or self.answer is not None


class SupportCounts(BaseModel):
    """``requested`` counts every centre the request was handed over for; the
    others count centres by where they stand now."""

    centres: int = 0
    requested: int = 0
    delivered: int = 0
    mobilised: int = 0
    needs_support: int = 0
    unanswered: int = 0
    unreachable: int = 0

    @classmethod
    def of(cls, centres: list[CentreSupport]) -> "SupportCounts":
        states = [centre.state for centre in centres]
        return cls(
            centres=len(centres),
            requested=sum(centre.requested_at is not None for centre in centres),
            delivered=sum(centre.delivered for centre in centres),
            mobilised=states.count(SupportState.MOBILISED),
            needs_support=states.count(SupportState.NEEDS_SUPPORT),
            unanswered=states.count(SupportState.UNANSWERED),
            unreachable=states.count(SupportState.UNREACHABLE),
        )

    def __add__(self, other: "SupportCounts") -> "SupportCounts":
        return SupportCounts(
            **{
                name: getattr(self, name) + getattr(other, name)
                for name in SupportCounts.model_fields
            }
        )


class CentreRecords(BaseModel):
    """Centres of one department as they changed, with the crisis-log lines of the
    same turn: written together, so that the API shows an answer when the crisis log
    does, without asking the workflow."""

    workflow_id: str
    event_id: str
    department_code: str
    revision: int = Field(
        ge=0, description="grows with the workflow's history; an older write changes nothing"
    )
    centres: list[CentreSupport]
    entries: list[CrisisLogEntry] = Field(default_factory=list)


class ReinforcementOffer(BaseModel):
    """A neighbouring centre asked to send reinforcement, and its answer."""

    organisation_id: str
    name: str
    distance_km: float
    director: Person
    code: str = ""
    accepts: bool | None = None
    answered_at: datetime | None = None


class SupportAction(BaseModel):
    """Opened when a centre answers AIDE; closes at the protocol's deadline."""

    organisation_id: str
    name: str
    opened_at: datetime
    deadline: datetime
    neighbours: list[ReinforcementOffer] = Field(default_factory=list)
    closed: bool = False

    @property
    def offers(self) -> list[ReinforcementOffer]:
        return [neighbour for neighbour in self.neighbours if neighbour.accepts]


class MobilisationStatus(BaseModel):
    """A department's answer to a status query, and its workflow's result."""

    department_code: str
    department_name: str
    counts: SupportCounts
    centres: list[CentreSupport]
    actions: list[SupportAction]
    reports_sent: int = 0
    finished: bool = False


class MobilisationOverview(BaseModel):
    """Counts per department and overall, as the CLI and the API show them."""

    departments: dict[str, SupportCounts]
    total: SupportCounts


class TargetsRequest(BaseModel):
    """The centres competent for ``declaration`` in one department that were not
    competent for ``previous`` (an extension mobilises only those)."""

    department_code: str
    declaration: EventDeclaration
    previous: EventDeclaration | None = None
    ask_deputy: bool


class NeighboursRequest(BaseModel):
    organisation_id: str
    department_code: str
    count: int = Field(ge=1, le=20)
    excluded: list[str] = Field(default_factory=list)


class AreaExtension(BaseModel):
    """Communes or whole departments added to an event's area."""

    communes: list[str] = Field(default_factory=list)
    departments: list[str] = Field(default_factory=list)
    requested_by: str = Field(min_length=1, max_length=100)


class AreaChange(BaseModel):
    """What a department's workflow is told when the event's area grows."""

    declaration: EventDeclaration
    previous: EventDeclaration


class SituationReport(BaseModel):
    """A point de situation for every mobilised centre of the event."""

    text: str = Field(min_length=1, max_length=SITUATION_REPORT_MAX_LENGTH)
    author: str = Field(min_length=1, max_length=100)


class MobilisationState(LongRunState):
    """Everything a department's workflow holds, carried as it is over continue-as-new."""

    representative: Person
    ud: list[Person] = Field(default_factory=list)
    centres: dict[str, CentreSupport] = Field(default_factory=dict)
    actions: dict[str, SupportAction] = Field(
        default_factory=dict, description="by the organisation_id of the centre in need"
    )
    reports_sent: int = 0
    escalations: int = 0
    reports: list[SituationReport] = Field(default_factory=list, description="to send")
    area_changes: list[AreaChange] = Field(default_factory=list, description="to mobilise")
    needs: list[str] = Field(
        default_factory=list, description="centres that answered AIDE, their action to open"
    )
    offers: list[tuple[str, str]] = Field(
        default_factory=list, description="(centre in need, helper) offers to pass on"
    )
    unrecorded: dict[str, datetime] = Field(
        default_factory=dict,
        description="centres changed since the store last recorded them, and since when",
    )


class MobilisationStart(BaseModel):
    """What a department's workflow needs of its event; ``previous`` is the area
    already mobilised elsewhere when the department joins through an extension."""

    event_id: str
    department: DepartmentTerritory
    declaration: EventDeclaration
    previous: EventDeclaration | None = None
    header: str
    rules: MobilisationRules
    representative: Person
    history_limit: int = Field(default=4000, description="events before continuing as new")
    state: MobilisationState | None = Field(default=None, description="the run before's")
