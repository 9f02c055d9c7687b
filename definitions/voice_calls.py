"""Calls leaving Tocsin: what the workflow asks for, and what the phone says.

A call speaks the question and takes one keypad digit, which stands for the SMS
keyword it replaces: the answer then goes the way of an SMS answer.
"""

from pydantic import BaseModel, Field

from definitions.outgoing import OutboxStatus
from definitions.replies import ReplyKeyword

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
DIGIT_KEYWORDS = {"1": ReplyKeyword.YES, "2": ReplyKeyword.NO}
SPEECH_MAX = 1000


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
        f"zone : {area}. Nous vous sollicitons comme représentant de l'UNCCAS. "
        "Tapez 1 pour accepter, 2 pour refuser."
    )


def staff_alert_speech(*, exercise: bool, title: str, round_number: int, asked: int) -> str:
    """What on-call staff hear when a designation round found nobody."""
    drill = "Ceci est un exercice. " if exercise else ""
    return (
        f"{drill}Message de Tocsin pour l'astreinte UNCCAS. Événement : {title}. "
        f"Aucun représentant désigné après le tour {round_number}, {asked} sollicité(s). "
        "Désignez quelqu'un à la main ou attendez le tour suivant. Détails par SMS et email."
    )
