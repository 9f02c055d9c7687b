"""A protocol: how Tocsin runs one type of event (delays, recipients, limits,
after-action questions). One TOML file per event type, editable by staff."""

from pydantic import BaseModel, ConfigDict, Field, field_validator

from definitions.durations import Duration
from definitions.event_type import EventType
from definitions.gsm7 import is_gsm7

_STRICT = ConfigDict(extra="forbid")


class DesignationRules(BaseModel):
    model_config = _STRICT

    answer_deadline: Duration = Field(description="per candidate, before asking the next one")
    round_pause: Duration = Field(description="after a round where nobody accepted")
    call_after: Duration | None = Field(
        default=None,
        description="a candidate still silent this long after the SMS is called (never if absent)",
    )


class MobilisationRules(BaseModel):
    model_config = _STRICT

    reminder_after: Duration
    escalation_after: Duration = Field(
        description="after the reminder, to the UD and representative"
    )
    reinforcement_answer_deadline: Duration
    ask_deputy: bool = Field(description="send support requests to deputies too")
    call_at_escalation: bool = Field(
        default=False,
        description="a centre still silent at escalation is called too (keypad 1 = OK, 2 = AIDE)",
    )


class CommitteeRules(BaseModel):
    model_config = _STRICT

    meeting_reminders_before: list[Duration] = Field(min_length=1)
    task_reminder_before: Duration
    task_escalation_after: Duration = Field(
        description="a late action goes to the representative at its due date, and this "
        "long after to on-call staff"
    )
    checkpoint_every: Duration = Field(description="point d'étape")


class ReviewRules(BaseModel):
    model_config = _STRICT

    hot_debrief_after: Duration
    formal_review_after: Duration
    answer_deadline: Duration
    reminder_after: Duration


class Recipients(BaseModel):
    model_config = _STRICT

    diav: bool = Field(description="inform the DIAV of the representative")
    prefectures: bool = Field(description="inform each affected department's prefecture")
    uds: bool = Field(description="inform each affected department's UD")
    departements: bool = Field(
        default=False,
        description="inform each affected department's conseil départemental, as its UD",
    )


class ReviewQuestion(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z_]+$")
    text: str = Field(min_length=5, max_length=500)


class AlertLevel(BaseModel):
    """A level as the prefecture announces it, and what the network is told to do."""

    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z_]+$")
    label: str = Field(min_length=3, max_length=40, description="« alerte rouge »")
    instructions: str = Field(min_length=5, max_length=300, description="sent to the centres")


class AlertZone(BaseModel):
    """The levels one zone's prefectures publish (La Réunion and Mayotte, the Antilles)."""

    model_config = _STRICT

    name: str = Field(min_length=3, max_length=60)
    departments: list[str] = Field(min_length=1)
    levels: list[AlertLevel] = Field(min_length=2)

    def level(self, level_id: str) -> AlertLevel | None:
        return next((level for level in self.levels if level.id == level_id), None)


class Protocol(BaseModel):
    model_config = _STRICT

    event_type: EventType
    sms_label: str = Field(min_length=3, max_length=30, description="GSM-7 capitals for headers")
    max_sms_segments: int = Field(ge=1, le=10)
    designation: DesignationRules
    mobilisation: MobilisationRules
    committee: CommitteeRules
    review: ReviewRules
    recipients: Recipients
    questions: list[ReviewQuestion] = Field(min_length=1)
    alert_zones: list[AlertZone] = Field(
        default_factory=list, description="alert levels, for the events that have them"
    )

    def alert_zone(self, departments: list[str]) -> AlertZone | None:
        """The zone of the first of these departments that has alert levels."""
        for code in departments:
            for zone in self.alert_zones:
                if code in zone.departments:
                    return zone
        return None

    @field_validator("sms_label")
    @classmethod
    def _gsm7_label(cls, label: str) -> str:
        if not is_gsm7(label):
            raise ValueError(f"« {label} » sort de l'alphabet GSM-7 (ex. TEMPETE, pas TEMPÊTE)")
        return label
