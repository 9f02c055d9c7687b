"""The crisis log (main courante): an append-only journal of what happened."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from definitions.event import EventDeclaration, Phase

SYSTEM_ACTOR = "tocsin"
ENTRY_TEXT_MAX_LENGTH = 1000


class CrisisLogKind(StrEnum):
    EVENT_DECLARED = "event_declared"
    TERRITORY_RESOLVED = "territory_resolved"
    PHASE_STARTED = "phase_started"
    CLOSE_REQUESTED = "close_requested"
    CANDIDATE_ASKED = "candidate_asked"
    CANDIDATE_ANSWERED = "candidate_answered"
    STAFF_ALERTED = "staff_alerted"
    REPRESENTATIVE_DESIGNATED = "representative_designated"
    STATE_INFORMED = "state_informed"
    DELIVERY_FALLBACK = "delivery_fallback"
    DELIVERY_FAILED = "delivery_failed"
    MOBILISATION_STARTED = "mobilisation_started"
    SUPPORT_REQUESTED = "support_requested"
    SUPPORT_ANSWERED = "support_answered"
    SUPPORT_REMINDED = "support_reminded"
    SUPPORT_ESCALATED = "support_escalated"
    SUPPORT_ACTION = "support_action"
    REINFORCEMENT_ANSWERED = "reinforcement_answered"
    SITUATION_REPORT = "situation_report"
    ALERT_LEVEL_CHANGED = "alert_level_changed"
    AREA_EXTENDED = "area_extended"
    LIAISON_OPENED = "liaison_opened"
    LIAISON_CLOSED = "liaison_closed"
    COMMITTEE_REGISTERED = "committee_registered"
    MEETING_SCHEDULED = "meeting_scheduled"
    MEETING_MOVED = "meeting_moved"
    MEETING_CANCELLED = "meeting_cancelled"
    MEETING_REMINDED = "meeting_reminded"
    MEETING_REPORTED = "meeting_reported"
    TASK_ASSIGNED = "task_assigned"
    TASK_REMINDED = "task_reminded"
    TASK_DONE = "task_done"
    TASK_OVERDUE = "task_overdue"
    CHECKPOINT = "checkpoint"
    CHECKPOINT_CONFIRMED = "checkpoint_confirmed"
    MOBILISATION_SUMMARY = "mobilisation_summary"
    REVIEW_OPENED = "review_opened"
    QUESTIONNAIRE_SENT = "questionnaire_sent"
    QUESTIONNAIRE_REMINDED = "questionnaire_reminded"
    QUESTIONNAIRE_ANSWERED = "questionnaire_answered"
    QUESTIONNAIRE_CLOSED = "questionnaire_closed"
    REVIEW_COMPILED = "review_compiled"
    REVIEW_FINISHED = "review_finished"


class CrisisLogEntry(BaseModel):
    """One thing that happened. ``entry_key`` makes a retried write land once."""

    entry_key: str
    event_id: str
    at: datetime
    actor: str
    kind: CrisisLogKind
    text: str = Field(max_length=ENTRY_TEXT_MAX_LENGTH)
    subject: str = Field(default="", description="the centre or department the line is about")
    figures: dict[str, int] | None = Field(
        default=None, description="counts the after-action report reads instead of the text"
    )


class CrisisLogSequence(BaseModel):
    """Where a workflow stands in its own sequence of entries: how many it has
    numbered, and those made but not written yet."""

    numbered: int = 0
    unwritten: list[CrisisLogEntry] = Field(default_factory=list)


class DeclarationRecord(BaseModel):
    """The event as the store keeps it, written with its first log entry."""

    event_id: str
    declaration: EventDeclaration
    declared_by: str
    declared_at: datetime
    entry: CrisisLogEntry


class PhaseRecord(BaseModel):
    """A phase change, recorded on the event and in its crisis log together."""

    phase: Phase
    entry: CrisisLogEntry


class AreaRecord(BaseModel):
    """The event's whole area after an extension, recorded on the event (whose
    departments decide which unions reach it) and in its crisis log together."""

    communes: list[str]
    departments: list[str]
    entry: CrisisLogEntry
