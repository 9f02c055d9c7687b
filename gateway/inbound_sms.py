"""An SMS as Twilio posts it to the gateway, signed: how the sandbox's phones answer
(``tocsin sms-reply``, the console's phone simulator). Apart from the webhooks'
module so that the CLI sends a reply without importing the web framework."""

import secrets
from xml.etree import ElementTree

from twilio.request_validator import RequestValidator

PREFIX = "/webhooks/twilio"
INBOUND_SMS_PATH = PREFIX + "/sms"


def signed_inbound_sms(
    auth_token: str, public_url: str, *, sender: str, to: str, text: str
) -> tuple[dict[str, str], str]:
    """An SMS as Twilio posts it to us, and its signature: how the sandbox's phones
    answer (``tocsin sms-reply``, the console's phone simulator)."""
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": "sandbox",
        "From": sender,
        "To": to,
        "Body": text,
    }
    url = public_url.rstrip("/") + INBOUND_SMS_PATH
    return params, RequestValidator(auth_token).compute_signature(url, params)


def twiml_messages(twiml: str) -> list[str]:
    """The texts of a TwiML answer, as the phone would receive them."""
    return [node.text or "" for node in ElementTree.fromstring(twiml).iter("Message")]
