"""A sandbox phone picking up Tocsin's call, as Twilio runs it: the call's TwiML is
fetched from the gateway's voice webhook and a key pressed is posted to the
``action`` of its ``<Gather>``, both signed with the auth token, so that
everything after the keypad is the real path (the console's phone simulator, the
demo). Apart from the webhooks' module so that the demo answers without importing
the web framework."""

from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
from twilio.request_validator import RequestValidator

from definitions.voice_calls import twiml_url
from store.sms_threads import PhoneCall


@dataclass(frozen=True)
class CallScreen:
    """What the phone says once picked up, and where a key pressed goes (None when
    the call only speaks)."""

    spoken: list[str]
    gather_action: str | None


def _screen(twiml: str) -> CallScreen:
    root = ElementTree.fromstring(twiml)
    gather = root.find("Gather")
    said = gather.iter("Say") if gather is not None else root.iter("Say")
    return CallScreen(
        spoken=[node.text or "" for node in said],
        gather_action=gather.get("action") if gather is not None else None,
    )


def _said(twiml: str) -> list[str]:
    return [node.text or "" for node in ElementTree.fromstring(twiml).iter("Say")]


@dataclass(frozen=True)
class SimulatedHandset:
    """One sandbox phone answering Tocsin's calls through ``gateway`` (an HTTP client
    of the gateway whose public URL is ``public_url``)."""

    gateway: httpx.AsyncClient
    auth_token: str
    public_url: str
    sender_id: str
    number: str

    async def _post(self, url: str, call: PhoneCall, params: dict[str, str]) -> str:
        """Twilio's signed POST to ``url`` (a public URL of the gateway): its TwiML."""
        form = {
            "CallSid": call.call_sid,
            "AccountSid": "sandbox",
            "From": self.sender_id,
            "To": self.number,
            "Direction": "outbound-api",
            "CallStatus": "in-progress",
            **params,
        }
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        parts = urlsplit(url)
        response = await self.gateway.post(
            parts.path + (f"?{parts.query}" if parts.query else ""),
            data=form,
            headers={"X-Twilio-Signature": signature},
        )
        response.raise_for_status()
        return response.text

    async def pick_up(self, call: PhoneCall) -> CallScreen:
        url = twiml_url(self.public_url, call.key, call.code)
        return _screen(await self._post(url, call, {"AnsweredBy": "human"}))

    async def press(self, call: PhoneCall, digit: str) -> list[str]:
        """What the phone says after ``digit`` (nothing when the call awaits none)."""
        action = (await self.pick_up(call)).gather_action
        if action is None:
            return []
        return _said(await self._post(action, call, {"Digits": digit, "FinishedOnKey": ""}))
