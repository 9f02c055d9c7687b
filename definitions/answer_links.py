"""Signed, expiring web links: through them a CCAS/CIAS director answers a support
request without SMS (the link names the waiting task and its code), and a
respondent reaches their after-action questionnaire. Each carries its expiry and
is signed with the gateway's secret, so that it cannot be forged or pointed at
someone else's task."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel, ValidationError

ANSWER_LINK_VALIDITY = timedelta(days=7)
ANSWER_PATH = "/r/"
QUESTIONNAIRE_PATH = "/q/"
TOKEN_MAX_LENGTH = 600
WEB_ANSWER = "web"
"""The contact id of an answer given through a link rather than by SMS."""


class ExpiringClaim(BaseModel):
    expires_at: datetime


ClaimT = TypeVar("ClaimT", bound=ExpiringClaim)


class AnswerLinkClaim(ExpiringClaim):
    workflow_id: str
    task_key: str
    code: str


class QuestionnaireClaim(ExpiringClaim):
    """Kept short (an invitation's row id) so that the link fits in an SMS."""

    invitation_id: int


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


def sign_link(secret: str, claim: ExpiringClaim) -> str:
    """Signed with the current secret: the first line of ``secret``, which may hand
    on earlier ones, one per line, so that a secret can be changed while links
    signed with the old one are still out."""
    payload = _encode(claim.model_dump_json().encode())
    return f"{payload}.{_signature(secret.split(chr(10), maxsplit=1)[0], payload)}"


def answer_url(public_url: str, token: str, path: str = ANSWER_PATH) -> str:
    return public_url.rstrip("/") + path + token


def read_link(
    secret: str, token: str, claim_type: type[ClaimT], now: datetime | None = None
) -> ClaimT:
    """The claim of a genuine, unexpired link; else ForgedLinkError or ExpiredLinkError."""
    payload, _, signature = token.partition(".")
    if len(token) > TOKEN_MAX_LENGTH or not payload or not signature or not token.isascii():
        raise ForgedLinkError("lien mal formé")
    if not any(
        hmac.compare_digest(signature, _signature(known, payload)) for known in secret.split("\n")
    ):
        raise ForgedLinkError("signature invalide")
    try:
        claim = claim_type.model_validate(json.loads(_decode(payload)))
    except (ValueError, ValidationError) as error:
        raise ForgedLinkError("contenu illisible") from error
    if claim.expires_at <= (now or datetime.now(UTC)):
        raise ExpiredLinkError(f"lien expiré le {claim.expires_at:%d/%m/%Y à %H:%M} (UTC)")
    return claim
