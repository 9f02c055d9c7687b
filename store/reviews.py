"""After-action reviews in the database: who was asked in each round, what they
answered (once), and the reports the guide of good practice is made of."""

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import update
from sqlmodel import Session, col, select

from definitions.review import (
    AnswerCount,
    GuideAction,
    GuideEntry,
    GuideLesson,
    QuestionnaireOpening,
    ReviewRound,
    report_path,
)
from store.tables import ReviewAnswerRow, ReviewInvitationRow, ReviewReportRow


class InvitedPerson(BaseModel):
    """The name and organisation an invitation keeps for the form and the report."""

    name: str
    organisation_name: str


class Lesson(BaseModel):
    """One answer to one question, with who gave it (role and department only)."""

    round: ReviewRound
    question_id: str
    role: str
    department_code: str
    organisation_name: str
    text: str


def invite(
    session: Session,
    opening: QuestionnaireOpening,
    people: dict[str, InvitedPerson],
    now: datetime,
) -> list[ReviewInvitationRow]:
    """The round's invitations of the respondents found in ``people``, made now
    unless they exist; the link of each expires at the round's deadline."""
    respondents = [r for r in opening.respondents if r.respondent_id in people]
    ids = [respondent.respondent_id for respondent in respondents]
    existing = {
        row.respondent_id: row
        for row in session.exec(
            select(ReviewInvitationRow).where(
                ReviewInvitationRow.event_id == opening.event_id,
                ReviewInvitationRow.round == opening.round.value,
                col(ReviewInvitationRow.respondent_id).in_(ids),
            )
        )
    }
    for respondent in respondents:
        if respondent.respondent_id in existing:
            continue
        person = people[respondent.respondent_id]
        row = ReviewInvitationRow(
            event_id=opening.event_id,
            round=opening.round.value,
            respondent_id=respondent.respondent_id,
            role=respondent.role.value,
            department_code=respondent.department_code,
            person_name=person.name,
            organisation_name=person.organisation_name,
            invited_at=now,
            expires_at=opening.deadline_at,
        )
        session.add(row)
        existing[respondent.respondent_id] = row
    session.flush()
    return [existing[key] for key in ids]


def unanswered(
    session: Session, event_id: str, round: ReviewRound, after: str, limit: int
) -> list[ReviewInvitationRow]:
    """A page of the round's open invitations, in respondent order."""
    query = select(ReviewInvitationRow).where(
        ReviewInvitationRow.event_id == event_id,
        ReviewInvitationRow.round == round.value,
        col(ReviewInvitationRow.answered_at).is_(None),
        ReviewInvitationRow.respondent_id > after,
    )
    return list(session.exec(query.order_by(col(ReviewInvitationRow.respondent_id)).limit(limit)))


def invitation(session: Session, invitation_id: int) -> ReviewInvitationRow | None:
    return session.get(ReviewInvitationRow, invitation_id)


def record_answers(
    session: Session, invitation_id: int, answers: dict[str, str], now: datetime
) -> bool:
    """Keep the answers and mark the invitation answered; False if it was already
    answered or its round has closed (a link serves once, even when two
    submissions race)."""
    closing = (
        update(ReviewInvitationRow)
        .where(
            col(ReviewInvitationRow.id) == invitation_id,
            col(ReviewInvitationRow.answered_at).is_(None),
            col(ReviewInvitationRow.closed_at).is_(None),
        )
        .values(answered_at=now)
    )
    if session.exec(closing).rowcount != 1:
        return False
    for question_id, text in answers.items():
        session.add(
            ReviewAnswerRow(invitation_id=invitation_id, question_id=question_id, text=text)
        )
    session.flush()
    return True


def close_round(session: Session, event_id: str, round: ReviewRound, now: datetime) -> AnswerCount:
    """The round's unanswered invitations closed (their links refused from now on,
    whatever clock the gateway reads); how many were invited and answered."""
    of_round = (
        col(ReviewInvitationRow.event_id) == event_id,
        col(ReviewInvitationRow.round) == round.value,
    )
    session.execute(
        update(ReviewInvitationRow)
        .where(*of_round, col(ReviewInvitationRow.answered_at).is_(None))
        .where(col(ReviewInvitationRow.closed_at).is_(None))
        .values(closed_at=now)
    )
    answered = session.exec(select(ReviewInvitationRow.answered_at).where(*of_round)).all()
    return AnswerCount(invited=len(answered), answered=sum(1 for at in answered if at is not None))


def lessons(session: Session, event_id: str) -> list[Lesson]:
    query = (
        select(ReviewInvitationRow, ReviewAnswerRow)
        .join(ReviewAnswerRow, col(ReviewAnswerRow.invitation_id) == col(ReviewInvitationRow.id))
        .where(ReviewInvitationRow.event_id == event_id)
        .order_by(col(ReviewInvitationRow.answered_at), col(ReviewAnswerRow.id))
    )
    return [
        Lesson(
            round=ReviewRound(row.round),
            question_id=answer.question_id,
            role=row.role,
            department_code=row.department_code,
            organisation_name=row.organisation_name,
            text=answer.text,
        )
        for row, answer in session.exec(query)
    ]


def save_report(session: Session, report: ReviewReportRow) -> None:
    """The newer version replaces the older; a retried write changes nothing."""
    current = session.get(ReviewReportRow, report.event_id)
    if current is not None and current.version >= report.version:
        return
    if current is not None:
        session.delete(current)
        session.flush()
    session.add(report)
    session.flush()


def report(session: Session, event_id: str) -> ReviewReportRow | None:
    return session.get(ReviewReportRow, event_id)


def reports_of_type(session: Session, event_type: str) -> list[ReviewReportRow]:
    """Every reviewed event of this type, the most recent event first."""
    query = select(ReviewReportRow).where(ReviewReportRow.event_type == event_type)
    return list(session.exec(query.order_by(col(ReviewReportRow.declared_at).desc())))


def guide(session: Session, event_type: str) -> list[GuideEntry]:
    """The guide of good practice of one event type: each reviewed event's lessons
    and actions, the most recent event first."""
    return [
        GuideEntry(
            event_id=row.event_id,
            title=row.title,
            exercise=row.exercise,
            declared_at=row.declared_at,
            compiled_at=row.compiled_at,
            report_path=report_path(row.event_id),
            lessons=[GuideLesson.model_validate(lesson) for lesson in row.lessons],
            actions=[GuideAction.model_validate(action) for action in row.actions],
        )
        for row in reports_of_type(session, event_type)
    ]
