"""The after-action questionnaire's invitations: who answers for each respondent,
their invitation recorded, and their own signed link to the form."""

from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from sqlmodel import Session
from temporalio import activity

from activities.people import answering_person
from activities.reply_codes import AnswerLinkSettings
from definitions.answer_links import QUESTIONNAIRE_PATH, QuestionnaireClaim, answer_url, sign_link
from definitions.people import Person
from definitions.review import (
    AnswerCount,
    InvitePage,
    QuestionnaireClosing,
    QuestionnaireInvite,
    QuestionnaireOpening,
    QuestionnairePage,
    Respondent,
    RespondentRole,
)
from definitions.temporal_names import (
    CLOSE_QUESTIONNAIRES,
    OPEN_QUESTIONNAIRES,
    UNANSWERED_QUESTIONNAIRES,
)
from store import reviews
from store.database import Store
from store.tables import ReviewInvitationRow

log = structlog.get_logger(__name__)


class ReviewQuestionnaireActivities:
    def __init__(self, store: Store, links: AnswerLinkSettings) -> None:
        self._store = store
        self._links = links

    def _invite(self, row: ReviewInvitationRow, person: Person) -> QuestionnaireInvite:
        assert row.id is not None
        token = sign_link(
            self._links.secret, QuestionnaireClaim(invitation_id=row.id, expires_at=row.expires_at)
        )
        return QuestionnaireInvite(
            respondent_id=row.respondent_id,
            person=person,
            form_url=answer_url(self._links.public_url, token, QUESTIONNAIRE_PATH),
        )

    @staticmethod
    def _people(session: Session, respondents: list[Respondent]) -> dict[str, Person]:
        """Respondents gone from the directory since the event are left out."""
        people = {}
        for respondent in respondents:
            person = answering_person(session, respondent.respondent_id)
            if person is None:
                log.warning("review.respondent_unknown", respondent=respondent.respondent_id)
            else:
                people[respondent.respondent_id] = person
        return people

    @activity.defn(name=OPEN_QUESTIONNAIRES)
    def open_questionnaires(self, opening: QuestionnaireOpening) -> list[QuestionnaireInvite]:
        """Invitations and links for a page of respondents; the same again when retried."""
        with self._store.session() as session:
            people = self._people(session, opening.respondents)
            rows = reviews.invite(
                session,
                opening,
                {
                    key: reviews.InvitedPerson(
                        name=person.name, organisation_name=person.organisation_name
                    )
                    for key, person in people.items()
                },
                datetime.now(UTC),
            )
            session.commit()
        log.info("review.invited", round=opening.round.value, respondents=len(rows))
        return [self._invite(row, people[row.respondent_id]) for row in rows]

    @activity.defn(name=UNANSWERED_QUESTIONNAIRES)
    def unanswered_questionnaires(self, page: QuestionnairePage) -> InvitePage:
        """The next page of respondents who have not answered, with their same link."""
        with self._store.session() as session:
            rows = reviews.unanswered(session, page.event_id, page.round, page.after, page.limit)
            people = self._people(
                session,
                [
                    Respondent(respondent_id=row.respondent_id, role=RespondentRole(row.role))
                    for row in rows
                ],
            )
        return InvitePage(
            invites=[
                self._invite(row, people[row.respondent_id])
                for row in rows
                if row.respondent_id in people
            ],
            last=rows[-1].respondent_id if rows else "",
        )

    @activity.defn(name=CLOSE_QUESTIONNAIRES)
    def close_questionnaires(self, closing: QuestionnaireClosing) -> AnswerCount:
        with self._store.session() as session:
            count = reviews.close_round(session, closing.event_id, closing.round, datetime.now(UTC))
            session.commit()
        log.info("review.round_closed", round=closing.round.value, answered=count.answered)
        return count

    @property
    def all(self) -> list[Callable[..., object]]:
        return [
            self.open_questionnaires,
            self.unanswered_questionnaires,
            self.close_questionnaires,
        ]
