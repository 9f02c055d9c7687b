"""What the after-action report states, read from the crisis log and the answers:
every figure comes from log lines (their time, their subject, their counts), so
that the report and the main courante can never disagree. The map's centres are in
the state their workflow last recorded, written with the summary line each
department's reach is read from, so that the map's legend counts as that table."""

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from activities.area_map import MapState
from activities.centre_map import centre_shading
from definitions.committee import in_paris
from definitions.competence import TerritoryResolution
from definitions.crisis_log import CrisisLogEntry, CrisisLogKind
from definitions.durations import format_duration
from definitions.mobilisation import SupportState
from definitions.protocol import ReviewQuestion
from definitions.review import RespondentRole, ReviewCompilation, ReviewRound
from store.reviews import Lesson

LEFT_OUT_OF_CHRONOLOGY = frozenset({CrisisLogKind.SUPPORT_ANSWERED})
"""One line per centre's answer: counted in the reach table instead."""
MOBILISATION_KEY = "/mobilisation-"


class KeyDelay(BaseModel):
    label: str
    at: datetime | None
    after: timedelta | None

    @property
    def text(self) -> str:
        if self.at is None or self.after is None:
            return "non atteint"
        return f"{format_duration(self.after)} ({in_paris(self.at)})"


class DepartmentReach(BaseModel):
    code: str
    name: str
    centres: int
    requested: int
    delivered: int
    answered: int
    mobilised: int
    needs_support: int
    unanswered: int
    unreachable: int
    support_actions: int
    reinforcement_offers: int


class ChronologyLine(BaseModel):
    at: datetime
    actor: str
    text: str

    @property
    def when(self) -> str:
        return in_paris(self.at)


class LessonLine(BaseModel):
    round: str
    who: str
    text: str


class QuestionLessons(BaseModel):
    question: str
    lessons: list[LessonLine]


class PlanLine(BaseModel):
    what: str
    owner: str
    due: str
    state: str


class MobilisationCurve(BaseModel):
    """Centres mobilised (first answer OK or AIDE) over time, in one department."""

    department: str
    moments: list[datetime]


class ReviewFacts(BaseModel):
    event_id: str
    title: str
    type_label: str
    exercise: bool
    declared_at: datetime
    delays: list[KeyDelay]
    reach: list[DepartmentReach]
    chronology: list[ChronologyLine]
    support: list[ChronologyLine]
    lessons: list[QuestionLessons]
    answers: dict[str, str]
    plan: list[PlanLine]
    curves: list[MobilisationCurve]
    shaded: dict[str, str] = Field(description="INSEE code → its centre's state on the map")
    legend: list[MapState]


def _first(entries: list[CrisisLogEntry], kind: CrisisLogKind) -> datetime | None:
    return next((entry.at for entry in entries if entry.kind is kind), None)


def _department_of(entry: CrisisLogEntry) -> str:
    """``EVENT/mobilisation-59/12`` → ``59``."""
    _, _, rest = entry.entry_key.partition(MOBILISATION_KEY)
    return rest.partition("/")[0]


def first_answers(entries: list[CrisisLogEntry]) -> dict[str, CrisisLogEntry]:
    """Each centre's first answer (OK or AIDE): the moment it was mobilised."""
    first: dict[str, CrisisLogEntry] = {}
    for entry in entries:
        if entry.kind is CrisisLogKind.SUPPORT_ANSWERED and entry.subject:
            first.setdefault(entry.subject, entry)
    return first


def key_delays(entries: list[CrisisLogEntry]) -> list[KeyDelay]:
    declared = _first(entries, CrisisLogKind.EVENT_DECLARED)
    answers = sorted(entry.at for entry in first_answers(entries).values())
    moments = [
        (
            "Représentant(e) UNCCAS désigné(e)",
            _first(entries, CrisisLogKind.REPRESENTATIVE_DESIGNATED),
        ),
        ("DIAV et préfecture(s) informées", _first(entries, CrisisLogKind.STATE_INFORMED)),
        ("Premier CCAS/CIAS mobilisé", answers[0] if answers else None),
        ("Dernier CCAS/CIAS mobilisé", answers[-1] if answers else None),
    ]
    return [
        KeyDelay(label=label, at=at, after=at - declared if at and declared else None)
        for label, at in moments
    ]


def department_reach(entries: list[CrisisLogEntry], names: dict[str, str]) -> list[DepartmentReach]:
    """From each department's summary line (the last, should there be several)."""
    summaries = {
        entry.subject: entry.figures or {}
        for entry in entries
        if entry.kind is CrisisLogKind.MOBILISATION_SUMMARY
    }
    return [
        DepartmentReach(
            code=code,
            name=names.get(code, code),
            centres=figures.get("centres", 0),
            requested=figures.get("requested", 0),
            delivered=figures.get("delivered", 0),
            answered=figures.get("mobilised", 0) + figures.get("needs_support", 0),
            mobilised=figures.get("mobilised", 0),
            needs_support=figures.get("needs_support", 0),
            unanswered=figures.get("unanswered", 0),
            unreachable=figures.get("unreachable", 0),
            support_actions=figures.get("support_actions", 0),
            reinforcement_offers=figures.get("reinforcement_offers", 0),
        )
        for code, figures in sorted(summaries.items())
    ]


def mobilisation_curves(entries: list[CrisisLogEntry]) -> list[MobilisationCurve]:
    by_department: dict[str, list[datetime]] = defaultdict(list)
    for entry in first_answers(entries).values():
        by_department[_department_of(entry)].append(entry.at)
    return [
        MobilisationCurve(department=code, moments=sorted(moments))
        for code, moments in sorted(by_department.items())
    ]


def _who(lesson: Lesson) -> str:
    role = RespondentRole(lesson.role)
    if role is RespondentRole.REPRESENTATIVE:
        return role.label
    where = f" ({lesson.department_code})" if lesson.department_code else ""
    return f"{lesson.organisation_name or role.label}{where}"


def grouped_lessons(
    questions: list[ReviewQuestion], lessons: list[Lesson]
) -> list[QuestionLessons]:
    """Per question of the protocol, the hot debrief's answers then the formal ones."""
    order = {ReviewRound.HOT: 0, ReviewRound.FORMAL: 1}
    return [
        QuestionLessons(
            question=question.text,
            lessons=[
                LessonLine(round=lesson.round.label, who=_who(lesson), text=lesson.text)
                for lesson in sorted(lessons, key=lambda lesson: order[lesson.round])
                if lesson.question_id == question.id
            ],
        )
        for question in questions
    ]


def review_facts(
    compilation: ReviewCompilation,
    entries: list[CrisisLogEntry],
    lessons: list[Lesson],
    resolution: TerritoryResolution,
    states: Mapping[str, SupportState],
) -> ReviewFacts:
    """``states``: each centre's state as its department's workflow last recorded
    it, written with the summary lines the reach table reads."""
    declaration = compilation.declaration
    kept = [entry for entry in entries if entry.kind not in LEFT_OUT_OF_CHRONOLOGY]
    names = {department.code: department.name for department in resolution.departments}
    support_kinds = (CrisisLogKind.SUPPORT_ACTION, CrisisLogKind.REINFORCEMENT_ANSWERED)
    shaded, legend = centre_shading(resolution, states)
    return ReviewFacts(
        event_id=compilation.event_id,
        title=declaration.title,
        type_label=declaration.type.label,
        exercise=declaration.exercise,
        declared_at=_first(entries, CrisisLogKind.EVENT_DECLARED) or entries[0].at,
        delays=key_delays(entries),
        reach=department_reach(entries, names),
        chronology=[
            ChronologyLine(at=entry.at, actor=entry.actor, text=entry.text) for entry in kept
        ],
        support=[
            ChronologyLine(at=entry.at, actor=entry.actor, text=entry.text)
            for entry in entries
            if entry.kind in support_kinds
        ],
        lessons=grouped_lessons(compilation.questions, lessons),
        answers={
            progress.round.label: f"{progress.answered} réponse(s) sur {progress.invited}"
            for progress in compilation.rounds
        },
        plan=[
            PlanLine(
                what=task.what,
                owner=task.assignee.name,
                due=in_paris(task.due_at),
                state=task.state.label,
            )
            for task in compilation.actions
        ],
        curves=mobilisation_curves(entries),
        shaded=shaded,
        legend=legend,
    )
