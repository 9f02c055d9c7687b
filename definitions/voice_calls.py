"""Calls leaving Tocsin: what the workflow asks for, and what the phone says.

A call speaks the question and takes one keypad digit, which stands for the SMS
keyword it replaces: the answer then goes the way of an SMS answer. The digits
follow the keywords the call's reply code takes, in their order (1 = OUI,
2 = NON for a designation; 1 = OK, 2 = AIDE for a support request), so the
workflow's speech says the message and the keypad's choices are said after it.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from definitions.outgoing import OutboxStatus
from definitions.replies import Reply, ReplyKeyword

VOICE_WEBHOOK = "/webhooks/twilio/voice"
VOICE_STATUS_WEBHOOK = VOICE_WEBHOOK + "/status"
CALL_STATUSES = {
    "queued": OutboxStatus.QUEUED,
    "initiated": OutboxStatus.QUEUED,
    "ringing": OutboxStatus.SENT,
    "answered": OutboxStatus.SENT,
    "in-progress": OutboxStatus.SENT,
    "completed": OutboxStatus.DELIVERED,
    "busy": OutboxStatus.UNDELIVERED,
    "no-answer": OutboxStatus.UNDELIVERED,
    "canceled": OutboxStatus.FAILED,
    "failed": OutboxStatus.FAILED,
}
"""A call's progress in the outbox's words: it only moves forward there, so a late
``ringing`` never replaces ``completed``."""
SPEECH_MAX = 1000
KEYPAD_MEANINGS = {
    ReplyKeyword.YES: "pour accepter",
    ReplyKeyword.NO: "pour refuser",
    ReplyKeyword.MOBILISED: "si votre centre est mobilisé",
    ReplyKeyword.HELP: "s'il a besoin de soutien",
    ReplyKeyword.DONE: "si c'est fait",
}


@dataclass(frozen=True)
class KeypadChoice:
    """What one digit answers, and how the phone says it."""

    digit: str
    reply: Reply
    meaning: str

    @property
    def sms(self) -> str:
        """The SMS answer it stands for, said digit by digit: ``OUI 4 8 2 1``."""
        spaced = " ".join(self.reply.code or "")
        if self.reply.accepts is None:
            return f"{self.reply.keyword.value} {spaced}"
        return f"{self.reply.keyword.value} {spaced} {'OUI' if self.reply.accepts else 'NON'}"


def keypad_choices(keywords: list[ReplyKeyword], code: str) -> list[KeypadChoice]:
    """The digits of a task taking ``keywords``: one per keyword, in order, and for a
    reinforcement request (``RENFORT 6610 OUI/NON``) 1 and 2 for its yes and no."""
    if keywords == [ReplyKeyword.REINFORCEMENT]:
        return [
            KeypadChoice(
                "1",
                Reply(keyword=ReplyKeyword.REINFORCEMENT, code=code, accepts=True),
                "pour proposer un renfort",
            ),
            KeypadChoice(
                "2",
                Reply(keyword=ReplyKeyword.REINFORCEMENT, code=code, accepts=False),
                "si vous ne pouvez pas",
            ),
        ]
    return [
        KeypadChoice(
            str(digit),
            Reply(keyword=keyword, code=code),
            KEYPAD_MEANINGS.get(keyword, f"pour répondre {keyword.value}"),
        )
        for digit, keyword in enumerate(keywords[:9], 1)
    ]


def keypad_prompt(choices: list[KeypadChoice]) -> str:
    """``Tapez 1 pour accepter, 2 pour refuser.``"""
    return "Tapez " + ", ".join(f"{choice.digit} {choice.meaning}" for choice in choices) + "."


def twiml_url(public_url: str, key: str, code: str | None) -> str:
    """Where Twilio fetches the call's TwiML: the outbox key says which call it is,
    the code (if any) which answer its digits give (Twilio signs the whole URL)."""
    query = {"key": key} | ({"code": code} if code else {})
    return public_url.rstrip("/") + VOICE_WEBHOOK + "?" + urlencode(query)


class CallRequest(BaseModel):
    """One call, placed once (``key`` is its outbox idempotency key)."""

    key: str = Field(max_length=300)
    event_id: str
    step: str
    to: str = Field(pattern=r"^\+[1-9]\d{7,14}$")
    speech: str = Field(min_length=1, max_length=SPEECH_MAX)
    code: str | None = Field(default=None, pattern=r"^\d{4}$")
    """The reply code the digits answer, said to a voicemail too; a call without
    one only speaks."""


def designation_speech(*, exercise: bool, title: str, area: str, candidate_name: str) -> str:
    """The question a designation candidate hears, in French."""
    drill = "Ceci est un exercice. " if exercise else ""
    return (
        f"{drill}Message de l'UNCCAS pour {candidate_name}. Événement : {title}, "
        f"zone : {area}. Nous vous sollicitons comme représentant de l'UNCCAS."
    )


def support_speech(*, exercise: bool, title: str, person_name: str, centre_name: str) -> str:
    """What a centre still silent at escalation hears, in French."""
    drill = "Ceci est un exercice. " if exercise else ""
    return (
        f"{drill}Message de l'UNCCAS pour {person_name}, {centre_name}. Événement : {title}. "
        "Votre centre n'a pas répondu à la demande de soutien : dites-nous où il en est."
    )


def staff_alert_speech(*, exercise: bool, title: str, round_number: int, asked: int) -> str:
    """What on-call staff hear when a designation round found nobody."""
    drill = "Ceci est un exercice. " if exercise else ""
    return (
        f"{drill}Message de Tocsin pour l'astreinte UNCCAS. Événement : {title}. "
        f"Aucun représentant désigné après le tour {round_number}, {asked} sollicité(s). "
        "Désignez quelqu'un à la main ou attendez le tour suivant. Détails par SMS et email."
    )
