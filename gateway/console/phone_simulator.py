"""The local sandbox's phones, in the console: the SMS each fictional contact
received, and a box to answer as that phone would; the last call Tocsin placed to
it, picked up when the page opens, with what it says and a keypad. An SMS answer
goes through the signed Twilio webhook like a real one; the call through the
local Twilio-compatible server (``carrier_url``), which fetches its TwiML and
reports its progress as Twilio would. Everything after it is the real path."""

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import urlencode

import httpx
import structlog
from anyio import to_thread
from fastapi import APIRouter, Form, Path, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.access import Guards
from gateway.console.pages import render
from gateway.inbound_calls import CallScreen, SimulatedHandset
from gateway.inbound_sms import INBOUND_SMS_PATH, signed_inbound_sms, twiml_messages
from store import sms_threads
from store.database import Store

log = structlog.get_logger(__name__)

NumberPath = Annotated[str, Path(pattern=r"^\+\d{6,15}$")]
SMS_MAX_LENGTH = 640
CARRIER_TIMEOUT = 15.0
"""The carrier waits for the gateway's TwiML in turn."""
KEYPAD = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"]


def phone_simulator_router(
    store: Store,
    guards: Guards,
    *,
    auth_token: str,
    public_url: str,
    sender_id: str,
    carrier_url: str,
) -> APIRouter:
    router = APIRouter(prefix="/telephones", include_in_schema=False)

    @router.get("", dependencies=[guards.staff])
    def phone_list(request: Request) -> HTMLResponse:
        with store.session() as session:
            lines = sms_threads.phones(session)
        return render(request, "console/phones.html", phones=lines)

    @contextlib.asynccontextmanager
    async def handset() -> AsyncIterator[SimulatedHandset]:
        """A phone on the local carrier."""
        async with httpx.AsyncClient(base_url=carrier_url, timeout=CARRIER_TIMEOUT) as carrier:
            yield SimulatedHandset(carrier)

    def read_phone(number: str) -> tuple[list[sms_threads.Sms], sms_threads.PhoneCall | None]:
        with store.session() as session:
            return sms_threads.thread(session, number), sms_threads.last_call(session, number)

    def read_call(number: str) -> sms_threads.PhoneCall | None:
        with store.session() as session:
            return sms_threads.last_call(session, number)

    @router.get("/{number}", dependencies=[guards.staff])
    async def phone(
        request: Request,
        number: NumberPath,
        reponse: Annotated[list[str] | None, Query(max_length=5)] = None,
    ) -> HTMLResponse:
        """``reponse``: what Tocsin answered at once to the last SMS sent, or key
        pressed, from here."""
        thread, call = await to_thread.run_sync(read_phone, number)
        screen: CallScreen | None = None
        if call is not None:
            async with handset() as phone:
                screen = await phone.pick_up(call)
        return render(
            request,
            "console/phone.html",
            number=number,
            thread=thread,
            call=call,
            screen=screen,
            keypad=KEYPAD,
            answers=reponse or [],
        )

    @router.post("/{number}/clavier", dependencies=[guards.staff])
    async def press(
        number: NumberPath,
        key: Annotated[str, Form(max_length=300)],
        digit: Annotated[str, Form(pattern=r"^[0-9*#]$")],
    ) -> Response:
        """A key pressed during the last call, on its ``<Gather>``."""
        call = await to_thread.run_sync(read_call, number)
        spoken: list[str] = []
        if call is not None and call.key == key:
            async with handset() as phone:
                spoken = await phone.press(call, digit)
        log.info("console.phone_key_pressed", answered=bool(spoken))
        query = urlencode({"reponse": spoken}, doseq=True)
        return RedirectResponse(
            f"/telephones/{number}" + (f"?{query}" if query else ""), status.HTTP_303_SEE_OTHER
        )

    @router.get("/{number}/fil", dependencies=[guards.staff])
    def phone_thread(request: Request, number: NumberPath) -> HTMLResponse:
        with store.session() as session:
            thread = sms_threads.thread(session, number)
        return render(request, "console/phone_thread.html", thread=thread)

    @router.post("/{number}", dependencies=[guards.staff])
    async def answer(
        request: Request, number: NumberPath, text: Annotated[str, Form(max_length=SMS_MAX_LENGTH)]
    ) -> Response:
        params, signature = signed_inbound_sms(
            auth_token, public_url, sender=number, to=sender_id, text=text
        )
        transport = httpx.ASGITransport(app=request.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway:
            response = await gateway.post(
                INBOUND_SMS_PATH, data=params, headers={"X-Twilio-Signature": signature}
            )
        answers = twiml_messages(response.text) if response.status_code == 200 else []
        log.info("console.phone_answered", status=response.status_code)
        query = urlencode({"reponse": answers}, doseq=True)
        return RedirectResponse(
            f"/telephones/{number}" + (f"?{query}" if query else ""), status.HTTP_303_SEE_OTHER
        )

    return router
