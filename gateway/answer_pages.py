"""The web page a CCAS/CIAS director reaches through the signed link of a support
request email: the question, two buttons, and the answer sent to the department's
workflow as the same signal an SMS would give. A forged, expired or closed link
gets a polite page, a log line, and changes nothing."""

import html
import uuid
from datetime import UTC, datetime
from typing import Annotated

import structlog
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
    read_answer_link,
)
from definitions.awaited_replies import ReplyReceived
from definitions.mobilisation import CentreSupport
from definitions.replies import ReplyKeyword
from definitions.temporal_names import REPLY_SIGNAL
from gateway.mobilisation_reads import MobilisationReads
from store import reply_codes
from store.database import Store

log = structlog.get_logger(__name__)

TokenPath = Annotated[str, Path(min_length=10, max_length=TOKEN_MAX_LENGTH)]
ANSWERS = {
    ReplyKeyword.MOBILISED.value: "Notre centre est mobilisé",
    ReplyKeyword.HELP.value: "Nous avons besoin de soutien",
}
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}button{display:block;width:100%;margin:.6rem 0;padding:.9rem;"
    "font-size:1.05rem;border-radius:.4rem;border:1px solid #444;background:#f4f4f4}"
)


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status_code,
    )


def _refusal(title: str, text: str, status_code: int) -> HTMLResponse:
    return _page(
        title,
        f"<p>{html.escape(text)}</p><p>Vous pouvez toujours répondre par SMS avec le code "
        "indiqué dans notre message (par exemple OK 5532).</p>",
        status_code,
    )


class AnswerPages:
    def __init__(self, store: Store, client: Client, reads: MobilisationReads, secret: str) -> None:
        self._store = store
        self._client = client
        self._reads = reads
        self._secret = secret

    def _open_claim(self, token: str) -> AnswerLinkClaim | HTMLResponse:
        """The link's claim while its task is still open, else the page to show."""
        try:
            claim = read_answer_link(self._secret, token)
        except ForgedLinkError as error:
            log.warning("answer_link.forged", reason=str(error))
            return _refusal("Lien invalide", "Ce lien n'est pas valide.", 403)
        except ExpiredLinkError as error:
            log.info("answer_link.expired", reason=str(error))
            return _refusal("Lien expiré", f"Ce lien a expiré ({error}).", 410)
        with self._store.session() as session:
            still_open = reply_codes.is_open(session, claim.workflow_id, claim.task_key)
        if not still_open:
            log.info("answer_link.closed", workflow_id=claim.workflow_id)
            return _refusal(
                "Demande close", "Cette demande est close ; votre réponse n'est plus attendue.", 410
            )
        return claim

    async def _centre(self, claim: AnswerLinkClaim) -> CentreSupport | None:
        try:
            return await self._reads.centre(claim.workflow_id, claim.task_key)
        except RPCError as error:
            log.warning("answer_link.query_failed", error=str(error))
            return None

    async def show(self, token: TokenPath) -> HTMLResponse:
        claim = self._open_claim(token)
        if isinstance(claim, HTMLResponse):
            return claim
        centre = await self._centre(claim)
        name = html.escape(centre.name) if centre else "votre centre"
        current = (
            f"<p>Réponse enregistrée : <strong>{html.escape(centre.state.label)}</strong>. "
            "Vous pouvez la modifier.</p>"
            if centre and centre.answer
            else ""
        )
        buttons = "".join(
            f'<button name="answer" value="{value}">{label}</button>'
            for value, label in ANSWERS.items()
        )
        return _page(
            "Votre centre est-il mobilisé ?",
            f"<p>Demande de soutien de l'UNCCAS pour <strong>{name}</strong> "
            f"(code {html.escape(claim.code)}).</p>{current}"
            f'<form method="post">{buttons}</form>',
        )

    async def answer(
        self, token: TokenPath, answer: Annotated[str, Form(max_length=10)]
    ) -> HTMLResponse:
        claim = self._open_claim(token)
        if isinstance(claim, HTMLResponse):
            return claim
        if answer not in ANSWERS:
            log.info("answer_link.bad_answer")
            return _refusal("Réponse non reconnue", "Choisissez l'un des deux boutons.", 422)
        received = ReplyReceived(
            task_key=claim.task_key,
            contact_id=WEB_ANSWER,
            keyword=ReplyKeyword(answer),
            code=claim.code,
            message_sid=f"web-{uuid.uuid4().hex}",
            received_at=datetime.now(UTC),
        )
        try:
            await self._client.get_workflow_handle(claim.workflow_id).signal(REPLY_SIGNAL, received)
        except RPCError as error:
            log.error("answer_link.signal_failed", error=str(error))
            return _refusal(
                "Service indisponible",
                "Votre réponse n'a pas pu être enregistrée ; merci de réessayer dans un moment.",
                503,
            )
        log.info("answer_link.answered", workflow_id=claim.workflow_id, answer=answer)
        return _page(
            "Merci, réponse enregistrée",
            f"<p>{html.escape(ANSWERS[answer])} : l'UNCCAS, l'UD et le/la représentant(e) "
            "en sont informés.</p>",
        )


def answer_router(store: Store, client: Client, reads: MobilisationReads, secret: str) -> APIRouter:
    pages = AnswerPages(store, client, reads, secret)
    router = APIRouter(prefix=ANSWER_PATH.rstrip("/"), tags=["réponses par lien"])
    router.get("/{token}", response_class=HTMLResponse)(pages.show)
    router.post("/{token}", response_class=HTMLResponse)(pages.answer)
    return router
