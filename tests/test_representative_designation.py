"""Designating the representative under the time-skipping server: real workers,
the real twilio client against the local Twilio-compatible server, real SMTP,
and replies through the gateway's signed webhook."""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from definitions.crisis_log import CrisisLogEntry, CrisisLogKind
from definitions.designation import Answer, DesignationMode
from definitions.event import EventDeclaration, EventStart, Phase
from definitions.event_status import EventStatus
from definitions.event_type import EventType
from definitions.loader import Definitions
from store import events
from store.database import Store
from tests.conftest import Phone
from worker.runner import Messaging, running_workers
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import TwilioSandbox
from workflows.major_event import MajorEventWorkflow

ANSWER_DEADLINE = timedelta(minutes=10)
ROUND_PAUSE = timedelta(minutes=5)
PHONES = {
    "unccas-representant-1": "+33639980101",
    "unccas-representant-2": "+33639980102",
    "unccas-representant-3": "+33639980103",
}
STAFF_PHONE = "+33639980110"
UD_PHONE = "+33639980130"
LILLE = EventDeclaration(type=EventType.ATTENTAT, communes=["59350"], title="Attaque au couteau")


@pytest_asyncio.fixture(loop_scope="session")
async def workers(
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
) -> AsyncIterator[None]:
    async with running_workers(
        time_skipping_env.client, store_with_network, task_queue, definitions, messaging
    ):
        yield


async def _declare(
    env: WorkflowEnvironment, task_queue: str, declaration: EventDeclaration = LILLE
) -> WorkflowHandle[MajorEventWorkflow, EventStatus]:
    event_id = f"attentat-test-{uuid.uuid4().hex[:8]}"
    return await env.client.start_workflow(
        MajorEventWorkflow.run,
        EventStart(event_id=event_id, declaration=declaration, declared_by="astreinte"),
        id=event_id,
        task_queue=task_queue,
    )


async def _until(
    handle: WorkflowHandle[MajorEventWorkflow, EventStatus],
    condition: Callable[[EventStatus], bool],
) -> EventStatus:
    """Polls in real time: simulated time stands still meanwhile."""
    for _ in range(300):
        status = await handle.query(MajorEventWorkflow.status)
        if condition(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition never met; last status: {status.designation}")


def _asked(count: int) -> Callable[[EventStatus], bool]:
    def condition(status: EventStatus) -> bool:
        designation = status.designation
        return (
            designation is not None
            and len(designation.attempts) >= count
            and all(
                attempt.channels or attempt.answer is not Answer.WAITING
                for attempt in designation.attempts
            )
        )

    return condition


def _designated(status: EventStatus) -> bool:
    """The designation workflow has finished: representative known, State informed."""
    return status.designation is not None and not status.designation.searching


def _code_in_sms(sandbox: TwilioSandbox, phone: str) -> str:
    bodies = [message.body for message in sandbox.sent_to(phone)]
    codes = [m.group(1) for body in bodies if (m := re.search(r"OUI (\d{4})", body))]
    assert codes, f"no designation request to {phone}: {bodies}"
    return codes[-1]


def _log(store: Store, event_id: str) -> list[CrisisLogEntry]:
    with store.session() as session:
        return events.crisis_log(session, event_id)


@pytest.mark.usefixtures("workers")
async def test_first_candidate_accepts_and_the_state_is_informed(
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    task_queue: str,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
    phone: Phone,
) -> None:
    handle = await _declare(time_skipping_env, task_queue)
    status = await _until(handle, _asked(1))
    first = PHONES["unccas-representant-1"]
    code = _code_in_sms(twilio_sandbox, first)
    request = twilio_sandbox.sent_to(first)[0].body
    assert "Alix Martin" in request and "Nord (59)" in request and "10min" in request
    assert status.designation is not None and status.designation.attempts[0].code == code

    answer = await phone.reply(first, f" oui{code}!")
    assert f"OUI {code} bien reçue" in answer

    status = await _until(handle, _designated)
    representative = status.representative
    assert representative is not None
    assert representative.person.contact_id == "unccas-representant-1"
    assert representative.mode is DesignationMode.ROSTER
    assert status.designation is not None and not status.designation.searching
    assert [a.answer for a in status.designation.attempts] == [Answer.ACCEPTED]

    state_mail = mail_sandbox.sent_to("prefecture-59-cabinet@example.org")
    assert len(state_mail) == 1
    body = state_mail[0].get_body(("plain",)).get_content()
    assert "Alix Martin" in body and first in body and "représentant" in state_mail[0]["Subject"]
    assert len(mail_sandbox.sent_to("diav@example.org")) == 1
    ud_mail = mail_sandbox.sent_to("ud-59-presidence@example.org")
    assert len(ud_mail) == 1 and "Alix Martin" in ud_mail[0].get_body(("plain",)).get_content()
    assert any("Alix Martin" in m.body for m in twilio_sandbox.sent_to(UD_PHONE))
    assert twilio_sandbox.sent_to(PHONES["unccas-representant-2"]) == []

    briefing = [
        m
        for m in mail_sandbox.sent_to("unccas-representant-1@example.org")
        if "briefing" in m["Subject"]
    ]
    assert len(briefing) == 1
    attachments = {a.get_filename(): a.get_content() for a in briefing[0].iter_attachments()}
    competent = attachments["ccas_cias_competents.csv"]
    competent_text = competent if isinstance(competent, str) else competent.decode("utf-8-sig")
    assert "CCAS de Lille" in competent_text and "Camille Martin" in competent_text
    assert "communes_non_couvertes.csv" in attachments

    kinds = [entry.kind for entry in _log(store_with_network, handle.id)]
    for kind in (
        CrisisLogKind.CANDIDATE_ASKED,
        CrisisLogKind.CANDIDATE_ANSWERED,
        CrisisLogKind.REPRESENTATIVE_DESIGNATED,
        CrisisLogKind.STATE_INFORMED,
    ):
        assert kind in kinds
    assert kinds.index(CrisisLogKind.REPRESENTATIVE_DESIGNATED) < kinds.index(
        CrisisLogKind.STATE_INFORMED
    )
