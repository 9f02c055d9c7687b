"""Answering as a phone would: an SMS posted to the gateway's webhook, signed with
the auth token as Twilio signs it (``tocsin sms-reply``, the demo)."""

import secrets
from xml.etree import ElementTree

import httpx
from twilio.request_validator import RequestValidator

from worker.sandbox.providers import sandbox_auth_token
from worker.settings import Settings

WEBHOOK_PATH = "/webhooks/twilio/sms"


class ReplyRefusedError(RuntimeError):
    """The gateway did not take the SMS (an HTTP status other than 200)."""


async def send_sms_reply(settings: Settings, sender: str, text: str) -> list[str]:
    """The gateway's answers, as the phone would receive them (none for a replay)."""
    token = settings.twilio_auth_token or sandbox_auth_token(settings)
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": settings.twilio_account_sid or "sandbox",
        "From": sender,
        "To": settings.twilio_from or "UNCCAS",
        "Body": text,
    }
    signed_url = settings.public_url.rstrip("/") + WEBHOOK_PATH
    signature = RequestValidator(token).compute_signature(signed_url, params)
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            settings.gateway_url + WEBHOOK_PATH,
            data=params,
            headers={"X-Twilio-Signature": signature},
        )
    if response.status_code != 200:
        raise ReplyRefusedError(f"HTTP {response.status_code}")
    return [node.text or "" for node in ElementTree.fromstring(response.text).iter("Message")]
