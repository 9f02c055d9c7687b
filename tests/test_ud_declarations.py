"""A departmental union declares a real event in its department: the event starts
as any other, and UNCCAS's on-call staff are told at once, by SMS and email, so that
they can take it over; a drill disturbs nobody."""

import html

import httpx
from temporalio.testing import WorkflowEnvironment

from definitions.accounts import Role
from definitions.crisis_log import CrisisLogKind
from definitions.event_status import EventStatus
from definitions.loader import Definitions
from definitions.staff_notice import staff_notice_workflow_id
from gateway.app import create_app
from store import events
from store.database import Store
from tests.conftest import (
    api_headers,
    create_account,
    plain_text,
    sign_in,
    stand_down,
    until_status,
    workflow_count,
)
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import TwilioSandbox
from worker.temporal_workers import Messaging, running_workers

ON_CALL_PHONE = "+33639980110"
ON_CALL_EMAIL = "unccas-astreinte-1@example.org"


async def test_staff_are_told_of_a_real_event_a_ud_declares(
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    mail_sandbox: MailSandbox,
    twilio_sandbox: TwilioSandbox,
) -> None:
    store, client = store_with_network, time_skipping_env.client
    nord = api_headers(store, Role.UD, login="ud-nord", department="59")
    transport = httpx.ASGITransport(app=create_app(client, store, task_queue))
    async with (
        running_workers(client, store, task_queue, definitions, messaging),
        httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway,
    ):
        real = {"type": "inondation", "communes": ["59350"], "title": "Crue de la Deûle"}
        declared = await gateway.post("/api/events", json=real, headers=nord)
        assert declared.status_code == 201, declared.text
        event_id = declared.json()["event_id"]
        notice = client.get_workflow_handle(staff_notice_workflow_id(event_id), result_type=int)
        assert await notice.result() == 1
        drill = await gateway.post("/api/events", json={**real, "exercise": True}, headers=nord)
        drill_id = drill.json()["event_id"]
        handles = [
            client.get_workflow_handle(each, result_type=EventStatus)
            for each in (event_id, drill_id)
        ]
        for handle in handles:
            await until_status(handle, lambda status: status.territory is not None)
            await stand_down(handle)

    (sms,) = twilio_sandbox.sent_to(ON_CALL_PHONE)  # the drill told nobody
    assert "Crue de la Deule, déclaré par Ud-nord (ud-nord)" in sms.body
    assert f"tocsin status {event_id}" in sms.body
    (mail,) = [
        m
        for m in mail_sandbox.sent_to(ON_CALL_EMAIL)
        if "union départementale" in str(m["Subject"])
    ]
    assert event_id in plain_text(mail)
    with store.session() as session:
        log = events.crisis_log(session, event_id)
    alerted = [entry for entry in log if entry.kind is CrisisLogKind.STAFF_ALERTED]
    assert (
        alerted[0].text
        == "Permanence UNCCAS prévenue de la déclaration par Ud-nord (ud-nord) : 1/1 joint(s)."
    )
    assert [e.actor for e in log if e.kind is CrisisLogKind.EVENT_DECLARED] == ["ud-nord"]


async def test_a_ud_declares_from_the_console_within_its_department(
    dev_env: WorkflowEnvironment, store_with_network: Store, task_queue: str
) -> None:
    """The console's form, as the API: the confirmation page for the Nord, a refusal
    (nothing started) for the Pas-de-Calais."""
    transport = httpx.ASGITransport(app=create_app(dev_env.client, store_with_network, task_queue))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as browser:
        create_account(store_with_network, "ud-nord", Role.UD, department="59")
        csrf_token = await sign_in(browser, "ud-nord")
        assert 'href="/declarer"' in (await browser.get("/")).text
        form = {"csrf_token": csrf_token, "mode": "exercice", "type": "inondation", "title": "Crue"}
        nord = await browser.post("/declarer", data={**form, "places": "59350"})
        assert nord.status_code == 200 and "Nord (59)" in nord.text
        arras = await browser.post("/declarer/confirmer", data={**form, "places": "62041"})
        assert arras.status_code == 403
        assert "ne déclare que dans son département (59)" in html.unescape(arras.text)
    assert await workflow_count(dev_env, task_queue) == 0
