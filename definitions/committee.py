"""The committee phase: the CLAV convened by the prefect in each affected department,
its meetings, the actions decided there, and the quarterly checkpoints (points
d'étape), as the CommitteeLiaisonWorkflow holds them and the API receives them."""

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, computed_field, field_validator

from definitions.awaited_replies import ReplyReceived
from definitions.durations import Duration
from definitions.event import DEPARTMENT_CODE, EventDeclaration
from definitions.local_time import PARIS_ZONE, in_zone, zone_info
from definitions.long_runs import LongRunState
from definitions.people import Person
from definitions.protocol import CommitteeRules

PARIS = zone_info(PARIS_ZONE)
TASK_DUE_TIME = time(18, 0)
"""An action is due at the end of the working day of its due date, where its
assignee is."""
DEFAULT_MEETING_LENGTH = timedelta(hours=2)
MAX_MEMBERS = 200
MAX_ACTIONS = 50
SUMMARY_MAX_LENGTH = 4000


def _paris_if_naive(value: datetime) -> datetime:
    """Staff type local times: a time without offset is Paris time."""
    return value.replace(tzinfo=PARIS) if value.tzinfo is None else value


ParisDateTime = Annotated[datetime, AfterValidator(_paris_if_naive)]


def in_paris(moment: datetime) -> str:
    """``mardi 16/03/2027 à 14h30``, as staff and the crisis log read a moment."""
    return in_zone(moment, PARIS_ZONE)


def task_due_at(due: date, zone: str = PARIS_ZONE) -> datetime:
    return datetime.combine(due, TASK_DUE_TIME, zone_info(zone)).astimezone(UTC)


class CommitteeRegistration(BaseModel):
    """A CLAV as staff or the representative register it."""

    department_code: str = Field(pattern=DEPARTMENT_CODE.pattern)
    name: str = Field(min_length=1, max_length=200)
    place: str = Field(min_length=1, max_length=300)
    member_ids: list[str] = Field(default_factory=list, max_length=MAX_MEMBERS)
    registered_by: str = Field(min_length=1, max_length=100)


class Committee(BaseModel):
    committee_id: str
    department_code: str
    name: str
    place: str
    members: list[Person]
    registered_by: str
    registered_at: datetime


class MeetingRegistration(BaseModel):
    committee_id: str = Field(min_length=1, max_length=100)
    starts_at: ParisDateTime
    length: Duration = DEFAULT_MEETING_LENGTH
    place: str | None = Field(default=None, max_length=300)
    invitee_ids: list[str] = Field(default_factory=list, max_length=MAX_MEMBERS)
    registered_by: str = Field(min_length=1, max_length=100)

    @field_validator("length")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if not timedelta(minutes=15) <= value <= timedelta(hours=12):
            raise ValueError("une réunion dure entre 15 minutes et 12 heures")
        return value


class MeetingMove(BaseModel):
    meeting_id: str = Field(min_length=1, max_length=100)
    starts_at: ParisDateTime
    place: str | None = Field(default=None, max_length=300)
    requested_by: str = Field(min_length=1, max_length=100)


class MeetingCancellation(BaseModel):
    meeting_id: str = Field(min_length=1, max_length=100)
    reason: str = Field(default="", max_length=300)
    requested_by: str = Field(min_length=1, max_length=100)


class ActionItem(BaseModel):
    """What the committee decided, who from the directory does it, and by when."""

    what: str = Field(min_length=1, max_length=300)
    assignee_id: str = Field(min_length=1, max_length=100)
    due: date


class MeetingReport(BaseModel):
    meeting_id: str = Field(min_length=1, max_length=100)
    summary: str = Field(min_length=1, max_length=SUMMARY_MAX_LENGTH)
    actions: list[ActionItem] = Field(default_factory=list, max_length=MAX_ACTIONS)
    recorded_by: str = Field(min_length=1, max_length=100)


class Meeting(BaseModel):
    meeting_id: str
    committee_id: str
    uid: str = Field(description="the invitation's UID, the same for every update")
    starts_at: datetime
    ends_at: datetime
    place: str
    invitees: list[Person]
    sequence: int = 0
    reminders_sent: int = Field(default=0, description="of the protocol's reminders, in order")
    cancelled_at: datetime | None = None
    summary: str | None = None

    @property
    def held(self) -> bool:
        return self.cancelled_at is None and self.summary is not None


class TaskState(StrEnum):
    OPEN = "open"
    LATE = "late"
    ESCALATED = "escalated"
    DONE = "done"

    @property
    def label(self) -> str:
        return {
            TaskState.OPEN: "en cours",
            TaskState.LATE: "en retard",
            TaskState.ESCALATED: "en retard, signalée à l'astreinte",
            TaskState.DONE: "faite",
        }[self]


class CommitteeTask(BaseModel):
    task_id: str
    meeting_id: str
    what: str
    assignee: Person
    due_at: datetime
    code: str = ""
    assigned_at: datetime
    reminded_at: datetime | None = None
    overdue_at: datetime | None = None
    escalated_at: datetime | None = None
    done_at: datetime | None = None
    done_by: str | None = None

    @computed_field  # type: ignore[prop-decorator]  # mypy cannot see through pydantic's decorator
    @property
    def state(self) -> TaskState:
        """Also in the task's JSON, so that API clients need not work it out."""
        if self.done_at is not None:
            return TaskState.DONE
        if self.escalated_at is not None:
            return TaskState.ESCALATED
        if self.overdue_at is not None:
            return TaskState.LATE
        return TaskState.OPEN


class TaskList(BaseModel):
    """The tasks of a workflow that follows some (committee or review), as the
    answer page reads them from its status."""

    tasks: list[CommitteeTask]


class Checkpoint(BaseModel):
    """A point d'étape: the quarter's summary, and whether the liaison goes on."""

    number: int
    at: datetime
    meetings_held: int
    tasks_done: int
    tasks_open: int
    centres_needing_support: list[str]
    code: str = ""
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None


class CommitteeState(LongRunState):
    """Everything the committee workflow holds, carried as it is over continue-as-new."""

    started_at: datetime
    representative: Person
    committees: dict[str, Committee] = Field(default_factory=dict)
    meetings: dict[str, Meeting] = Field(default_factory=dict)
    tasks: dict[str, CommitteeTask] = Field(default_factory=dict)
    checkpoints: list[Checkpoint] = Field(default_factory=list)
    replies: list[ReplyReceived] = Field(default_factory=list, description="to take")


class CommitteeStart(BaseModel):
    event_id: str
    declaration: EventDeclaration
    header: str
    rules: CommitteeRules
    representative: Person
    departments: list[str] = Field(description="codes of the affected departments")
    centres_needing_support: list[str] = Field(
        default_factory=list, description="names of the centres that answered AIDE"
    )
    state: CommitteeState | None = Field(default=None, description="the run before's")
    history_limit: int = Field(default=2000, description="events before continuing as new")


class CommitteeStatus(BaseModel):
    """The committee workflow's answer to a status query, and its result."""

    event_id: str
    started_at: datetime
    generation: int = Field(description="1 for the first run, one more per continue-as-new")
    representative: Person
    committees: list[Committee]
    meetings: list[Meeting]
    tasks: list[CommitteeTask]
    checkpoints: list[Checkpoint]
    centres_needing_support: list[str]
    finished: bool = False


class CommitteePhaseRequest(BaseModel):
    requested_by: str = Field(min_length=1, max_length=100)
