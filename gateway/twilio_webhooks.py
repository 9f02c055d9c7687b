"""Twilio's webhooks: inbound SMS and delivery callbacks.

Every request must carry a valid ``X-Twilio-Signature`` computed on the public
URL Twilio called; anything else gets 403 and changes nothing. Inbound SMS are
kept once per MessageSid, so a replayed webhook is answered with silence.
"""

from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Header, Request, Response, status
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from definitions.outgoing import provider_status
from definitions.privacy import mask_phone_numbers
from definitions.replies import ReplyKeyword, parse_reply
from store import inbound, outbox
from store.database import Store

log = structlog.get_logger(__name__)

MAX_WEBHOOK_BYTES = 64 * 1024
NOT_UNDERSTOOD = (
    "UNCCAS : réponse non reconnue. Répondez avec le mot-clé et le code indiqués dans notre "
    "message, par exemple OUI 4821, NON 4821, OK 5532, AIDE 5532 ou FAIT 1234."
)
NOTHING_AWAITED = (
    "UNCCAS : aucune demande en attente ne correspond à cette réponse depuis ce numéro. "
    "Vérifiez le code indiqué dans notre message."
)
OPTED_OUT = (
    "UNCCAS : vous ne recevrez plus de SMS de Tocsin ; nos messages vous parviendront par email."
)


def _twiml(text: str | None) -> Response:
    reply = MessagingResponse()
    if text:
        reply.message(text)
    return Response(content=str(reply), media_type="application/xml")


def twilio_router(store: Store, auth_token: str, public_url: str) -> APIRouter:
    router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])
    validator = RequestValidator(auth_token)

    async def _signed_form(request: Request, signature: str | None) -> dict[str, str] | None:
        """The form when Twilio signed it, else None (and a log line)."""
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BYTES:
            log.warning("webhook.too_large", path=request.url.path, size=len(body))
            return None
        form = {key: str(value) for key, value in (await request.form()).items()}
        url = public_url.rstrip("/") + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        if not signature or not validator.validate(url, form, signature):
            log.warning("webhook.forged", path=request.url.path)
            return None
        return form

    @router.post("/sms")
    async def inbound_sms(
        request: Request,
        x_twilio_signature: Annotated[str | None, Header()] = None,
    ) -> Response:
        form = await _signed_form(request, x_twilio_signature)
        if form is None or not form.get("MessageSid") or not form.get("From"):
            return Response(status_code=status.HTTP_403_FORBIDDEN)
        sender, text = form["From"], form.get("Body", "")
        reply = parse_reply(text)
        if reply is None:
            outcome, answer = "not_understood", NOT_UNDERSTOOD
        elif reply.keyword is ReplyKeyword.STOP:
            outcome, answer = "opted_out", OPTED_OUT
        else:
            outcome, answer = "nothing_awaited", NOTHING_AWAITED
        now = datetime.now(UTC)
        with store.session() as session:
            first = inbound.record_first(
                session,
                form["MessageSid"],
                sender=sender,
                body=text[:2000],
                outcome=outcome,
                now=now,
            )
            if first and outcome == "opted_out":
                inbound.opt_out(session, sender, now)
            session.commit()
        masked = mask_phone_numbers(sender)
        if not first:
            log.info("sms.replayed", sender=masked, message_sid=form["MessageSid"])
            return _twiml(None)
        log.info("sms.received", sender=masked, outcome=outcome)
        return _twiml(answer)

    @router.post("/status", status_code=status.HTTP_204_NO_CONTENT)
    async def delivery_status(
        request: Request,
        x_twilio_signature: Annotated[str | None, Header()] = None,
    ) -> Response:
        form = await _signed_form(request, x_twilio_signature)
        if form is None:
            return Response(status_code=status.HTTP_403_FORBIDDEN)
        delivery = provider_status(form.get("MessageStatus", ""))
        if delivery is None or not form.get("MessageSid"):
            log.info("webhook.status_ignored", status=form.get("MessageStatus"))
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        with store.session() as session:
            entry = outbox.record_delivery(
                session, form["MessageSid"], delivery, form.get("ErrorCode"), datetime.now(UTC)
            )
            session.commit()
        if entry is None:
            log.info("webhook.status_unknown_message", message_sid=form["MessageSid"])
        else:
            log.info("sms.delivery", event_id=entry.event_id, step=entry.step, status=delivery)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
