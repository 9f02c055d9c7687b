"""A sandbox phone picking up Tocsin's call, as a handset does: it talks to its
carrier, the local Twilio-compatible server, which fetches the call's TwiML from
the gateway's voice webhook and posts a key pressed to the ``action`` of its
``<Gather>``, both signed, and reports the call's progress (answered, ended) to
the gateway as Twilio would. Everything after the keypad is the real path (the
console's phone simulator, the demo). Apart from the webhooks' module so that the
demo answers without importing the web framework."""

from dataclasses import dataclass
from xml.etree import ElementTree

import httpx

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
    """One sandbox phone answering Tocsin's calls through ``carrier`` (an HTTP
    client of the local Twilio-compatible server)."""

    carrier: httpx.AsyncClient

    async def pick_up(self, call: PhoneCall) -> CallScreen | None:
        """What the phone says, answering first if it rings; None once the call
        has ended (hung up, or rung unanswered)."""
        response = await self.carrier.post(f"/sandbox/Calls/{call.call_sid}/answer")
        if response.status_code in (404, 409):
            return None
        response.raise_for_status()
        return _screen(response.text)

    async def press(self, call: PhoneCall, digit: str) -> list[str]:
        """What the phone says after ``digit`` (nothing when the call awaits none)."""
        screen = await self.pick_up(call)
        if screen is None or screen.gather_action is None:
            return []
        response = await self.carrier.post(
            f"/sandbox/Calls/{call.call_sid}/press", data={"Digits": digit}
        )
        if response.status_code == 409:
            return []
        response.raise_for_status()
        return _said(response.text)
