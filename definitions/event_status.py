"""What an event's workflow reports to a status query."""

from datetime import datetime

from pydantic import BaseModel, Field

from definitions.alert_levels import LevelChanged
from definitions.competence import TerritorySummary
from definitions.designation import DesignationStatus, Representative
from definitions.event import Phase
from definitions.event_type import EventType
from definitions.protocol import Protocol


class PhaseChange(BaseModel):
    phase: Phase
    at: datetime


class EventCounters(BaseModel):
    crisis_log_entries: int = 0
    """Written by the event's own workflow; its children write theirs too."""


class EventStatus(BaseModel):
    """What the event's workflow answers to a status query."""

    event_id: str
    type: EventType
    title: str
    exercise: bool
    communes: list[str]
    departments: list[str]
    declared_by: str
    phase: Phase
    declared_at: datetime
    phases: list[PhaseChange]
    counters: EventCounters
    territory: TerritorySummary | None = None
    protocol: Protocol | None = None
    closed_at: datetime | None = None
    representative: Representative | None = None
    designation: DesignationStatus | None = None
    mobilised_departments: list[str] = Field(default_factory=list)
    """Codes of the departments whose mobilisation workflow was started."""
    alert_levels: list[LevelChanged] = Field(default_factory=list)
    """Alert levels announced so far (a cyclone), the current one last."""
