"""The web page reached through the signed link of an email: a CCAS/CIAS director's
support request (OK / AIDE), or an action a committee or a review's plan gave
someone (FAIT). The
question, a button per answer the task takes, and the answer sent to the waiting
workflow as the same signal an SMS would give. A forged, expired or closed link gets
a polite page, a log line, and changes nothing."""

import html
import uuid
from datetime import UTC, datetime
from typing import Annotated

import structlog
from anyio import to_thread
from fastapi import APIRouter, Form, Path
from fastapi.responses import HTMLResponse
from temporalio.client import Client
from temporalio.service import RPCError

from definitions.answer_links import (
    ANSWER_PATH,
    TOKEN_MAX_LENGTH,
    WEB_ANSWER,
    AnswerLinkClaim,
    ExpiredLinkError,
    ForgedLinkError,
    read_link,
)
from definitions.awaited_replies import ReplyReceived
from definitions.committee import CommitteeTask, TaskList
from definitions.local_time import in_zone
from definitions.metrics import ReplyChannel, TocsinMetrics
from definitions.mobilisation import CentreSupport
from definitions.replies import ReplyKeyword
from definitions.temporal_names import REPLY_SIGNAL, STATUS_QUERY
from gateway.reply_routing import Outcome
from operations.mobilisation_reads import MobilisationReads
from store import reply_codes
from store.database import Store

log = structlog.get_logger(__name__)

TokenPath = Annotated[str, Path(min_length=10, max_length=TOKEN_MAX_LENGTH)]
ANSWERS = {
    ReplyKeyword.MOBILISED: "Notre centre est mobilisé",
    ReplyKeyword.HELP: "Nous avons besoin de soutien",
    ReplyKeyword.DONE: "L'action est faite",
}


def page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title><link rel="icon" href="/favicon.ico">'
        '<link rel="stylesheet" href="/static/tocsin.css">'
        f'</head><body class="link-page"><main><h1>{html.escape(title)}</h1>{body}</main>'
        "</body></html>",
        status_code=status_code,
    )


def _refusal(title: str, text: str, status_code: int) -> HTMLResponse:
    return page(
        title,
        f"<p>{html.escape(text)}</p><p>Vous pouvez toujours répondre par SMS avec le code "
        "indiqué dans notre message (par exemple OK 5532).</p>",
        status_code,
    )


class AnswerPages:
    def __init__(
        self,
        store: Store,
        client: Client,
        reads: MobilisationReads,
        metrics: TocsinMetrics,
        secret: str,
    ) -> None:
        self._store = store
        self._client = client
        self._reads = reads
        self._metrics = metrics
        self._secret = secret

    def _open_claim(self, token: str) -> tuple[AnswerLinkClaim, list[ReplyKeyword]] | HTMLResponse:
        """The link's claim and the answers its task takes while it is still open,
        else the page to show. Reads the store: called in a thread."""
        try:
            claim = read_link(self._secret, token, AnswerLinkClaim)
        except ForgedLinkError as error:
            log.warning("answer_link.forged", reason=str(error))
            return _refusal("Lien invalide", "Ce lien n'est pas valide.", 403)
        except ExpiredLinkError as error:
            log.info("answer_link.expired", reason=str(error))
            return _refusal("Lien expiré", f"Ce lien a expiré ({error}).", 410)
        with self._store.session() as session:
            keywords = reply_codes.open_keywords(session, claim.workflow_id, claim.task_key)
        answers = [keyword for keyword in keywords if keyword in ANSWERS]
        if not answers:
            log.info("answer_link.closed", workflow_id=claim.workflow_id)
            return _refusal(
                "Demande close", "Cette demande est close ; votre réponse n'est plus attendue.", 410
            )
        return claim, answers

    async def _centre(self, claim: AnswerLinkClaim) -> CentreSupport | None:
        try:
            return await self._reads.centre(claim.workflow_id, claim.task_key)
        except RPCError as error:
            log.warning("answer_link.query_failed", error=str(error))
            return None

    async def _task(self, claim: AnswerLinkClaim) -> CommitteeTask | None:
        try:
            status = await self._client.get_workflow_handle(claim.workflow_id).query(
                STATUS_QUERY, result_type=TaskList
            )
        except RPCError as error:
            log.warning("answer_link.query_failed", error=str(error))
            return None
        return next((task for task in status.tasks if task.task_id == claim.task_key), None)

    async def _question(self, claim: AnswerLinkClaim, answers: list[ReplyKeyword]) -> str:
        if ReplyKeyword.DONE in answers:
            task = await self._task(claim)
            what = (
                f"<strong>{html.escape(task.what)}</strong>, échéance "
                f"{html.escape(in_zone(task.due_at, task.assignee.time_zone))}"
                if task
                else "l'action qui vous a été confiée"
            )
            return f"<p>Action qui vous a été confiée : {what}.</p>"
        centre = await self._centre(claim)
        name = html.escape(centre.name) if centre else "votre centre"
        current = (
            f"<p>Réponse enregistrée : <strong>{html.escape(centre.state.label)}</strong>. "
            "Vous pouvez la modifier.</p>"
            if centre and centre.answer
            else ""
        )
        return f"<p>Demande de soutien de l'UNCCAS pour <strong>{name}</strong>.</p>{current}"

    async def show(self, token: TokenPath) -> HTMLResponse:
        opened = await to_thread.run_sync(self._open_claim, token)
        if isinstance(opened, HTMLResponse):
            return opened
        claim, answers = opened
        buttons = "".join(
            f'<button name="answer" value="{keyword.value}">{ANSWERS[keyword]}</button>'
            for keyword in answers
        )
        title = (
            "Cette action est-elle faite ?"
            if ReplyKeyword.DONE in answers
            else "Votre centre est-il mobilisé ?"
        )
        return page(
            title,
            f"{await self._question(claim, answers)}<p>(code {html.escape(claim.code)})</p>"
            f'<form method="post">{buttons}</form>',
        )

    async def answer(
        self, token: TokenPath, answer: Annotated[str, Form(max_length=10)]
    ) -> HTMLResponse:
        opened = await to_thread.run_sync(self._open_claim, token)
        if isinstance(opened, HTMLResponse):
            return opened
        claim, answers = opened
        keyword = next((k for k in answers if k.value == answer), None)
        if keyword is None:
            log.info("answer_link.bad_answer")
            self._metrics.reply_received(ReplyChannel.LINK, Outcome.NOT_UNDERSTOOD.value)
            return _refusal("Réponse non reconnue", "Choisissez l'un des boutons proposés.", 422)
        received = ReplyReceived(
            task_key=claim.task_key,
            contact_id=WEB_ANSWER,
            keyword=keyword,
            code=claim.code,
            message_sid=f"web-{uuid.uuid4().hex}",
            received_at=datetime.now(UTC),
        )
        try:
            await self._client.get_workflow_handle(claim.workflow_id).signal(REPLY_SIGNAL, received)
        except RPCError as error:
            log.error("answer_link.signal_failed", error=str(error))
            self._metrics.reply_received(ReplyChannel.LINK, Outcome.UNAVAILABLE.value)
            return _refusal(
                "Service indisponible",
                "Votre réponse n'a pas pu être enregistrée ; merci de réessayer dans un moment.",
                503,
            )
        log.info("answer_link.answered", workflow_id=claim.workflow_id, answer=answer)
        self._metrics.reply_received(ReplyChannel.LINK, Outcome.ROUTED.value)
        told = (
            "le/la représentant(e) UNCCAS le verra dans le suivi"
            if keyword is ReplyKeyword.DONE
            else "l'UNCCAS, l'UD et le/la représentant(e) en sont informés"
        )
        return page(
            "Merci, réponse enregistrée", f"<p>{html.escape(ANSWERS[keyword])} : {told}.</p>"
        )


def answer_router(
    store: Store, client: Client, reads: MobilisationReads, metrics: TocsinMetrics, secret: str
) -> APIRouter:
    pages = AnswerPages(store, client, reads, metrics, secret)
    router = APIRouter(prefix=ANSWER_PATH.rstrip("/"), tags=["réponses par lien"])
    router.get("/{token}", response_class=HTMLResponse)(pages.show)
    router.post("/{token}", response_class=HTMLResponse)(pages.answer)
    return router
