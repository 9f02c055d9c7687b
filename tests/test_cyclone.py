"""A cyclone in Mayotte with the demo directory, on the time-skipping server: declared
on the whole department, its CCAS mobilised, each alert level the prefecture announces
(through the API, then the console) sent to every mobilised centre, then the
after-action review in Mayotte time."""

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from definitions.crisis_log import CrisisLogKind
from definitions.event import CloseRequest, EventDeclaration
from definitions.event_status import EventStatus
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.temporal_names import CLOSE_UPDATE, mobilisation_workflow_id
from store import events
from store.database import Store
from tests.conftest import (
    Phone,
    create_account,
    gateway_phone,
    idle,
    plain_text,
    sign_in,
    start_event,
    time_skipping_server,
    until_department,
    until_status,
)
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import TwilioSandbox
from worker.temporal_workers import Messaging, running_workers

FIRST_REPRESENTATIVE_PHONE = "+33639980004"
MAYOTTE_COMMUNES = 17


@pytest_asyncio.fixture
async def cyclone_env() -> AsyncIterator[WorkflowEnvironment]:
    """A server of its own: the review outlives the event (see test_after_action_review)."""
    async with time_skipping_server() as env:
        yield env


async def _pre_alert_before_mobilisation(phone: Phone, store: Store, event_id: str) -> None:
    """A pré-alerte comes days ahead, before any centre is mobilised: it is recorded,
    and the crisis log says nobody was told yet."""
    early = await phone.http.post(
        f"/api/events/{event_id}/alert-level", json={"level": "pre_alerte"}
    )
    assert early.status_code == 200, early.text
    with store.session() as session:
        [announced] = [
            entry.text
            for entry in events.crisis_log(session, event_id)
            if entry.kind is CrisisLogKind.ALERT_LEVEL_CHANGED
        ]
    assert "avant la mobilisation : aucun CCAS/CIAS à informer" in announced


async def test_a_cyclone_in_mayotte_runs_from_declaration_to_review(
    cyclone_env: WorkflowEnvironment,
    demo_store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
) -> None:
    declaration = EventDeclaration(type=EventType.CYCLONE, departments=["976"], title="Chido")
    event_id = f"cyclone-976-{task_queue[-6:]}"
    async with (
        gateway_phone(cyclone_env.client, demo_store) as phone,
        running_workers(cyclone_env.client, demo_store, task_queue, definitions, messaging),
    ):
        handle = await start_event(cyclone_env.client, task_queue, declaration, event_id)
        await until_status(handle, lambda s: bool(s.designation and s.designation.attempts))
        await _pre_alert_before_mobilisation(phone, demo_store, event_id)
        assert "bien reçue" in await phone.reply(FIRST_REPRESENTATIVE_PHONE, "oui")
        department = await until_department(
            cyclone_env.client,
            event_id,
            "976",
            lambda d: len(d.centres) == MAYOTTE_COMMUNES and all(c.requested_at for c in d.centres),
        )
        [request] = twilio_sandbox.sent_to(department.centres[0].recipients[0].phone or "")
        assert request.body.startswith("UNCCAS - CYCLONE Mayotte (976) : Chido.")
        silent, *answering = department.centres
        for centre in answering:
            reply = await phone.reply(centre.recipients[0].phone or "", f"OK {centre.code}")
            assert "bien reçue" in reply
        await until_department(
            cyclone_env.client, event_id, "976", lambda d: d.counts.mobilised == len(answering)
        )

        api = f"/api/events/{event_id}/alert-level"
        wrong = await phone.http.post(api, json={"level": "vigilance_rouge"})
        assert wrong.status_code == 409 and "niveau inconnu « vigilance_rouge »" in wrong.text
        changed = await phone.http.post(api, json={"level": "alerte_rouge"})
        assert changed.status_code == 200, changed.text
        levels = EventStatus.model_validate(changed.json()).alert_levels
        assert [(level.zone, level.label) for level in levels] == [
            ("La Réunion et Mayotte", "pré-alerte"),
            ("La Réunion et Mayotte", "alerte rouge"),
        ]
        await until_department(cyclone_env.client, event_id, "976", lambda d: d.reports_sent == 1)
        await idle(cyclone_env, mobilisation_workflow_id(event_id, "976"))
        for centre in answering:
            [alert] = [
                m.body
                for m in twilio_sandbox.sent_to(centre.recipients[0].phone or "")
                if "passage en alerte rouge" in m.body
            ]
            assert "Restez à l'abri" in alert
        assert not any(
            "alerte rouge" in m.body
            for m in twilio_sandbox.sent_to(silent.recipients[0].phone or "")
        )

        async with httpx.AsyncClient(base_url=phone.public_url) as browser:
            create_account(demo_store, "astreinte-cyclone")
            csrf = await sign_in(browser, "astreinte-cyclone")
            page = await browser.get(f"/evenements/{event_id}")
            assert "Niveau d'alerte annoncé (La Réunion et Mayotte) ; actuel : alerte rouge" in (
                page.text
            )
            assert re.search(r"déclaré [^<]+ \(\d\dh\d\d heure de Mayotte\) par", page.text)
            form = {"csrf_token": csrf, "level": "alerte_violette"}
            posted = await browser.post(f"/evenements/{event_id}/niveau-alerte", data=form)
            assert posted.status_code == 303, posted.text
        await until_department(cyclone_env.client, event_id, "976", lambda d: d.reports_sent == 2)
        await idle(cyclone_env, mobilisation_workflow_id(event_id, "976"))
        assert all(
            any(
                "passage en alerte violette" in m.body
                for m in twilio_sandbox.sent_to(centre.recipients[0].phone or "")
            )
            for centre in answering
        )

        await handle.execute_update(
            CLOSE_UPDATE, CloseRequest(closed_by="astreinte", review=True), result_type=EventStatus
        )
        director = answering[0].recipients[0].email or ""
        for _ in range(200):
            asked = [m for m in mail_sandbox.sent_to(director) if "retour" in str(m["Subject"])]
            if asked:
                break
            await asyncio.sleep(0.05)
    [questionnaire] = asked
    deadline = re.search(r"avant le (.+?) :", plain_text(questionnaire).replace("\n", " "))
    assert deadline is not None and deadline.group(1).endswith("heure de Mayotte")
