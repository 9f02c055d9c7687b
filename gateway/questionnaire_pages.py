"""The after-action questionnaire reached through the signed link of an email or an
SMS: one text box per question of the protocol, answered once. The answers go
straight to the database with a crisis-log line, so that thousands of respondents
do not weigh on the review's workflow. A forged, expired or already used link gets
a polite page, a log line, and changes nothing."""

import html
from datetime import UTC, datetime
from typing import Annotated

import structlog
from anyio import to_thread
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.service import RPCError

from definitions.answer_links import (
    QUESTIONNAIRE_PATH,
    TOKEN_MAX_LENGTH,
    ExpiredLinkError,
    ForgedLinkError,
    QuestionnaireClaim,
    read_link,
)
from definitions.crisis_log import CrisisLogEntry, CrisisLogKind
from definitions.local_time import PARIS_ZONE, ZONE_OF_DEPARTMENT, in_zone
from definitions.protocol import ReviewQuestion
from definitions.review import ANSWER_MAX_LENGTH, QuestionnaireAnswers, ReviewRound, ReviewStatus
from definitions.temporal_names import STATUS_QUERY, review_workflow_id
from gateway.answer_pages import page
from store import events, reviews
from store.database import Store
from store.tables import ReviewInvitationRow

log = structlog.get_logger(__name__)

TokenPath = Annotated[str, Path(min_length=10, max_length=TOKEN_MAX_LENGTH)]
FORM_MAX_BYTES = 64_000


def _zone(invitation: ReviewInvitationRow) -> str:
    """The respondent's time zone, from the department the invitation names."""
    return ZONE_OF_DEPARTMENT.get(invitation.department_code, PARIS_ZONE)


def _refusal(title: str, text: str, status_code: int) -> HTMLResponse:
    return page(title, f"<p>{html.escape(text)}</p>", status_code)


class QuestionnairePages:
    def __init__(self, store: Store, client: Client, secret: str) -> None:
        self._store = store
        self._client = client
        self._secret = secret

    def _open_invitation(self, token: str) -> ReviewInvitationRow | HTMLResponse:
        """The invitation a link opens while it awaits answers, else the page to
        show. Reads the store: called in a thread."""
        try:
            claim = read_link(self._secret, token, QuestionnaireClaim)
        except ForgedLinkError as error:
            log.warning("questionnaire.forged", reason=str(error))
            return _refusal("Lien invalide", "Ce lien n'est pas valide.", 403)
        except ExpiredLinkError as error:
            log.info("questionnaire.expired", reason=str(error))
            return _refusal(
                "Questionnaire clos",
                f"Le délai de réponse est passé ({error}) ; le rapport est établi avec les "
                "réponses reçues.",
                410,
            )
        with self._store.session() as session:
            invitation = reviews.invitation(session, claim.invitation_id)
        if invitation is None:
            log.warning("questionnaire.unknown_invitation", invitation=claim.invitation_id)
            return _refusal("Lien invalide", "Ce questionnaire n'existe pas.", 403)
        if invitation.answered_at is None and invitation.closed_at is not None:
            log.info("questionnaire.closed", invitation=invitation.id)
            return _refusal(
                "Questionnaire clos",
                "Le délai de réponse est passé ; le rapport est établi avec les réponses reçues.",
                410,
            )
        if invitation.answered_at is not None:
            log.info("questionnaire.reused", invitation=invitation.id)
            return _refusal(
                "Déjà répondu",
                f"Ce questionnaire a été rempli le "
                f"{in_zone(invitation.answered_at, _zone(invitation))} ; "
                "merci pour votre contribution.",
                410,
            )
        return invitation

    async def _questions(self, invitation: ReviewInvitationRow) -> list[ReviewQuestion] | None:
        handle = self._client.get_workflow_handle(review_workflow_id(invitation.event_id))
        try:
            status: ReviewStatus = await handle.query(STATUS_QUERY, result_type=ReviewStatus)
        except RPCError as error:
            log.warning("questionnaire.query_failed", error=str(error))
            return None
        return status.questions

    async def show(self, token: TokenPath) -> HTMLResponse:
        opened = await to_thread.run_sync(self._open_invitation, token)
        if isinstance(opened, HTMLResponse):
            return opened
        questions = await self._questions(opened)
        if questions is None:
            return _refusal("Service indisponible", "Merci de réessayer dans un moment.", 503)
        boxes = "".join(
            f'<p><label for="{q.id}">{html.escape(q.text)}</label>'
            f'<textarea id="{q.id}" name="{q.id}" maxlength="{ANSWER_MAX_LENGTH}"></textarea></p>'
            for q in questions
        )
        who = html.escape(opened.organisation_name or opened.person_name)
        return page(
            "Retour d'expérience",
            f"<p>{html.escape(ReviewRound(opened.round).label.capitalize())} — "
            f"réponse pour <strong>{who}</strong>, attendue avant le "
            f"{html.escape(in_zone(opened.expires_at, _zone(opened)))}. Répondez à ce qui "
            "vous concerne ; le questionnaire ne sert qu'une fois.</p>"
            f'<form method="post">{boxes}<button>Envoyer mes réponses</button></form>',
        )

    async def answer(self, token: TokenPath, request: Request) -> HTMLResponse:
        opened = await to_thread.run_sync(self._open_invitation, token)
        if isinstance(opened, HTMLResponse):
            return opened
        if int(request.headers.get("content-length") or 0) > FORM_MAX_BYTES:
            log.info("questionnaire.too_large", invitation=opened.id)
            return _refusal("Réponses trop longues", "Raccourcissez vos réponses.", 413)
        questions = await self._questions(opened)
        if questions is None:
            return _refusal("Service indisponible", "Merci de réessayer dans un moment.", 503)
        form = await request.form()
        known = {q.id for q in questions}
        try:
            answers = QuestionnaireAnswers(
                answers={
                    key: value
                    for key, value in form.items()
                    if key in known and isinstance(value, str)
                }
            )
        except ValidationError as error:
            problems = "; ".join(str(problem["msg"]) for problem in error.errors())
            log.info("questionnaire.refused", invitation=opened.id, problems=problems)
            return _refusal("Réponses refusées", problems, 422)
        if not await to_thread.run_sync(self._record, opened, answers):
            log.info("questionnaire.too_late", invitation=opened.id)
            return _refusal(
                "Réponse non enregistrée", "Ce questionnaire est déjà rempli ou clos.", 410
            )
        log.info("questionnaire.answered", invitation=opened.id, answers=len(answers.answers))
        return page(
            "Merci",
            "<p>Vos réponses sont enregistrées ; elles nourriront le rapport de retour "
            "d'expérience et le guide des bonnes pratiques du réseau.</p>",
        )

    def _record(self, opened: ReviewInvitationRow, answers: QuestionnaireAnswers) -> bool:
        """The answers and their crisis-log line, in one transaction; False when the
        questionnaire was answered or closed meanwhile."""
        assert opened.id is not None
        now = datetime.now(UTC)
        with self._store.session() as session:
            if not reviews.record_answers(session, opened.id, answers.answers, now):
                return False
            events.append_entry(
                session,
                CrisisLogEntry(
                    entry_key=f"{review_workflow_id(opened.event_id)}/answer-{opened.id}",
                    event_id=opened.event_id,
                    at=now,
                    actor=opened.person_name[:100],
                    kind=CrisisLogKind.QUESTIONNAIRE_ANSWERED,
                    text=f"Questionnaire du {ReviewRound(opened.round).label} rempli par "
                    f"{opened.organisation_name or opened.person_name} "
                    f"({len(answers.answers)} réponse(s)).",
                    subject=opened.respondent_id,
                ),
            )
            session.commit()
        return True


def questionnaire_router(store: Store, client: Client, secret: str) -> APIRouter:
    pages = QuestionnairePages(store, client, secret)
    router = APIRouter(prefix=QUESTIONNAIRE_PATH.rstrip("/"), tags=["retour d'expérience"])
    router.get("/{token}", response_class=HTMLResponse)(pages.show)
    router.post("/{token}", response_class=HTMLResponse)(pages.answer)
    return router
