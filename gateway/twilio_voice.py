"""Twilio Voice webhooks: the TwiML of Tocsin's calls and the digits pressed.

Twilio fetches the call's URL once answered (signed, as every webhook: 403
otherwise). The outbox key in that URL names the call, whose recorded speech is
said in French inside a one-digit ``<Gather>`` (a call without a code, to
on-call staff, is only said twice); no digit or a wrong one asks
again, twice, then thanks and hangs up. A voicemail hears the SMS code instead.
A digit stands for an SMS keyword of the call's reply code, in the code's order
(1 = OUI, 2 = NON; 1 = OK, 2 = AIDE), said after the speech, and takes the SMS
answer's road to the waiting workflow; the caller hears whether it was recorded.
"""

import asyncio
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Header, Request, Response, status
from twilio.twiml.voice_response import Gather, VoiceResponse

from definitions.metrics import ReplyChannel, TocsinMetrics
from definitions.outgoing import Channel, OutboxEntry, OutboxStatus
from definitions.privacy import mask_phone_numbers
from definitions.voice_calls import (
    CALL_STATUSES,
    VOICE_STATUS_WEBHOOK,
    VOICE_WEBHOOK,
    KeypadChoice,
    keypad_choices,
    keypad_prompt,
)
from gateway.reply_routing import Outcome, Routing, route
from gateway.twilio_webhooks import TwilioWebhooks
from store import outbox, reply_codes
from store.database import Store
from store.outbox import RecordedCallback
from store.tables import ReplyCodeRow

log = structlog.get_logger(__name__)

LANGUAGE = "fr-FR"
GATHER_PATH = VOICE_WEBHOOK + "/gather"
QUESTION_ASKED = 3
"""The question once, then twice again when no valid digit comes."""
DIGIT_WAIT_SECONDS = 8
GOODBYE = "Merci, au revoir."
NOT_UNDERSTOOD = "Choix non reconnu."
RECORDED = "Votre réponse est enregistrée. Merci, au revoir."
SPOKEN = {
    Outcome.CLOSED: "Cette demande est close, votre réponse n'est plus attendue. Merci.",
    Outcome.UNAVAILABLE: (
        "Votre réponse n'a pas pu être enregistrée. Merci de répondre par SMS "
        "dans quelques minutes."
    ),
}
NOT_RECORDED = "Votre réponse n'a pas pu être enregistrée. Merci de répondre par SMS."
ENDED = {OutboxStatus.DELIVERED, OutboxStatus.UNDELIVERED, OutboxStatus.FAILED}
"""A call's final statuses: reached once, each call is counted once as it ended."""


def voicemail_speech(choices: list[KeypadChoice]) -> str:
    answers = ", ou ".join(f"{choice.sms} {choice.meaning}" for choice in choices)
    return (
        "Message de l'UNCCAS. Une demande urgente vous a été envoyée par SMS. "
        f"Répondez par SMS {answers}. Merci."
    )


def _twiml(response: VoiceResponse) -> Response:
    return Response(content=str(response), media_type="application/xml")


def _said(text: str, times: int = 1) -> Response:
    response = VoiceResponse()
    response.say(text, language=LANGUAGE, loop=times)
    response.hangup()
    return _twiml(response)


class VoiceWebhooks:
    def __init__(
        self, store: Store, webhooks: TwilioWebhooks, metrics: TocsinMetrics, public_url: str
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._webhooks = webhooks
        self._public_url = public_url.rstrip("/")

    def _entry(self, key: str) -> OutboxEntry | None:
        with self._store.session() as session:
            entry = outbox.entry(session, key)
        return entry if entry is not None and entry.channel is Channel.VOICE else None

    def _codes(self, phone: str) -> list[ReplyCodeRow]:
        with self._store.session() as session:
            return reply_codes.codes_of_phone(session, phone)

    async def _choices(
        self, entry: OutboxEntry, code: str
    ) -> tuple[list[KeypadChoice], list[ReplyCodeRow]]:
        """The digits of the code this phone was given (none for a code it was not),
        with every code of the phone, for routing."""
        rows = await asyncio.to_thread(self._codes, entry.recipient)
        task = next((row for row in rows if row.code == code), None) if code else None
        return (keypad_choices(reply_codes.keywords_of(task), code) if task else []), rows

    def _question(
        self,
        entry: OutboxEntry,
        choices: list[KeypadChoice],
        code: str,
        asked: int,
        preface: str = "",
    ) -> VoiceResponse:
        """The question from its ``asked``-th time on, each time a one-digit gather."""
        response = VoiceResponse()
        if preface:
            response.say(preface, language=LANGUAGE)
        question = f"{entry.body} {keypad_prompt(choices)}"
        for time in range(asked, QUESTION_ASKED + 1):
            query = urlencode({"key": entry.key, "code": code, "asked": str(time)})
            gather = Gather(
                num_digits=1,
                action=f"{self._public_url}{GATHER_PATH}?{query}",
                method="POST",
                timeout=DIGIT_WAIT_SECONDS,
            )
            gather.say(question, language=LANGUAGE)
            response.append(gather)
        response.say(GOODBYE, language=LANGUAGE)
        response.hangup()
        return response

    async def call_answered(
        self,
        request: Request,
        key: str = "",
        code: str = "",
        x_twilio_signature: Annotated[str | None, Header()] = None,
    ) -> Response:
        form = await self._webhooks.signed_form(request, x_twilio_signature)
        if form is None:
            return Response(status_code=status.HTTP_403_FORBIDDEN)
        entry = await asyncio.to_thread(self._entry, key)
        if entry is None:
            log.warning("call.unknown", call_sid=form.get("CallSid"))
            return _said(GOODBYE)
        answered_by = form.get("AnsweredBy", "")
        log.info("call.answered", step=entry.step, answered_by=answered_by or "unknown")
        choices, _ = await self._choices(entry, code)
        if not choices:
            return _said(entry.body, times=2)
        if answered_by.startswith("machine") or answered_by == "fax":
            return _said(voicemail_speech(choices))
        return _twiml(self._question(entry, choices, code, 1))

    async def digits_pressed(
        self,
        request: Request,
        key: str = "",
        code: str = "",
        asked: int = QUESTION_ASKED,
        x_twilio_signature: Annotated[str | None, Header()] = None,
    ) -> Response:
        form = await self._webhooks.signed_form(request, x_twilio_signature)
        if form is None or not form.get("CallSid"):
            return Response(status_code=status.HTTP_403_FORBIDDEN)
        entry = await asyncio.to_thread(self._entry, key)
        if entry is None:
            log.warning("call.unknown", call_sid=form["CallSid"])
            return _said(GOODBYE)
        choices, rows = await self._choices(entry, code)
        digit = form.get("Digits", "")
        choice = next((choice for choice in choices if choice.digit == digit), None)
        if choice is None:
            if choices and asked < QUESTION_ASKED:
                return _twiml(self._question(entry, choices, code, asked + 1, NOT_UNDERSTOOD))
            return _said(f"{NOT_UNDERSTOOD} {GOODBYE}")
        reply = choice.reply
        routing = route(reply, rows)
        if routing.outcome is Outcome.ROUTED:
            routing = await self._webhooks.deliver(routing, reply, form["CallSid"])
        self._metrics.reply_received(ReplyChannel.VOICE, routing.outcome.value)
        log.info(
            "call.digit",
            to=mask_phone_numbers(entry.recipient),
            outcome=routing.outcome.value,
            workflow_id=routing.task.workflow_id if routing.task else None,
        )
        return _said(_spoken(routing))

    def _record_status(self, call_sid: str, progress: OutboxStatus) -> RecordedCallback | None:
        with self._store.session() as session:
            callback = outbox.record_delivery(session, call_sid, progress, None, datetime.now(UTC))
            session.commit()
        return callback

    async def call_status(
        self,
        request: Request,
        x_twilio_signature: Annotated[str | None, Header()] = None,
    ) -> Response:
        """A call's progress, kept in its outbox history (forward order only)."""
        form = await self._webhooks.signed_form(request, x_twilio_signature)
        if form is None:
            return Response(status_code=status.HTTP_403_FORBIDDEN)
        call_sid, call_status = form.get("CallSid", ""), form.get("CallStatus", "")
        progress = CALL_STATUSES.get(call_status)
        if progress is None or not call_sid:
            log.info("call.status_ignored", status=call_status)
        elif (recorded := await asyncio.to_thread(self._record_status, call_sid, progress)) is None:
            log.warning("call.status_unknown_call", call_sid=call_sid, status=call_status)
        else:
            log.info("call.status", call_sid=call_sid, status=call_status)
            if recorded.moved and progress in ENDED:
                self._metrics.call_ended(call_status)
        return Response(status_code=status.HTTP_204_NO_CONTENT)


def _spoken(routing: Routing) -> str:
    if routing.outcome is Outcome.ROUTED:
        return RECORDED
    return SPOKEN.get(routing.outcome, NOT_RECORDED)


def voice_router(webhooks: VoiceWebhooks) -> APIRouter:
    router = APIRouter(tags=["webhooks"])
    router.post(VOICE_WEBHOOK)(webhooks.call_answered)
    router.post(GATHER_PATH)(webhooks.digits_pressed)
    router.post(VOICE_STATUS_WEBHOOK, status_code=status.HTTP_204_NO_CONTENT)(webhooks.call_status)
    return router
