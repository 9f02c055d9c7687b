"""Calling a silent designation candidate, under the time-skipping server: the
real worker places the call with the twilio client on the Twilio-compatible
sandbox, which fetches the gateway's TwiML signed as Twilio signs it, and the
test presses keys on the phone's keypad."""

import asyncio
import contextlib
import dataclasses
import functools
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import httpx
import pytest_asyncio
from sqlmodel import select
from structlog.testing import capture_logs
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from definitions.crisis_log import CrisisLogKind
from definitions.designation import Answer
from definitions.event import EventDeclaration
from definitions.event_status import EventStatus
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.outgoing import Channel, OutboxEntry, OutboxStatus
from definitions.temporal_names import designation_workflow_id
from gateway.app import create_app
from store import events, outbox, reply_codes
from store.database import Store
from store.tables import OutboxRow
from tests.conftest import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    Phone,
    candidates_asked,
    create_account,
    idle,
    sign_in,
    stand_down,
    start_event,
    until_status,
)
from worker.sandbox.twilio_server import Fault, SandboxCall, TwilioSandbox
from worker.temporal_workers import Messaging, running_workers
from workflows.major_event import MajorEventWorkflow

T = TypeVar("T")
CALL_AFTER = timedelta(minutes=5)
ANSWER_DEADLINE = timedelta(minutes=10)
FIRST = "+33639980101"
SECOND = "+33639980102"
CANDIDATES = (FIRST, SECOND, "+33639980103")
STAFF_PHONE = "+33639980110"
LILLE = EventDeclaration(type=EventType.ATTENTAT, communes=["59350"], title="Attaque au couteau")
TWILIO_SPEC = Path(__file__).parents[2] / "shared" / "twilio" / "twilio_api_v2010.json"
CALLS_PATH = "/2010-04-01/Accounts/{AccountSid}/Calls.json"

DRILL = LILLE.model_copy(update={"exercise": True, "title": "Exercice attaque au couteau"})


class Declare(Protocol):
    def __call__(
        self, declaration: EventDeclaration = LILLE
    ) -> Awaitable[WorkflowHandle[MajorEventWorkflow, EventStatus]]: ...


@pytest_asyncio.fixture(loop_scope="session")
async def declare(
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
) -> AsyncIterator[Declare]:
    """Workers whose calls send Twilio to this test's gateway."""
    voice = dataclasses.replace(messaging.voice, public_url=phone.public_url)
    calling = dataclasses.replace(messaging, voice=voice)
    started: list[WorkflowHandle[MajorEventWorkflow, EventStatus]] = []

    async def declare(
        declaration: EventDeclaration = LILLE,
    ) -> WorkflowHandle[MajorEventWorkflow, EventStatus]:
        event_id = f"attentat-appel-{uuid.uuid4().hex[:8]}"
        handle = await start_event(time_skipping_env.client, task_queue, declaration, event_id)
        started.append(handle)
        return handle

    async with running_workers(
        time_skipping_env.client, store_with_network, task_queue, definitions, calling
    ):
        yield declare
        for handle in started:
            await stand_down(handle)


async def _eventually(check: Callable[[], list[T]]) -> list[T]:
    for _ in range(200):
        if found := check():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("nothing arrived")


async def _skip(env: WorkflowEnvironment, duration: timedelta, event_id: str) -> None:
    await idle(env, event_id, designation_workflow_id(event_id, 1))
    await env.sleep(duration)


async def _called(
    declare: Declare,
    env: WorkflowEnvironment,
    sandbox: TwilioSandbox,
    declaration: EventDeclaration = LILLE,
) -> tuple[WorkflowHandle[MajorEventWorkflow, EventStatus], SandboxCall]:
    """An event whose first candidate, silent, has just been called."""
    handle = await declare(declaration)
    await until_status(handle, candidates_asked(1))
    assert sandbox.calls_to(FIRST) == []
    await _skip(env, CALL_AFTER, handle.id)
    calls = await _eventually(lambda: sandbox.calls_to(FIRST))
    assert len(calls) == 1
    await until_status(handle, _first_called)
    return handle, calls[0]


async def _area(handle: WorkflowHandle[MajorEventWorkflow, EventStatus]) -> str:
    status = await handle.query(MajorEventWorkflow.status)
    assert status.territory is not None
    area = status.territory.area()
    assert area.startswith("Nord (59)")
    return area


async def _call_row(store: Store, event_id: str, *ended: OutboxStatus) -> OutboxEntry:
    """The event's call in the outbox, once it has one of the ``ended`` statuses."""

    def read() -> list[OutboxEntry]:
        with store.session() as session:
            rows = [e for e in outbox.entries(session, event_id) if e.channel is Channel.VOICE]
        return [row for row in rows if row.status in ended]

    (row,) = await _eventually(read)
    return row


def _first_called(status: EventStatus) -> bool:
    designation = status.designation
    return designation is not None and Channel.VOICE in designation.attempts[0].channels


def _designated(status: EventStatus) -> bool:
    return status.designation is not None and not status.designation.searching


def _gathers(twiml: str) -> list[ElementTree.Element]:
    return ElementTree.fromstring(twiml).findall("Gather")


def _code_in_sms(sandbox: TwilioSandbox, phone: str) -> str:
    found = re.search(r"OUI (\d{4})", sandbox.sent_to(phone)[-1].body)
    assert found is not None
    return found.group(1)


def _accepted_by_spec(params: dict[str, list[str]]) -> None:
    """The request as Twilio's OpenAPI description of CreateCallRequest reads it."""
    spec: dict[str, Any] = json.loads(TWILIO_SPEC.read_text(encoding="utf-8"))
    body = spec["paths"][CALLS_PATH]["post"]["requestBody"]["content"]
    schema = body["application/x-www-form-urlencoded"]["schema"]
    properties: dict[str, dict[str, Any]] = schema["properties"]
    assert set(schema["required"]) <= params.keys()
    for name, values in params.items():
        assert name in properties, f"{name} is not a Calls parameter"
        rule = properties[name]
        if rule.get("type") != "array":
            assert len(values) == 1, f"{name} given {len(values)} times"
        for value in values:
            if "enum" in rule:
                assert value in rule["enum"], f"{name}={value}"
            if rule.get("type") == "integer":
                assert value.isdigit(), f"{name}={value}"
            if rule.get("format") == "uri":
                assert urlsplit(value).scheme in ("http", "https"), f"{name}={value}"


async def test_a_silent_candidate_is_called_and_accepts_with_the_keypad(
    declare: Declare,
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    twilio_sandbox: TwilioSandbox,
    phone: Phone,
) -> None:
    """The test reports the call's progress itself, late and repeated."""
    twilio_sandbox.reports_progress = False
    handle, call = await _called(declare, time_skipping_env, twilio_sandbox)
    params = call.params
    assert params["To"] == [FIRST] and params["From"] == ["+33639989999"]
    assert params["Url"][0].startswith(phone.public_url + "/webhooks/twilio/voice?key=")
    assert params["StatusCallback"] == [phone.public_url + "/webhooks/twilio/voice/status"]
    assert params["MachineDetection"] == ["DetectMessageEnd"]
    assert set(params["StatusCallbackEvent"]) == {"initiated", "ringing", "answered", "completed"}
    _accepted_by_spec(params)

    twiml = await twilio_sandbox.answer(call)
    gathers = _gathers(twiml)
    assert len(gathers) == 3
    area = await _area(handle)
    for gather in gathers:
        say = gather.find("Say")
        assert gather.get("numDigits") == "1" and say is not None
        assert say.get("language") == "fr-FR"
        assert "Attaque au couteau" in (say.text or "") and "Tapez 1 pour accepter" in (
            say.text or ""
        )
        assert f"zone : {area}." in (say.text or "")
        assert not (say.text or "").startswith("Ceci est un exercice")
    action = gathers[0].get("action") or ""
    assert action.startswith(phone.public_url + "/webhooks/twilio/voice/gather?")

    answer = await twilio_sandbox.press(call, action, "1")
    assert "Votre réponse est enregistrée" in answer
    assert ElementTree.fromstring(answer).find("Hangup") is not None
    status = await until_status(handle, _designated)
    assert status.representative is not None
    assert status.representative.person.contact_id == "unccas-representant-1"
    assert status.designation is not None
    (attempt,) = status.designation.attempts
    assert attempt.answer is Answer.ACCEPTED
    assert {Channel.SMS, Channel.VOICE} <= set(attempt.channels)
    with store_with_network.session() as session:
        log = [entry.text for entry in events.crisis_log(session, handle.id)]
    assert any("appelé(e), sans réponse 5min" in text for text in log)
    assert len(twilio_sandbox.calls_to(FIRST)) == 1

    for progress in ("initiated", "ringing", "answered", "completed", "ringing"):
        assert await twilio_sandbox.report(call, progress) == 204
    with store_with_network.session() as session:
        (row,) = [e for e in outbox.entries(session, handle.id) if e.channel is Channel.VOICE]
        history = outbox.callbacks(session, row.key)
    assert row.status is OutboxStatus.DELIVERED and row.provider_id == call.sid
    assert row.step == "designation_request"
    assert [(c.status, c.applied) for c in history] == [
        (OutboxStatus.QUEUED, False),
        (OutboxStatus.SENT, True),
        (OutboxStatus.SENT, False),
        (OutboxStatus.DELIVERED, True),
        (OutboxStatus.SENT, False),
    ]


@contextlib.asynccontextmanager
async def _phone_simulator(
    env: WorkflowEnvironment, store: Store, sandbox: TwilioSandbox
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The console of the local sandbox, signed in as staff, with its phones
    ringing through ``sandbox``."""
    login = f"permanence-{uuid.uuid4().hex[:6]}"
    create_account(store, login)
    app = create_app(
        env.client,
        store,
        "unused",
        twilio_auth_token=TWILIO_AUTH_TOKEN,
        public_url="http://gateway",
        phone_simulator_sender="+33639989999",
        phone_simulator_carrier=sandbox.base_url,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as console:
        yield console, await sign_in(console, login)


async def test_two_on_the_phone_simulator_keypad_asks_the_next_candidate_at_once(
    declare: Declare,
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    twilio_sandbox: TwilioSandbox,
) -> None:
    """The call rings on the console's phone simulator, which says its question and
    shows a keypad; the key pressed there goes through the sandbox to the gateway,
    as through Twilio, and the call ends in the outbox."""
    handle, call = await _called(declare, time_skipping_env, twilio_sandbox)
    key = parse_qs(urlsplit(call.params["Url"][0]).query)["key"][0]
    async with _phone_simulator(time_skipping_env, store_with_network, twilio_sandbox) as (
        console,
        csrf,
    ):
        assert FIRST in (await console.get("/telephones")).text
        page = await console.get(f"/telephones/{FIRST}")
        assert "Appel de Tocsin" in page.text and "Attaque au couteau" in page.text
        assert "Tapez 1 pour accepter, 2 pour refuser." in page.text
        assert 'aria-label="Touche 2"' in page.text
        pressed = await console.post(
            f"/telephones/{FIRST}/clavier",
            data={"csrf_token": csrf, "key": key, "digit": "2"},
            follow_redirects=True,
        )
    assert "enregistrée" in pressed.text and "Dernier appel de Tocsin" in pressed.text
    assert 'aria-label="Touche 2"' not in pressed.text
    status = await until_status(handle, candidates_asked(2))
    assert status.designation is not None
    first, second = status.designation.attempts
    assert first.answer is Answer.DECLINED
    assert second.contact_id == "unccas-representant-2" and second.answer is Answer.WAITING
    assert twilio_sandbox.calls_to(SECOND) == []
    row = await _call_row(store_with_network, handle.id, OutboxStatus.DELIVERED)
    assert row.provider_id == call.sid


async def test_a_wrong_digit_asks_again_then_thanks_and_hangs_up(
    declare: Declare, time_skipping_env: WorkflowEnvironment, twilio_sandbox: TwilioSandbox
) -> None:
    handle, call = await _called(declare, time_skipping_env, twilio_sandbox)
    gathers = _gathers(await twilio_sandbox.answer(call))
    again = await twilio_sandbox.press(call, gathers[0].get("action") or "", "7")
    assert "Choix non reconnu" in again and len(_gathers(again)) == 2
    last = await twilio_sandbox.press(call, gathers[-1].get("action") or "", "9")
    assert _gathers(last) == [] and "Merci, au revoir" in last
    status = await until_status(handle, _first_called)
    assert status.designation is not None
    assert status.designation.attempts[0].answer is Answer.WAITING


async def test_a_voicemail_hears_the_sms_code_and_the_search_goes_on(
    declare: Declare, time_skipping_env: WorkflowEnvironment, twilio_sandbox: TwilioSandbox
) -> None:
    handle, call = await _called(declare, time_skipping_env, twilio_sandbox)
    code = _code_in_sms(twilio_sandbox, FIRST)
    twiml = await twilio_sandbox.answer(call, answered_by="machine_end_beep")
    assert _gathers(twiml) == []
    said = " ".join(node.text or "" for node in ElementTree.fromstring(twiml).iter("Say"))
    assert f"OUI {' '.join(code)}" in said
    await _skip(time_skipping_env, ANSWER_DEADLINE - CALL_AFTER, handle.id)
    status = await until_status(handle, candidates_asked(2))
    assert status.designation is not None
    assert status.designation.attempts[1].contact_id == "unccas-representant-2"


async def test_a_forged_voice_webhook_is_refused(phone: Phone) -> None:
    async with httpx.AsyncClient(base_url=phone.public_url) as http:
        forged = await http.post(
            "/webhooks/twilio/voice?key=x&code=1234",
            data={"CallSid": "CA" + "0" * 32, "AccountSid": TWILIO_ACCOUNT_SID},
            headers={"X-Twilio-Signature": "forged"},
        )
    assert forged.status_code == 403


async def test_a_round_without_anyone_calls_on_call_staff(
    declare: Declare,
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    twilio_sandbox: TwilioSandbox,
) -> None:
    handle = await declare()
    for asked, phone_number in enumerate(CANDIDATES, 1):
        await until_status(handle, candidates_asked(asked))
        await _skip(time_skipping_env, CALL_AFTER, handle.id)
        await _eventually(functools.partial(twilio_sandbox.calls_to, phone_number))
        await _skip(time_skipping_env, ANSWER_DEADLINE - CALL_AFTER, handle.id)
    (call,) = await _eventually(lambda: twilio_sandbox.calls_to(STAFF_PHONE))
    assert "code" not in call.params["Url"][0]
    twiml = await twilio_sandbox.answer(call)
    assert _gathers(twiml) == []
    said = ElementTree.fromstring(twiml).find("Say")
    assert said is not None and said.get("language") == "fr-FR" and said.get("loop") == "2"
    assert "Aucun représentant désigné après le tour 1, 3 sollicité(s)" in (said.text or "")
    with store_with_network.session() as session:
        log = events.crisis_log(session, handle.id)
    alerts = [entry.text for entry in log if entry.kind is CrisisLogKind.STAFF_ALERTED]
    assert len(alerts) == 1 and "1/1 appelé(s)" in alerts[0]


async def test_the_sandbox_reports_a_calls_progress_until_it_ends(
    declare: Declare,
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    twilio_sandbox: TwilioSandbox,
) -> None:
    """Nobody reports by hand: the sandbox tells the gateway the call rang, was
    answered, and ended once the keypad's answer was said."""
    handle, call = await _called(declare, time_skipping_env, twilio_sandbox)
    gathers = _gathers(await twilio_sandbox.answer(call))
    await twilio_sandbox.press(call, gathers[0].get("action") or "", "1")
    row = await _call_row(store_with_network, handle.id, OutboxStatus.DELIVERED)
    with store_with_network.session() as session:
        history = outbox.callbacks(session, row.key)
    assert row.provider_id == call.sid and call.status == "completed"
    assert (OutboxStatus.SENT, True) in [(c.status, c.applied) for c in history]
    assert (history[-1].status, history[-1].applied) == (OutboxStatus.DELIVERED, True)


async def test_a_call_nobody_picks_up_ends_unanswered(
    declare: Declare,
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    twilio_sandbox: TwilioSandbox,
) -> None:
    twilio_sandbox.ring_seconds = 0.2
    handle, call = await _called(declare, time_skipping_env, twilio_sandbox)
    row = await _call_row(store_with_network, handle.id, OutboxStatus.UNDELIVERED)
    assert row.provider_id == call.sid and call.status == "no-answer"
    status = await until_status(handle, _first_called)
    assert status.designation is not None
    assert status.designation.attempts[0].answer is Answer.WAITING


async def test_a_drill_call_says_it_is_a_drill_first(
    declare: Declare, time_skipping_env: WorkflowEnvironment, twilio_sandbox: TwilioSandbox
) -> None:
    handle, call = await _called(declare, time_skipping_env, twilio_sandbox, DRILL)
    gathers = _gathers(await twilio_sandbox.answer(call))
    area = await _area(handle)
    for gather in gathers:
        said = gather.findtext("Say") or ""
        assert said.startswith("Ceci est un exercice. ")
        assert "Exercice attaque au couteau" in said and f"zone : {area}." in said


async def test_an_unknown_call_hears_goodbye_and_changes_nothing(
    phone: Phone, store: Store
) -> None:
    call_sid = "CA" + uuid.uuid4().hex
    with capture_logs() as logs:
        for path, params in (
            ("/webhooks/twilio/voice?key=inconnue&code=1234", {}),
            ("/webhooks/twilio/voice/gather?key=inconnue&code=1234&asked=1", {"Digits": "1"}),
        ):
            answer = await phone.post(path, {"CallSid": call_sid, **params})
            assert answer.status_code == 200
            root = ElementTree.fromstring(answer.text)
            assert [node.text for node in root.iter("Say")] == ["Merci, au revoir."]
            assert root.find("Gather") is None and root.find("Hangup") is not None
        status = await phone.post(
            "/webhooks/twilio/voice/status", {"CallSid": call_sid, "CallStatus": "completed"}
        )
    assert status.status_code == 204
    unknown = [entry for entry in logs if entry["event"] == "call.unknown"]
    assert [entry["call_sid"] for entry in unknown] == [call_sid, call_sid]
    assert any(entry["event"] == "call.status_unknown_call" for entry in logs)
    with store.session() as session:
        assert session.exec(select(OutboxRow)).all() == []


async def test_a_digit_after_the_request_closed_is_told_so(
    declare: Declare,
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    twilio_sandbox: TwilioSandbox,
    phone: Phone,
) -> None:
    """The candidate answers NON by SMS while the call rings, someone else is
    designated, then 1 comes from the keypad: the request is closed."""
    handle, call = await _called(declare, time_skipping_env, twilio_sandbox)
    action = _gathers(await twilio_sandbox.answer(call))[0].get("action") or ""
    code = _code_in_sms(twilio_sandbox, FIRST)
    await phone.reply(FIRST, f"NON {code}")
    await until_status(handle, candidates_asked(2))
    await phone.reply(SECOND, f"OUI {_code_in_sms(twilio_sandbox, SECOND)}")
    await until_status(handle, _designated)

    def closed() -> list[bool]:
        with store_with_network.session() as session:
            rows = reply_codes.codes_of_phone(session, FIRST)
        return [True] if rows and rows[0].closed_at is not None else []

    await _eventually(closed)
    answer = await twilio_sandbox.press(call, action, "1")
    assert "Cette demande est close" in answer
    status = await handle.query(MajorEventWorkflow.status)
    assert status.representative is not None
    assert status.representative.person.contact_id == "unccas-representant-2"
    assert status.designation is not None
    assert status.designation.attempts[0].answer is Answer.DECLINED


async def test_a_call_the_provider_refuses_lets_the_designation_go_on(
    declare: Declare,
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    twilio_sandbox: TwilioSandbox,
) -> None:
    handle = await declare()
    await until_status(handle, candidates_asked(1))
    twilio_sandbox.faulty_numbers[FIRST] = Fault.INVALID_NUMBER
    await _skip(time_skipping_env, CALL_AFTER, handle.id)

    def refusals() -> list[str]:
        with store_with_network.session() as session:
            log = events.crisis_log(session, handle.id)
        return [entry.text for entry in log if entry.text.startswith("Appel à ")]

    (refused,) = await _eventually(refusals)
    assert "impossible" in refused and "21211" in refused
    assert twilio_sandbox.calls_to(FIRST) == []
    await _skip(time_skipping_env, ANSWER_DEADLINE - CALL_AFTER, handle.id)
    status = await until_status(handle, candidates_asked(2))
    assert status.designation is not None
    first, second = status.designation.attempts
    assert Channel.VOICE not in first.channels
    assert second.contact_id == "unccas-representant-2"
