"""Mobilising the CCAS/CIAS of a department, on the time-skipping server, with the
demo directory, the real workers and gateway, and the local SMS and mail servers.

Ille-et-Vilaine (35): Acigné and Argentré-du-Plessis have a CCAS, Baussaine is
covered by the CIAS of its EPCI, Amanlis by nobody.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from definitions.answer_links import AnswerLinkClaim, sign_link
from definitions.competence import resolve_competence
from definitions.crisis_log import CrisisLogKind
from definitions.event import EventDeclaration
from definitions.event_status import EventStatus
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.mobilisation import (
    AreaExtension,
    CentreSupport,
    MobilisationStart,
    MobilisationStatus,
    SituationReport,
    SupportState,
)
from definitions.people import Person
from definitions.temporal_names import (
    BROADCAST_UPDATE,
    EXTEND_AREA_UPDATE,
    designation_workflow_id,
    mobilisation_workflow_id,
)
from definitions.territory import load_territory
from definitions.territory.declared_area import affected_communes
from store import centre_supports, directory, events
from store.database import Store
from store.directory import replace_directory
from tests.conftest import (
    BOTH_DATABASES,
    LINK_SECRET,
    Phone,
    idle,
    plain_text,
    record_event,
    stand_down,
    start_event,
    until_department,
    until_status,
)
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import Fault, TwilioSandbox
from worker.temporal_workers import Messaging, running_workers
from workflows.department_mobilisation import DepartmentMobilisationWorkflow

DEPARTMENT = "35"
ACIGNE, ARGENTRE, BAUSSAINE, AMANLIS = "35001", "35006", "35017", "35002"
FIRST_REPRESENTATIVE_PHONE = "+33639980004"
REMINDER_AFTER = timedelta(hours=2)
ESCALATION_AFTER = timedelta(hours=4)
REINFORCEMENT_DEADLINE = timedelta(hours=3)


@pytest.fixture
def tracked_messaging(messaging: Messaging, phone: Phone) -> Messaging:
    """Delivery receipts go back to the gateway, as Twilio's status callbacks do, and
    calls fetch their TwiML from it."""
    callback = phone.public_url + "/webhooks/twilio/status"
    return replace(
        messaging,
        twilio=replace(messaging.twilio, status_callback=callback),
        voice=replace(messaging.voice, public_url=phone.public_url),
    )


@pytest.fixture(scope="module")
def calling_definitions(definitions: Definitions) -> Definitions:
    """Floods whose protocol calls the centres still silent at escalation."""
    flood = definitions.protocols[EventType.INONDATION]
    mobilisation = flood.mobilisation.model_copy(update={"call_at_escalation": True})
    calling = flood.model_copy(update={"mobilisation": mobilisation})
    return replace(definitions, protocols={**definitions.protocols, EventType.INONDATION: calling})


Started = tuple[WorkflowHandle[Any, EventStatus], MobilisationStatus]


@pytest_asyncio.fixture(loop_scope="session")
async def mobilised(
    time_skipping_env: WorkflowEnvironment,
    demo_store: Store,
    task_queue: str,
    calling_definitions: Definitions,
    tracked_messaging: Messaging,
    phone: Phone,
) -> AsyncIterator[Callable[..., Any]]:
    """Declares a flood on the given communes, has the first representative accept
    by SMS, and gives back the event and its department once requests are out."""
    handles: list[WorkflowHandle[Any, EventStatus]] = []
    async with running_workers(
        time_skipping_env.client, demo_store, task_queue, calling_definitions, tracked_messaging
    ):

        async def declare(*communes: str) -> Started:
            declaration = EventDeclaration(
                type=EventType.INONDATION, communes=list(communes), title="Crue de la Vilaine"
            )
            event_id = f"inondation-test-{len(handles)}-{task_queue[-6:]}"
            handle = await start_event(time_skipping_env.client, task_queue, declaration, event_id)
            handles.append(handle)
            await until_status(handle, lambda s: bool(s.designation and s.designation.attempts))
            assert "bien reçue" in await phone.reply(FIRST_REPRESENTATIVE_PHONE, "oui")
            await until_status(handle, lambda s: bool(s.mobilised_departments))
            department = await until_department(
                time_skipping_env.client,
                event_id,
                DEPARTMENT,
                lambda d: (
                    bool(d.centres) and all(c.requested_at or c.unreachable_at for c in d.centres)
                ),
            )
            return handle, department

        yield declare
        for handle in handles:
            await stand_down(handle)


async def _runs(client: Client, workflow_id: str, run_id: str | None) -> int:
    """How many runs the workflow went through, following its continue-as-new chain."""
    runs = 0
    while run_id:
        runs += 1
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        last = history.events[-1]
        continued = last.workflow_execution_continued_as_new_event_attributes
        run_id = (
            continued.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else None
        )
    return runs


def _centre(department: MobilisationStatus, insee_code: str) -> CentreSupport:
    return next(c for c in department.centres if c.organisation_id == f"ccas-{insee_code}")


def _mobilised_and_delivered(answered: int) -> Callable[[MobilisationStatus], bool]:
    return lambda d: d.counts.mobilised == answered and d.counts.delivered == d.counts.requested


def _director_phone(centre: CentreSupport) -> str:
    phone = centre.recipients[0].phone
    assert phone is not None
    return phone


async def _skip(env: WorkflowEnvironment, event_id: str, duration: timedelta) -> None:
    await idle(
        env,
        event_id,
        designation_workflow_id(event_id, 1),
        mobilisation_workflow_id(event_id, DEPARTMENT),
    )
    await env.sleep(duration)


async def _department(
    env: WorkflowEnvironment, event_id: str, condition: Callable[[MobilisationStatus], bool]
) -> MobilisationStatus:
    """Once ``condition`` holds and the department has done what follows from it."""
    await until_department(env.client, event_id, DEPARTMENT, condition)
    await idle(env, mobilisation_workflow_id(event_id, DEPARTMENT))
    return await until_department(env.client, event_id, DEPARTMENT, condition)


@BOTH_DATABASES
async def test_competent_centres_are_asked_and_ok_and_aide_are_followed_through(
    mobilised: Callable[..., Any],
    time_skipping_env: WorkflowEnvironment,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
    phone: Phone,
    demo_store: Store,
) -> None:
    handle, department = await mobilised(ACIGNE, ARGENTRE, BAUSSAINE, AMANLIS)
    assert sorted(c.organisation_id for c in department.centres) == [
        "ccas-35001",
        "ccas-35006",
        "cias-243500733",
    ]
    assert department.counts.requested == 3
    acigne, argentre = _centre(department, ACIGNE), _centre(department, ARGENTRE)
    [request] = twilio_sandbox.sent_to(_director_phone(acigne))
    assert f"OK {acigne.code}" in request.body and f"AIDE {acigne.code}" in request.body
    assert "CCAS d'Acigné" in request.body or "CCAS d'Acigne" in request.body
    [mail] = mail_sandbox.sent_to(acigne.recipients[0].email or "")
    assert "/r/" in plain_text(mail)

    assert "OK" in await phone.reply(_director_phone(acigne), f"ok {acigne.code}")
    department = await _department(
        time_skipping_env,
        handle.id,
        lambda d: _centre(d, ACIGNE).state is SupportState.MOBILISED and d.counts.delivered >= 1,
    )
    assert _centre(department, ACIGNE).answered_by == acigne.recipients[0].name

    representative_phone = FIRST_REPRESENTATIVE_PHONE
    before = len(twilio_sandbox.sent_to(representative_phone))
    assert "AIDE" in await phone.reply(_director_phone(argentre), f"AIDE {argentre.code}")
    department = await _department(
        time_skipping_env,
        handle.id,
        lambda d: bool(d.actions and d.actions[0].neighbours),
    )
    [action] = department.actions
    assert action.organisation_id == "ccas-35006" and len(action.neighbours) == 3
    distances = [neighbour.distance_km for neighbour in action.neighbours]
    assert distances == sorted(distances) and distances[0] > 0
    told = [m.body for m in twilio_sandbox.sent_to(representative_phone)[before:]]
    assert any("demande du soutien" in body for body in told)
    helper = action.neighbours[0]
    assert helper.director.phone is not None
    [ask] = twilio_sandbox.sent_to(helper.director.phone)
    assert f"RENFORT {helper.code} OUI" in ask.body

    assert "RENFORT" in await phone.reply(helper.director.phone, f"renfort {helper.code} oui")
    await _department(
        time_skipping_env,
        handle.id,
        lambda d: bool(d.actions[0].offers),
    )
    offers = [
        m.body
        for m in twilio_sandbox.sent_to(_director_phone(argentre))
        if "propose un renfort" in m.body
    ]
    assert len(offers) == 1 and helper.name.split()[-1] in offers[0]
    await _skip(time_skipping_env, handle.id, REINFORCEMENT_DEADLINE)
    department = await _department(time_skipping_env, handle.id, lambda d: d.actions[0].closed)
    assert department.counts.mobilised == 1 and department.counts.needs_support == 1

    await stand_down(handle)
    with demo_store.session() as session:
        kinds = [entry.kind for entry in events.crisis_log(session, handle.id)]
    for kind in (
        CrisisLogKind.MOBILISATION_STARTED,
        CrisisLogKind.SUPPORT_REQUESTED,
        CrisisLogKind.SUPPORT_ANSWERED,
        CrisisLogKind.SUPPORT_ACTION,
        CrisisLogKind.REINFORCEMENT_ANSWERED,
    ):
        assert kind in kinds, kind


async def test_silence_is_reminded_then_escalated_and_an_unreachable_centre_flagged(
    mobilised: Callable[..., Any],
    time_skipping_env: WorkflowEnvironment,
    twilio_sandbox: TwilioSandbox,
    demo_store: Store,
    demo: Any,
    phone: Phone,
) -> None:
    director = next(c for c in demo.contacts if c.id == "ccas-35006-direction")
    twilio_sandbox.faulty_numbers[director.phone] = Fault.INVALID_NUMBER
    with demo_store.session() as session:
        replace_directory(
            session,
            demo.model_copy(
                update={
                    "contacts": [
                        c.model_copy(update={"email": None}) if c.id == director.id else c
                        for c in demo.contacts
                    ]
                }
            ),
        )
        session.commit()
    handle, department = await mobilised(ACIGNE, ARGENTRE)
    argentre = _centre(department, ARGENTRE)
    assert argentre.state is SupportState.UNREACHABLE
    ud_president = next(
        c for c in demo.contacts if c.organisation_id == "ud-35" and c.role.value == "president"
    )
    flagged = await _department(
        time_skipping_env, handle.id, lambda d: _centre(d, ARGENTRE).escalated_at is not None
    )
    assert flagged.counts.unreachable == 1
    assert any(
        "injoignable" in m.body and "Argentr" in m.body
        for m in twilio_sandbox.sent_to(ud_president.phone)
    )

    acigne = _centre(department, ACIGNE)
    requested_at = acigne.requested_at
    assert requested_at is not None
    await _skip(time_skipping_env, handle.id, REMINDER_AFTER)
    reminded = await _department(
        time_skipping_env, handle.id, lambda d: _centre(d, ACIGNE).reminded_at is not None
    )
    reminded_at = _centre(reminded, ACIGNE).reminded_at
    assert reminded_at is not None and reminded_at - requested_at >= REMINDER_AFTER
    assert "rappel" in twilio_sandbox.sent_to(_director_phone(acigne))[-1].body
    assert not any("sans réponse" in m.body for m in twilio_sandbox.sent_to(ud_president.phone))

    await _skip(time_skipping_env, handle.id, ESCALATION_AFTER)
    escalated = await _department(
        time_skipping_env, handle.id, lambda d: _centre(d, ACIGNE).escalated_at is not None
    )
    escalated_at = _centre(escalated, ACIGNE).escalated_at
    assert escalated_at is not None and escalated_at - reminded_at >= ESCALATION_AFTER
    assert escalated.counts.unanswered == 1
    for number in (ud_president.phone, FIRST_REPRESENTATIVE_PHONE):
        assert any(
            "sans réponse depuis 6h" in m.body and "Acign" in m.body
            for m in twilio_sandbox.sent_to(number)
        ), number

    (call,) = twilio_sandbox.calls_to(_director_phone(acigne))
    assert twilio_sandbox.calls_to(_director_phone(argentre)) == []
    twiml = await twilio_sandbox.answer(call)
    gather = ElementTree.fromstring(twiml).find("Gather")
    assert gather is not None
    question = gather.findtext("Say") or ""
    assert "Acigné" in question and "Crue de la Vilaine" in question
    assert "Tapez 1 si votre centre est mobilisé, 2 s'il a besoin de soutien" in question
    pressed = await twilio_sandbox.press(call, gather.get("action") or "", "1")
    assert "Votre réponse est enregistrée" in pressed
    by_keypad = await _department(
        time_skipping_env, handle.id, lambda d: _centre(d, ACIGNE).answer == "OK"
    )
    assert by_keypad.counts.mobilised == 1
    with demo_store.session() as session:
        log = events.crisis_log(session, handle.id)
    escalations = [entry.text for entry in log if entry.kind is CrisisLogKind.SUPPORT_ESCALATED]
    assert any("sans réponse" in text and "1/1 appel(s) placé(s)" in text for text in escalations)

    assert "OK" in await phone.reply(_director_phone(acigne), f"OK {acigne.code}")
    late = await _department(
        time_skipping_env, handle.id, lambda d: _centre(d, ACIGNE).answer == "OK"
    )
    assert late.counts.mobilised == 1 and late.counts.unanswered == 0


async def test_extension_asks_only_new_centres_and_broadcast_reaches_the_mobilised(
    mobilised: Callable[..., Any],
    time_skipping_env: WorkflowEnvironment,
    twilio_sandbox: TwilioSandbox,
    phone: Phone,
) -> None:
    handle, department = await mobilised(ACIGNE)
    acigne = _centre(department, ACIGNE)
    await phone.reply(_director_phone(acigne), f"OK {acigne.code}")
    await _department(time_skipping_env, handle.id, lambda d: d.counts.mobilised == 1)

    await handle.execute_update(
        EXTEND_AREA_UPDATE,
        AreaExtension(communes=[ARGENTRE, BAUSSAINE], requested_by="astreinte"),
        result_type=EventStatus,
    )
    extended = await _department(time_skipping_env, handle.id, lambda d: d.counts.requested == 3)
    assert len(extended.centres) == 3
    assert len(twilio_sandbox.sent_to(_director_phone(acigne))) == 1
    argentre = _centre(extended, ARGENTRE)

    await handle.execute_update(
        BROADCAST_UPDATE,
        SituationReport(text="Decrue amorcee, point demain 9h en prefecture.", author="Alix"),
        result_type=EventStatus,
    )
    await _department(time_skipping_env, handle.id, lambda d: d.reports_sent == 1)
    [report] = [
        m for m in twilio_sandbox.sent_to(_director_phone(acigne)) if "point de situation" in m.body
    ]
    assert "Decrue amorcee" in report.body
    assert not any(
        "point de situation" in m.body for m in twilio_sandbox.sent_to(_director_phone(argentre))
    )


async def test_a_director_answers_through_the_signed_link_and_bad_links_change_nothing(
    mobilised: Callable[..., Any],
    time_skipping_env: WorkflowEnvironment,
    phone: Phone,
) -> None:
    handle, department = await mobilised(ACIGNE)
    workflow_id = mobilisation_workflow_id(handle.id, DEPARTMENT)
    acigne = _centre(department, ACIGNE)

    def token(expires_at: datetime, task_key: str = acigne.organisation_id) -> str:
        claim = AnswerLinkClaim(
            workflow_id=workflow_id, task_key=task_key, code=acigne.code, expires_at=expires_at
        )
        return sign_link(LINK_SECRET, claim)

    later = datetime.now(UTC) + timedelta(days=1)
    page = await phone.http.get(f"/r/{token(later)}")
    assert page.status_code == 200 and "CCAS d" in page.text and "mobilisé" in page.text
    forged = token(later, task_key="ccas-35006")[:-3] + "abc"
    assert (await phone.http.post(f"/r/{forged}", data={"answer": "OK"})).status_code == 403
    expired = token(datetime.now(UTC) - timedelta(minutes=1))
    assert (await phone.http.post(f"/r/{expired}", data={"answer": "OK"})).status_code == 410
    odd = await phone.http.post(f"/r/{token(later)}", data={"answer": "PEUT-ETRE"})
    assert odd.status_code == 422
    unchanged = await _department(time_skipping_env, handle.id, lambda d: True)
    assert _centre(unchanged, ACIGNE).answer is None

    answered = await phone.http.post(f"/r/{token(later)}", data={"answer": "AIDE"})
    assert answered.status_code == 200 and "Merci" in answered.text
    department = await _department(
        time_skipping_env, handle.id, lambda d: _centre(d, ACIGNE).answer == "AIDE"
    )
    assert _centre(department, ACIGNE).answered_by == "lien web"

    await stand_down(handle)
    closed = await phone.http.post(f"/r/{token(later)}", data={"answer": "OK"})
    assert closed.status_code == 410


async def test_each_centre_reads_through_the_api_many_readers_at_once(
    mobilised: Callable[..., Any], phone: Phone
) -> None:
    handle, department = await mobilised(ACIGNE, ARGENTRE)
    acigne, argentre = _centre(department, ACIGNE), _centre(department, ARGENTRE)
    assert "OK" in await phone.reply(_director_phone(acigne), f"OK {acigne.code}")
    centres = f"/api/events/{handle.id}/mobilisation/{DEPARTMENT}/centres"
    async with asyncio.timeout(10):
        while True:
            shown = await phone.http.get(f"{centres}/{acigne.organisation_id}")
            if shown.json()["answer"] == "OK":
                break
            await asyncio.sleep(0.02)

    readings = await asyncio.gather(
        *(phone.http.get(f"{centres}/{c.organisation_id}") for c in [acigne, argentre] * 10)
    )
    assert [r.status_code for r in readings] == [200] * 20
    states = {(r.json()["organisation_id"], r.json()["answer"]) for r in readings}
    assert states == {(acigne.organisation_id, "OK"), (argentre.organisation_id, None)}

    unknown = await phone.http.get(f"{centres}/ccas-99999")
    assert unknown.status_code == 404 and "ccas-99999" in unknown.json()["detail"]
    elsewhere = await phone.http.get(f"/api/events/{handle.id}/mobilisation/29/centres/x")
    assert elsewhere.status_code == 404 and "29" in elsewhere.json()["detail"]
    odd = await phone.http.get(f"/api/events/{handle.id}/mobilisation/XYZ/centres/x")
    assert odd.status_code == 422


async def test_the_link_in_the_email_is_the_one_that_answers(
    mobilised: Callable[..., Any],
    time_skipping_env: WorkflowEnvironment,
    mail_sandbox: MailSandbox,
    phone: Phone,
) -> None:
    handle, department = await mobilised(ACIGNE)
    acigne = _centre(department, ACIGNE)
    [mail] = mail_sandbox.sent_to(acigne.recipients[0].email or "")
    text = plain_text(mail)
    url = next(word for word in text.split() if "/r/" in word)
    answered = await phone.http.post(urlsplit(url).path, data={"answer": "OK"})
    assert answered.status_code == 200
    await _department(time_skipping_env, handle.id, lambda d: d.counts.mobilised == 1)


async def test_a_long_mobilisation_continues_as_new_and_loses_nothing(
    dev_env: WorkflowEnvironment,
    demo_store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    live_phone: Phone,
) -> None:
    """A whole department answering, with a history limit low enough to roll over
    several times while answers keep coming (on the real dev server: answers that
    arrive while a run hands over must reach the next run). The worker caches no
    workflow, so every workflow task replays its history: a run that decided
    otherwise on replay than live would drop an answer here."""
    phone = live_phone
    callback = phone.public_url + "/webhooks/twilio/status"
    tracked_messaging = replace(
        messaging, twilio=replace(messaging.twilio, status_callback=callback)
    )
    declaration = EventDeclaration(
        type=EventType.INONDATION, departments=[DEPARTMENT], title="Crue de la Vilaine"
    )
    with demo_store.session() as session:
        organisations = directory.organisations(session)
    territory = load_territory()
    [summary] = resolve_competence(
        affected_communes(declaration, territory), organisations, territory
    ).departments
    start = MobilisationStart(
        event_id=f"inondation-long-{task_queue[-6:]}",
        department=summary,
        declaration=declaration,
        header="UNCCAS - INONDATION Ille-et-Vilaine (35)",
        rules=definitions.protocols[EventType.INONDATION].mobilisation,
        representative=Person(
            contact_id="unccas-representant-1",
            name="Représentant",
            organisation_id="unccas",
            phone=FIRST_REPRESENTATIVE_PHONE,
        ),
        history_limit=25,
    )
    workflow_id = mobilisation_workflow_id(start.event_id, DEPARTMENT)
    record_event(demo_store, start.event_id, declaration, datetime.now(UTC))
    async with running_workers(
        dev_env.client, demo_store, task_queue, definitions, tracked_messaging, cached_workflows=0
    ):
        handle = await dev_env.client.start_workflow(
            DepartmentMobilisationWorkflow.run, start, id=workflow_id, task_queue=task_queue
        )
        department = await until_department(
            dev_env.client,
            start.event_id,
            DEPARTMENT,
            lambda d: d.counts.centres > 50 and d.counts.requested == d.counts.centres,
        )
        answering = sorted(department.centres, key=lambda c: c.organisation_id)[:60]
        for wave in range(0, len(answering), 20):
            for centre in answering[wave : wave + 20]:
                answer = await phone.reply(_director_phone(centre), f"OK {centre.code}")
                assert "bien reçue" in answer, answer
            final = await until_department(
                dev_env.client,
                start.event_id,
                DEPARTMENT,
                _mobilised_and_delivered(wave + 20),
                attempts=600,
            )
        assert final.counts.requested == department.counts.centres
        for _ in range(200):
            runs = await _runs(dev_env.client, workflow_id, handle.first_execution_run_id)
            if runs >= 3:
                break
            await asyncio.sleep(0.05)
        assert runs >= 3, "a run hands over once its history is long and its work done"
        for _ in range(200):
            with demo_store.session() as session:
                logged = [
                    entry
                    for entry in events.crisis_log(session, start.event_id)
                    if entry.kind is CrisisLogKind.SUPPORT_ANSWERED
                ]
            if len(logged) == len(answering):
                break
            await asyncio.sleep(0.05)
        assert len(logged) == len(answering), "every answer in the crisis log, before any deadline"
        await handle.signal(DepartmentMobilisationWorkflow.stop)
        result = await handle.result()
    assert result.finished and result.counts.mobilised == len(answering)
    with demo_store.session() as session:
        recorded = centre_supports.counts_by_department(session, start.event_id)
    assert recorded == {DEPARTMENT: result.counts}, "what the API reads is what the run held"
    assert {c.code for c in result.centres} == {c.code for c in department.centres}
    assert all(centre.requested_at for centre in result.centres)
