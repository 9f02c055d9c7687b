"""The after-action review (retour d'expérience): who is asked, the questionnaire's
two rounds, the action plan, and the report the network keeps."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from definitions.awaited_replies import ReplyReceived
from definitions.committee import CommitteeTask
from definitions.event import EventDeclaration
from definitions.long_runs import LongRunState
from definitions.people import Person
from definitions.protocol import CommitteeRules, ReviewQuestion, ReviewRules

ANSWER_MAX_LENGTH = 4000
MAX_PLANNED_ACTIONS = 50
ACTION_PLAN_MEETING = "retour-experience"
"""What a tracked task of the action plan shows where a committee's shows its meeting."""


class ReviewRound(StrEnum):
    HOT = "a-chaud"
    FORMAL = "formel"

    @property
    def label(self) -> str:
        return "débriefing à chaud" if self is ReviewRound.HOT else "retour d'expérience formel"


class RespondentRole(StrEnum):
    REPRESENTATIVE = "representative"
    CENTRE = "centre"
    UD = "ud"

    @property
    def label(self) -> str:
        return {
            RespondentRole.REPRESENTATIVE: "représentant(e) UNCCAS",
            RespondentRole.CENTRE: "CCAS/CIAS",
            RespondentRole.UD: "union départementale",
        }[self]


class Respondent(BaseModel):
    """A contact (the representative) or an organisation (a centre, a UD), which
    answers through its director or president when the directory names one."""

    respondent_id: str
    role: RespondentRole
    department_code: str = ""


class QuestionnaireOpening(BaseModel):
    """A page of respondents to invite to one round."""

    event_id: str
    round: ReviewRound
    respondents: list[Respondent]
    deadline_at: datetime


class QuestionnairePage(BaseModel):
    """Respondents still to answer a round, a page at a time (for reminders)."""

    event_id: str
    round: ReviewRound
    after: str = ""
    limit: int = 200


class QuestionnaireClosing(BaseModel):
    event_id: str
    round: ReviewRound


class QuestionnaireInvite(BaseModel):
    """Who answers for a respondent, and their own link to the form."""

    respondent_id: str
    person: Person
    form_url: str


class InvitePage(BaseModel):
    invites: list[QuestionnaireInvite]
    last: str = Field(description="the page's last respondent id, '' when the page is empty")


class RoundProgress(BaseModel):
    round: ReviewRound
    opens_at: datetime
    deadline_at: datetime
    invited: int = 0
    reminded: int = 0
    answered: int = 0
    sent: bool = False
    reminder_sent: bool = False
    closed: bool = False


class PlannedAction(BaseModel):
    """An action of the plan, as staff enter it: what, who (directory id), by when."""

    what: str = Field(min_length=1, max_length=300)
    owner_id: str = Field(min_length=1, max_length=100)
    due: date
    planned_by: str = Field(min_length=1, max_length=100)


class ReviewStatus(BaseModel):
    event_id: str
    questions: list[ReviewQuestion]
    rounds: list[RoundProgress]
    tasks: list[CommitteeTask] = Field(description="the action plan")
    report_version: int = 0
    compiled_at: datetime | None = None
    finished: bool = False


class AnswerCount(BaseModel):
    invited: int = 0
    answered: int = 0


class ReviewCompilation(BaseModel):
    """What the report activity is asked to build: the event as it ended (its area
    may have grown since it was declared), its questions, and the plan."""

    event_id: str
    declaration: EventDeclaration
    questions: list[ReviewQuestion]
    version: int
    rounds: list[RoundProgress]
    actions: list[CommitteeTask]


class CompiledReport(BaseModel):
    event_id: str
    version: int
    lessons: int
    html_bytes: int
    pdf_bytes: int


class ReviewState(LongRunState):
    """Everything the review workflow holds, carried as it is over continue-as-new:
    its action plan can be followed for months after the report."""

    rounds: list[RoundProgress]
    tasks: dict[str, CommitteeTask] = Field(default_factory=dict)
    replies: list[ReplyReceived] = Field(default_factory=list, description="to take")
    report: CompiledReport | None = None
    compiled_at: datetime | None = None


class ReviewStart(BaseModel):
    event_id: str
    declaration: EventDeclaration
    header: str
    rules: ReviewRules
    task_rules: CommitteeRules = Field(description="how the action plan's tasks are followed")
    questions: list[ReviewQuestion]
    representative: Person | None
    respondents: list[Respondent]
    closed_at: datetime
    state: ReviewState | None = Field(default=None, description="the run before's")
    history_limit: int = Field(default=2000, description="events before continuing as new")


class QuestionnaireAnswers(BaseModel):
    """What the web form posts: one text per question id; blanks are dropped."""

    answers: dict[str, str] = Field(max_length=20)

    @field_validator("answers")
    @classmethod
    def _keep_written(cls, answers: dict[str, str]) -> dict[str, str]:
        kept = {key: text.strip() for key, text in answers.items() if text.strip()}
        for key, text in kept.items():
            if len(text) > ANSWER_MAX_LENGTH:
                raise ValueError(
                    f"réponse « {key} » trop longue ({ANSWER_MAX_LENGTH} caractères au plus)"
                )
        if not kept:
            raise ValueError("le questionnaire est vide : répondez au moins à une question")
        return kept


class GuideLesson(BaseModel):
    question: str
    text: str
    who: str


class GuideAction(BaseModel):
    what: str
    owner: str
    due: str
    state: str


class GuideEntry(BaseModel):
    """One reviewed event in the guide of good practice of its type."""

    event_id: str
    title: str
    exercise: bool
    declared_at: datetime
    compiled_at: datetime
    report_path: str
    lessons: list[GuideLesson]
    actions: list[GuideAction]


def report_path(event_id: str, extension: str = "html") -> str:
    return f"/api/events/{event_id}/review/report.{extension}"
