"""MajorEventWorkflow under the time-skipping server, with its real activities."""

import asyncio
import html
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment

from definitions.crisis_log import CrisisLogKind
from definitions.event import CloseRequest, EventDeclaration, Phase
from definitions.event_status import EventStatus
from definitions.event_type import EventType
from definitions.fiches import load_fiches
from definitions.loader import Definitions, load_definitions
from definitions.temporal_names import CLOSE_UPDATE
from gateway.app import create_app
from operations import event_control
from store import events
from store.database import Store
from tests.conftest import (
    REPRESENTATIVES,
    Phone,
    candidates_asked,
    create_account,
    plain_text,
    sign_in,
    stand_down,
    start_event,
    until_department,
    until_status,
)
from worker.sandbox.smtp_server import MailSandbox
from worker.temporal_workers import Messaging, running_workers
from workflows.major_event import MajorEventWorkflow

DECLARATION = EventDeclaration(
    type=EventType.INONDATION, communes=["59350", "59009"], title="Crue de la Deûle"
)


async def _start(
    env: WorkflowEnvironment, event_type: EventType, task_queue: str
) -> WorkflowHandle[MajorEventWorkflow, EventStatus]:
    event_id = f"{event_type.value}-test-{uuid.uuid4().hex[:6]}"
    declaration = DECLARATION.model_copy(update={"type": event_type})
    return await start_event(env.client, task_queue, declaration, event_id)


async def _briefing(mail_sandbox: MailSandbox, address: str) -> EmailMessage:
    """The representative's briefing, sent alongside the support requests."""
    for _ in range(200):
        for mail in mail_sandbox.sent_to(address):
            if "briefing" in str(mail["Subject"]):
                return mail
        await asyncio.sleep(0.05)
    raise AssertionError(f"no briefing sent to {address}")


async def _fiches_linked(
    env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    mail_sandbox: MailSandbox,
    event_id: str,
) -> None:
    """A flood's support request, briefing and event page link the flood's fiches."""
    catnat = "http://tocsin.test/fiches/catnat-assurances"
    (support_request,) = mail_sandbox.sent_to("direction@example.org")
    assert catnat in plain_text(support_request)
    assert "http://tocsin.test/fiches?type=inondation" in plain_text(support_request)
    briefing = await _briefing(mail_sandbox, f"{REPRESENTATIVES[0]}@example.org")
    assert catnat in plain_text(briefing)
    assert "/fiches/fgti" not in plain_text(briefing), "an attack's fiche"
    app = create_app(env.client, store, task_queue)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as console:
        create_account(store, "permanence")
        await sign_in(console, "permanence")
        page = await console.get(f"/evenements/{event_id}")
    assert '<a href="/fiches?type=inondation">Fiches pratiques : Inondation</a>' in page.text
    listed = re.findall(r'<li><a href="/fiches/([a-z0-9-]+)">([^<]+)</a></li>', page.text)
    assert (
        "catnat-assurances",
        "Catastrophe naturelle (CatNat), tempête et délais d'assurance",
    ) in [(slug, html.unescape(title)) for slug, title in listed]
    assert "fgti" not in [slug for slug, _ in listed], "an attack's fiche"
    assert len(listed) == len(load_fiches().of_type(EventType.INONDATION))


def _in(phase: Phase) -> Callable[[EventStatus], bool]:
    return lambda status: status.phase is phase


async def test_event_walks_its_phases_and_closes(
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
    mail_sandbox: MailSandbox,
) -> None:
    store = store_with_network
    async with running_workers(time_skipping_env.client, store, task_queue, definitions, messaging):
        handle = await _start(time_skipping_env, EventType.INONDATION, task_queue)
        event_id = handle.id
        status = await until_status(handle, _in(Phase.REPRESENTATIVE))
        assert status.protocol is not None
        assert status.protocol.designation.answer_deadline == timedelta(minutes=15)
        await until_status(handle, candidates_asked(1))
        assert "bien reçue" in await phone.reply("+33639980101", "oui")
        status = await until_status(handle, lambda s: s.mobilised_departments == ["59"])
        assert [change.phase for change in status.phases] == [
            Phase.DECLARED,
            Phase.REPRESENTATIVE,
            Phase.MOBILISATION,
        ]
        assert status.representative is not None
        assert status.representative.person.name == "Alix Martin"
        assert status.closed_at is None
        assert status.communes == ["59350", "59009"]
        territory = status.territory
        assert territory is not None
        assert (territory.competent_ccas, territory.competent_cias) == (1, 0)
        assert [c.name for c in territory.uncovered_sample] == ["Villeneuve-d'Ascq"]
        nord = territory.departments[0]
        assert (nord.code, nord.ud_id, nord.prefecture_id) == ("59", "ud-59", "prefecture-59")
        mobilisation = await until_department(
            time_skipping_env.client, event_id, "59", lambda s: s.counts.requested == 1
        )
        assert [centre.name for centre in mobilisation.centres] == ["CCAS de Lille"]
        await _fiches_linked(time_skipping_env, store, task_queue, mail_sandbox, event_id)

        closed: EventStatus = await handle.execute_update(
            CLOSE_UPDATE,
            CloseRequest(closed_by="astreinte", reason="décrue", review=False),
            result_type=EventStatus,
        )
        assert closed.phase is Phase.CLOSED
        assert closed.closed_at is not None
        assert [change.phase for change in closed.phases][-2:] == [Phase.REVIEW, Phase.CLOSED]
        result = await handle.result()

    assert result.phase is Phase.CLOSED
    with store.session() as session:
        everything = events.crisis_log(session, event_id)
    log = [entry for entry in everything if entry.entry_key.count("/") == 1]
    department = [entry.kind for entry in everything if "/mobilisation-59/" in entry.entry_key]
    assert department[:2] == [CrisisLogKind.MOBILISATION_STARTED, CrisisLogKind.SUPPORT_REQUESTED]
    assert [entry.kind for entry in log] == [
        CrisisLogKind.EVENT_DECLARED,
        CrisisLogKind.TERRITORY_RESOLVED,
        CrisisLogKind.PHASE_STARTED,
        CrisisLogKind.PHASE_STARTED,
        CrisisLogKind.CLOSE_REQUESTED,
        CrisisLogKind.PHASE_STARTED,
        CrisisLogKind.PHASE_STARTED,
    ]
    assert "Crue de la Deûle" in log[0].text
    assert "1 CCAS et 0 CIAS compétents, 1 commune(s) sans CCAS ni CIAS" in log[1].text
    assert log[4].actor == "astreinte" and "décrue" in log[4].text
    assert log[-1].text == "Événement clos."
    assert result.counters.crisis_log_entries == len(log)
    assert all(entry.at.tzinfo is not None for entry in log)


async def test_closing_during_the_search_stops_it_and_a_second_close_is_refused(
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
) -> None:
    store = store_with_network
    async with running_workers(time_skipping_env.client, store, task_queue, definitions, messaging):
        handle = await _start(time_skipping_env, EventType.ATTENTAT, task_queue)
        event_id = handle.id
        asked = await until_status(handle, candidates_asked(1))
        assert asked.designation is not None
        code = asked.designation.attempts[0].code
        first = await handle.start_update(
            CLOSE_UPDATE,
            CloseRequest(closed_by="a", review=False),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            result_type=EventStatus,
        )
        with pytest.raises(event_control.EventConflictError):
            await event_control.close(
                time_skipping_env.client, event_id, CloseRequest(closed_by="b")
            )
        closed: EventStatus = await first.result()
        assert closed.phase is Phase.CLOSED
        assert closed.representative is None
        assert closed.designation is not None and closed.designation.finished
        assert "close" in await phone.reply("+33639980101", f"OUI {code}")
    with store.session() as session:
        requests = [
            entry
            for entry in events.crisis_log(session, event_id)
            if entry.kind is CrisisLogKind.CLOSE_REQUESTED
        ]
    assert [entry.actor for entry in requests] == ["a"]


async def test_an_override_folder_changes_the_delays_the_workflow_holds(
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    task_queue: str,
    messaging: Messaging,
    tmp_path: Path,
) -> None:
    (tmp_path / "protocols").mkdir()
    (tmp_path / "protocols" / "canicule.toml").write_text(
        '[designation]\nanswer_deadline = "3s"\n[mobilisation]\nreminder_after = "1min"\n'
    )
    shortened = load_definitions(tmp_path)
    async with running_workers(
        time_skipping_env.client, store_with_network, task_queue, shortened, messaging
    ):
        handle = await _start(time_skipping_env, EventType.CANICULE, task_queue)
        status = await until_status(handle, _in(Phase.REPRESENTATIVE))
        await stand_down(handle)
    assert status.protocol is not None
    assert status.protocol.designation.answer_deadline == timedelta(seconds=3)
    assert status.protocol.mobilisation.reminder_after == timedelta(minutes=1)
    assert status.protocol.mobilisation.escalation_after == timedelta(hours=8)
