"""Answering as a phone would: an SMS posted to the gateway's webhook, signed with
the auth token as Twilio signs it (``tocsin sms-reply``, the demo)."""

import httpx

from gateway.inbound_sms import INBOUND_SMS_PATH, signed_inbound_sms, twiml_messages
from worker.sandbox.credentials import sandbox_auth_token
from worker.settings import Settings


class ReplyRefusedError(RuntimeError):
    """The gateway did not take the SMS (an HTTP status other than 200)."""


async def send_sms_reply(settings: Settings, sender: str, text: str) -> list[str]:
    """The gateway's answers, as the phone would receive them (none for a replay)."""
    params, signature = signed_inbound_sms(
        settings.twilio_auth_token.get_secret_value() or sandbox_auth_token(settings),
        settings.public_url,
        sender=sender,
        to=settings.twilio_from or "UNCCAS",
        text=text,
    )
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            settings.gateway_url + INBOUND_SMS_PATH,
            data=params,
            headers={"X-Twilio-Signature": signature},
        )
    if response.status_code != 200:
        raise ReplyRefusedError(f"HTTP {response.status_code}")
    return twiml_messages(response.text)
