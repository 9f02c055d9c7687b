"""Signed, expiring web links through which a CCAS/CIAS director answers a support
request without SMS: the link names the waiting task and its code, carries its
expiry, and is signed with the gateway's secret, so that it cannot be forged or
pointed at another centre."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ValidationError

ANSWER_LINK_VALIDITY = timedelta(days=7)
ANSWER_PATH = "/r/"
TOKEN_MAX_LENGTH = 600
WEB_ANSWER = "web"
"""The contact id of an answer given through a link rather than by SMS."""


class AnswerLinkClaim(BaseModel):
    workflow_id: str
    task_key: str
    code: str
    expires_at: datetime


class AnswerLink(BaseModel):
    """What a workflow puts in an email: the task's code and its link."""

    code: str
    url: str


class ForgedLinkError(ValueError):
    """Not signed by us, damaged, or altered."""


class ExpiredLinkError(ValueError):
    pass


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _encode(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def sign_answer_link(secret: str, claim: AnswerLinkClaim) -> str:
    payload = _encode(claim.model_dump_json().encode())
    return f"{payload}.{_signature(secret, payload)}"


def answer_url(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + ANSWER_PATH + token


def read_answer_link(secret: str, token: str, now: datetime | None = None) -> AnswerLinkClaim:
    """The claim of a genuine, unexpired link; else ForgedLinkError or ExpiredLinkError."""
    payload, _, signature = token.partition(".")
    if len(token) > TOKEN_MAX_LENGTH or not payload or not signature:
        raise ForgedLinkError("lien mal formé")
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        raise ForgedLinkError("signature invalide")
    try:
        claim = AnswerLinkClaim.model_validate(json.loads(_decode(payload)))
    except (ValueError, ValidationError) as error:
        raise ForgedLinkError("contenu illisible") from error
    if claim.expires_at <= (now or datetime.now(UTC)):
        raise ExpiredLinkError(f"lien expiré le {claim.expires_at:%d/%m/%Y à %H:%M} (UTC)")
    return claim
