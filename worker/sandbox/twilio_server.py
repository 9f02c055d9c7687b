"""A Twilio-compatible server for the 2010-04-01 Messages and Calls resources:
form-encoded POST, JSON answers, Twilio error bodies, the list filters used to
reconcile after a crash, and signed status callbacks. Faults can be queued to
rehearse provider trouble (500, 429, a timeout after acceptance, permanent
errors), or a storm of them declared for a while.

A call rings until a handset answers it (a test, or the console's phone
simulator through the ``/sandbox/Calls`` routes): the server then fetches its
TwiML, signed as Twilio signs it, and the handset may press keys on the
``<Gather>`` it got. As Twilio does, the server reports the call's progress to
its ``StatusCallback`` on its own: ``initiated`` and ``ringing``, ``in-progress``
once answered, then ``completed`` when the TwiML hangs up or the gathers wait
in vain; ``no-answer`` when nobody picks up within the call's ``Timeout``."""

import asyncio
import base64
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from email.utils import format_datetime
from enum import StrEnum
from typing import Annotated, Any
from xml.etree import ElementTree

import httpx
from fastapi import FastAPI, Form, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from twilio.request_validator import RequestValidator

API_PREFIX = "/2010-04-01/Accounts/{account_sid}"
CALLBACKS_IN_FLIGHT = 16
CALLBACK_KEEPALIVE_SECONDS = 2.0
"""Below the gateway's 5 s (uvicorn's default): at the same 5 s, a callback now and
then went out on a connection the gateway was closing, and was lost (a fault test
counted 33 deliveries of 34 SMS)."""
RING_SECONDS = 60.0
"""How long a call rings when its request gives no ``Timeout`` (Twilio's default)."""
GATHER_TIMEOUT_SECONDS = 5.0
"""How long a ``<Gather>`` without ``timeout`` waits for a key (Twilio's default)."""
WORDS_SAID_PER_SECOND = 2.5
CALL_ENDS = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


class Fault(StrEnum):
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    TIMEOUT_AFTER_ACCEPT = "timeout_after_accept"
    INVALID_NUMBER = "invalid_number"
    UNSUBSCRIBED = "unsubscribed"
    UNDELIVERED = "undelivered"
    UNKNOWN_HANDSET = "unknown_handset"


_UNDELIVERED_CODES = {Fault.UNDELIVERED: 30003, Fault.UNKNOWN_HANDSET: 30005}
"""The carrier's word: a handset switched off for now, a number that no longer exists."""

_ERRORS = {
    Fault.SERVER_ERROR: (500, 20500, "Internal Server Error"),
    Fault.RATE_LIMITED: (429, 20429, "Too Many Requests"),
    Fault.INVALID_NUMBER: (400, 21211, "The 'To' number is not a valid phone number."),
    Fault.UNSUBSCRIBED: (400, 21610, "Attempt to send to unsubscribed recipient"),
}


class SandboxMessage(BaseModel):
    sid: str
    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status: str
    status_callback: str | None
    date_created: datetime
    error_code: int | None = None

    def resource(self) -> dict[str, Any]:
        stamp = format_datetime(self.date_created)
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "to": self.to,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "body": self.body,
            "status": self.status,
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "date_created": stamp,
            "date_updated": stamp,
            "date_sent": stamp,
            "error_code": self.error_code,
            "error_message": None,
            "price": None,
            "price_unit": "EUR",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{self.sid}.json",
            "subresource_uris": {},
        }


class SandboxCall(BaseModel):
    """A call as placed, with the parameters of its request."""

    sid: str
    account_sid: str
    to: str
    from_: str
    url: str
    params: dict[str, list[str]]
    """Every parameter of the request, each with all its values."""
    status: str
    date_created: datetime
    answered: bool = False
    twiml: str = ""
    """What the phone was last told to say (empty until answered)."""

    @property
    def ring_seconds(self) -> float:
        timeout = self.params.get("Timeout", [""])[0]
        return float(timeout) if timeout.isdigit() else RING_SECONDS

    def resource(self) -> dict[str, Any]:
        stamp = format_datetime(self.date_created)
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "to": self.to,
            "from": self.from_,
            "status": self.status,
            "direction": "outbound-api",
            "date_created": stamp,
            "date_updated": stamp,
            "start_time": stamp,
            "end_time": None,
            "duration": None,
            "price": None,
            "price_unit": "EUR",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{self.sid}.json",
            "subresource_uris": {},
        }


def _moment(value: str) -> datetime:
    """The spec says date-time; its prose says ``YYYY-MM-DD``: both are accepted."""
    if len(value) == len("YYYY-MM-DD"):
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _one_page(
    resource: str, account_sid: str, items: list[dict[str, Any]], page_size: int
) -> JSONResponse:
    """A list answer as Twilio pages it, here always a single page."""
    uri = f"/2010-04-01/Accounts/{account_sid}/{resource}.json"
    return JSONResponse(
        {
            resource.lower(): items,
            "page": 0,
            "page_size": page_size,
            "start": 0,
            "end": max(len(items) - 1, 0),
            "uri": uri,
            "first_page_uri": uri,
            "next_page_uri": None,
            "previous_page_uri": None,
        }
    )


def _gathers(twiml: str) -> list[ElementTree.Element]:
    try:
        return ElementTree.fromstring(twiml).findall("Gather")
    except ElementTree.ParseError:
        return []


def _listening_seconds(twiml: str) -> float:
    """How long a phone stays on a TwiML before it hangs up unanswered: each
    ``<Gather>`` says its question, then waits its timeout for a key."""
    seconds = 0.0
    for gather in _gathers(twiml):
        words = sum(len((say.text or "").split()) for say in gather.iter("Say"))
        seconds += float(gather.get("timeout", GATHER_TIMEOUT_SECONDS))
        seconds += words / WORDS_SAID_PER_SECOND
    return seconds


async def _moved_within(moved: asyncio.Event, seconds: float) -> bool:
    """Whether something happened to the call within ``seconds``."""
    try:
        await asyncio.wait_for(moved.wait(), seconds)
    except TimeoutError:
        return False
    moved.clear()
    return True


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


class TwilioSandbox:
    """Keeps every accepted message in memory, in order."""

    def __init__(self, account_sid: str, auth_token: str, *, timeout_delay: float = 5.0) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.timeout_delay = timeout_delay
        self.messages: list[SandboxMessage] = []
        self.calls: list[SandboxCall] = []
        self.faults: deque[Fault] = deque()
        self.faulty_numbers: dict[str, Fault] = {}
        """Every message to one of these numbers meets its fault, as a dead SIM would."""
        self.storm_refusals = 0
        """Requests answered 500 or 429 by storms so far."""
        self._storm_until = 0.0
        self.base_url = ""
        self.app = self._build()
        self._callbacks: set[asyncio.Task[None]] = set()
        self._callback_client: httpx.AsyncClient | None = None
        """One connection pool for every callback, as a carrier's would be."""
        self._callback_gate: asyncio.Semaphore | None = None
        """Callbacks wait their turn here: httpcore's pool slows down with the
        square of the requests queued in it, thousands in a national run."""
        self.reports_progress = True
        """False: a call's progress is reported only as a test tells (``report``)."""
        self.ring_seconds: float | None = None
        """How long every call rings unanswered (None: its request's ``Timeout``)."""
        self._moved: dict[str, asyncio.Event] = {}
        """Set whenever a call is answered, told a TwiML, or hung up."""

    def _authorised(self, authorization: str | None) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return authorization == f"Basic {expected}"

    def storm(self, seconds: float) -> None:
        """For that long, every request meets a 500 or a 429 in turn, as in a
        provider's incident."""
        self._storm_until = time.monotonic() + seconds

    def _storm_error(self) -> JSONResponse | None:
        if time.monotonic() >= self._storm_until:
            return None
        self.storm_refusals += 1
        return _error(
            *_ERRORS[Fault.SERVER_ERROR if self.storm_refusals % 2 else Fault.RATE_LIMITED]
        )

    def sent_to(self, number: str) -> list[SandboxMessage]:
        return [message for message in self.messages if message.to == number]

    def calls_to(self, number: str) -> list[SandboxCall]:
        return [call for call in self.calls if call.to == number]

    async def _fetch(self, call: SandboxCall, url: str, params: dict[str, str]) -> str:
        """What the gateway answers Twilio's signed POST to ``url`` (TwiML)."""
        form = {
            "CallSid": call.sid,
            "AccountSid": call.account_sid,
            "From": call.from_,
            "To": call.to,
            "Direction": "outbound-api",
            "CallStatus": "in-progress",
            **params,
        }
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(url, data=form, headers={"X-Twilio-Signature": signature})
        response.raise_for_status()
        return response.text

    def _heard(self, call: SandboxCall, twiml: str) -> str:
        """The phone is on ``twiml`` now: without a ``<Gather>``, it speaks and hangs up."""
        call.twiml = twiml
        if call.status not in CALL_ENDS:
            call.status = "in-progress" if _gathers(twiml) else "completed"
            if moved := self._moved.get(call.sid):
                moved.set()
        return twiml

    async def answer(self, call: SandboxCall, answered_by: str = "human") -> str:
        """The callee picks up (or a voicemail does, ``machine_end_beep``): the
        TwiML of the call's URL."""
        twiml = await self._fetch(call, call.url, {"AnsweredBy": answered_by})
        call.answered = True
        return self._heard(call, twiml)

    async def report(self, call: SandboxCall, call_status: str) -> int:
        """A progress callback (``ringing``, ``completed``…) to the call's
        ``StatusCallback``, signed; the gateway's HTTP status."""
        url = call.params.get("StatusCallback", [""])[0]
        form = {"CallSid": call.sid, "AccountSid": call.account_sid, "CallStatus": call_status}
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(url, data=form, headers={"X-Twilio-Signature": signature})
        return response.status_code

    async def press(self, call: SandboxCall, action: str, digits: str) -> str:
        """Keys pressed on a ``<Gather>``: the TwiML of its ``action`` URL."""
        return self._heard(
            call, await self._fetch(call, action, {"Digits": digits, "FinishedOnKey": ""})
        )

    def _build(self) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            yield
            for task in list(self._callbacks):
                task.cancel()

        app = FastAPI(title="Twilio sandbox", docs_url=None, redoc_url=None, lifespan=lifespan)
        self._handset_routes(app)

        @app.post(API_PREFIX + "/Calls.json")
        async def create_call(
            account_sid: str,
            request: Request,
            authorization: Annotated[str | None, Header()] = None,
        ) -> JSONResponse:
            if not self._authorised(authorization) or account_sid != self.account_sid:
                return _error(401, 20003, "Authenticate")
            if (storm := self._storm_error()) is not None:
                return storm
            params: dict[str, list[str]] = {}
            for name, value in (await request.form()).multi_items():
                params.setdefault(name, []).append(str(value))
            to, sender, url = (params.get(name, [""])[0] for name in ("To", "From", "Url"))
            if not to:
                return _error(400, 21201, "No 'To' number is specified")
            if not sender:
                return _error(400, 21213, "No 'From' number is specified")
            if not url and "Twiml" not in params and "ApplicationSid" not in params:
                return _error(400, 21205, "Url parameter is required.")
            fault = self.faulty_numbers.get(to) or (self.faults.popleft() if self.faults else None)
            if fault in _ERRORS:
                return _error(*_ERRORS[fault])
            call = SandboxCall(
                sid="CA" + secrets.token_hex(16),
                account_sid=account_sid,
                to=to,
                from_=sender,
                url=url,
                params=params,
                status="queued",
                date_created=datetime.now(UTC),
            )
            self.calls.append(call)
            self._moved[call.sid] = asyncio.Event()
            if self.reports_progress and params.get("StatusCallback"):
                self._in_background(self._progress(call))
            if fault is Fault.TIMEOUT_AFTER_ACCEPT:
                await asyncio.sleep(self.timeout_delay)
            return JSONResponse(status_code=201, content=call.resource())

        @app.get(API_PREFIX + "/Calls.json")
        async def list_calls(
            account_sid: str,
            *,
            authorization: Annotated[str | None, Header()] = None,
            to: Annotated[str | None, Query(alias="To")] = None,
            started_after: Annotated[str | None, Query(alias="StartTime>")] = None,
            page_size: Annotated[int, Query(alias="PageSize", ge=1, le=1000)] = 50,
        ) -> JSONResponse:
            if not self._authorised(authorization):
                return _error(401, 20003, "Authenticate")
            found = [
                call
                for call in reversed(self.calls)
                if (to is None or call.to == to)
                and (started_after is None or call.date_created >= _moment(started_after))
            ][:page_size]
            return _one_page("Calls", account_sid, [call.resource() for call in found], page_size)

        @app.post(API_PREFIX + "/Messages.json")
        async def create(
            account_sid: str,
            request: Request,
            authorization: Annotated[str | None, Header()] = None,
        ) -> JSONResponse:
            if not self._authorised(authorization) or account_sid != self.account_sid:
                return _error(401, 20003, "Authenticate")
            if (storm := self._storm_error()) is not None:
                return storm
            form = await request.form()
            to, body = str(form.get("To", "")), str(form.get("Body", ""))
            sender, service = form.get("From"), form.get("MessagingServiceSid")
            if not to:
                return _error(400, 21604, "A 'To' phone number is required.")
            if not sender and not service:
                return _error(400, 21603, "A 'From' or 'MessagingServiceSid' is required.")
            fault = self.faulty_numbers.get(to) or (self.faults.popleft() if self.faults else None)
            if fault in _ERRORS:
                return _error(*_ERRORS[fault])
            message = SandboxMessage(
                sid="SM" + secrets.token_hex(16),
                account_sid=account_sid,
                to=to,
                from_=str(sender) if sender else None,
                messaging_service_sid=str(service) if service else None,
                body=body,
                status="queued",
                status_callback=str(form["StatusCallback"]) if form.get("StatusCallback") else None,
                date_created=datetime.now(UTC),
            )
            self.messages.append(message)
            self._deliver_later(message, _UNDELIVERED_CODES.get(fault) if fault else None)
            if fault is Fault.TIMEOUT_AFTER_ACCEPT:
                await asyncio.sleep(self.timeout_delay)
            return JSONResponse(status_code=201, content=message.resource())

        @app.get(API_PREFIX + "/Messages.json")
        async def list_messages(
            account_sid: str,
            *,
            authorization: Annotated[str | None, Header()] = None,
            to: Annotated[str | None, Query(alias="To")] = None,
            sent_after: Annotated[str | None, Query(alias="DateSent>")] = None,
            sent_on: Annotated[date | None, Query(alias="DateSent")] = None,
            page_size: Annotated[int, Query(alias="PageSize", ge=1, le=1000)] = 50,
        ) -> JSONResponse:
            if not self._authorised(authorization):
                return _error(401, 20003, "Authenticate")
            if (storm := self._storm_error()) is not None:
                return storm
            found = [
                message
                for message in reversed(self.messages)
                if (to is None or message.to == to)
                and (sent_after is None or message.date_created >= _moment(sent_after))
                and (sent_on is None or message.date_created.date() == sent_on)
            ][:page_size]
            resources = [message.resource() for message in found]
            return _one_page("Messages", account_sid, resources, page_size)

        return app

    def _handset_routes(self, app: FastAPI) -> None:
        """What a simulated phone does on its call (not Twilio's API: a handset
        talks to its carrier, and the carrier to the TwiML's server)."""

        @app.post("/sandbox/Calls/{sid}/answer")
        async def pick_up(sid: str) -> Response:
            """The TwiML the phone is on, picking up first if it rings."""
            call = next((call for call in self.calls if call.sid == sid), None)
            if call is None:
                return _error(404, 20404, "The requested resource was not found")
            if call.status in CALL_ENDS:
                return _error(409, 21220, f"Call is {call.status}")
            twiml = call.twiml if call.answered else await self.answer(call)
            return Response(content=twiml, media_type="application/xml")

        @app.post("/sandbox/Calls/{sid}/press")
        async def press(sid: str, digits: Annotated[str, Form(alias="Digits")]) -> Response:
            """A key pressed on the ``<Gather>`` the phone is on."""
            call = next((call for call in self.calls if call.sid == sid), None)
            if call is None:
                return _error(404, 20404, "The requested resource was not found")
            gathers = _gathers(call.twiml) if call.status == "in-progress" else []
            if not gathers:
                return _error(409, 21220, f"Call is {call.status}, awaiting no key")
            twiml = await self.press(call, gathers[0].get("action", ""), digits)
            return Response(content=twiml, media_type="application/xml")

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._callbacks.add(task)
        task.add_done_callback(self._callbacks.discard)

    async def _post_callback(self, url: str, params: dict[str, str]) -> bool:
        """One signed status callback, in the shared pool; False if it did not get there."""
        if self._callback_client is None or self._callback_gate is None:
            self._callback_client = httpx.AsyncClient(
                timeout=10,
                limits=httpx.Limits(
                    max_connections=CALLBACKS_IN_FLIGHT,
                    keepalive_expiry=CALLBACK_KEEPALIVE_SECONDS,
                ),
            )
            self._callback_gate = asyncio.Semaphore(CALLBACKS_IN_FLIGHT)
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        try:
            async with self._callback_gate:
                await self._callback_client.post(
                    url, data=params, headers={"X-Twilio-Signature": signature}
                )
        except httpx.HTTPError:
            return False
        return True

    async def _progress(self, call: SandboxCall) -> None:
        """The call's life as Twilio reports it: each requested event, and its end."""
        moved = self._moved[call.sid]
        events = set(call.params.get("StatusCallbackEvent", []))
        sequence = 0

        async def report(call_status: str, event: str = "") -> None:
            nonlocal sequence
            if event and event not in events:
                return
            await self._post_callback(
                call.params["StatusCallback"][0],
                {
                    "CallSid": call.sid,
                    "AccountSid": call.account_sid,
                    "From": call.from_,
                    "To": call.to,
                    "Direction": "outbound-api",
                    "CallStatus": call_status,
                    "CallbackSource": "call-progress-events",
                    "SequenceNumber": str(sequence),
                },
            )
            sequence += 1

        await asyncio.sleep(0.05)
        await report("initiated", "initiated")
        if call.status == "queued":
            call.status = "ringing"
        await report("ringing", "ringing")
        ring = self.ring_seconds if self.ring_seconds is not None else call.ring_seconds
        while not call.answered and call.status == "ringing":
            if not await _moved_within(moved, ring):
                call.status = "no-answer"
        if call.answered:
            await report("in-progress", "answered")
        while call.status == "in-progress":
            if not await _moved_within(moved, _listening_seconds(call.twiml)):
                call.status = "completed"
        await report(call.status)

    def _deliver_later(self, message: SandboxMessage, undelivered: int | None) -> None:
        if message.status_callback:
            self._in_background(self._callback(message, undelivered))

    async def _callback(self, message: SandboxMessage, undelivered: int | None) -> None:
        """Sent, then delivered (or undelivered with that code), as a carrier would report."""
        outcome = ("undelivered", undelivered) if undelivered else ("delivered", None)
        for status, code in (("sent", None), outcome):
            await asyncio.sleep(0.05)
            message.status, message.error_code = status, code
            params = {
                "MessageSid": message.sid,
                "MessageStatus": status,
                "To": message.to,
                "AccountSid": message.account_sid,
                **({"ErrorCode": str(code)} if code else {}),
            }
            if not await self._post_callback(message.status_callback or "", params):
                return
