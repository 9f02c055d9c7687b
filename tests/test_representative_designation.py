"""Designating the representative under the time-skipping server: real workers,
the real twilio client against the local Twilio-compatible server, real SMTP,
and replies through the gateway's signed webhook."""

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from definitions.crisis_log import CrisisLogEntry, CrisisLogKind
from definitions.designation import Answer, DesignationMode, RepresentativeChange
from definitions.event import EventDeclaration
from definitions.event_status import EventStatus
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.temporal_names import designation_workflow_id
from operations import event_control
from store import events
from store.database import Store
from tests.conftest import (
    Phone,
    candidates_asked,
    idle,
    plain_text,
    stand_down,
    start_event,
    until_status,
)
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import Fault, TwilioSandbox
from worker.temporal_workers import Messaging, running_workers
from workflows.major_event import MajorEventWorkflow

T = TypeVar("T")
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


Declare = Callable[..., Awaitable[WorkflowHandle[MajorEventWorkflow, EventStatus]]]


@contextlib.asynccontextmanager
async def _declaring(
    env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
) -> AsyncIterator[Declare]:
    """Declares events with the workers running, and closes them afterwards."""
    started: list[WorkflowHandle[MajorEventWorkflow, EventStatus]] = []

    async def declare(
        declaration: EventDeclaration = LILLE,
    ) -> WorkflowHandle[MajorEventWorkflow, EventStatus]:
        event_id = f"attentat-test-{uuid.uuid4().hex[:8]}"
        handle = await start_event(env.client, task_queue, declaration, event_id)
        started.append(handle)
        return handle

    async with running_workers(env.client, store, task_queue, definitions, messaging):
        yield declare
        for handle in started:
            await stand_down(handle)


@pytest_asyncio.fixture(loop_scope="session")
async def declare(
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
) -> AsyncIterator[Declare]:
    async with _declaring(
        time_skipping_env, store_with_network, task_queue, definitions, messaging
    ) as declare:
        yield declare


@pytest_asyncio.fixture(loop_scope="session")
async def declare_live(
    dev_env: WorkflowEnvironment,
    store_with_network: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
) -> AsyncIterator[Declare]:
    """On the real dev server: the time-skipping server keeps its clock locked
    after an update, so tests that send updates run there, in real time."""
    async with _declaring(
        dev_env, store_with_network, task_queue, definitions, messaging
    ) as declare:
        yield declare


async def _eventually(check: Callable[[], list[T]]) -> list[T]:
    """What ``check`` finds once it finds something (mail and SMS arrive in real time)."""
    for _ in range(200):
        if found := check():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("nothing arrived")


async def _skip(env: WorkflowEnvironment, duration: timedelta, *event_ids: str) -> None:
    for event_id in event_ids:
        await idle(env, event_id, designation_workflow_id(event_id, 1))
    await env.sleep(duration)


async def _second_asked_after_silence(
    declare: Declare, env: WorkflowEnvironment
) -> tuple[WorkflowHandle[MajorEventWorkflow, EventStatus], EventStatus]:
    """An event whose first candidate stayed silent past the deadline."""
    handle = await declare()
    await until_status(handle, candidates_asked(1))
    await _skip(env, ANSWER_DEADLINE, handle.id)
    return handle, await until_status(handle, candidates_asked(2))


def _designated(status: EventStatus) -> bool:
    """The designation workflow has finished: representative known, State informed."""
    return status.designation is not None and not status.designation.searching


def _code_in_sms(sandbox: TwilioSandbox, phone: str) -> str:
    bodies = [message.body for message in sandbox.sent_to(phone)]
    codes = [m.group(1) for body in bodies if (m := re.search(r"OUI (\d{4})", body))]
    assert codes, f"no designation request to {phone}: {bodies}"
    return codes[-1]


def _code_of(body: str) -> str:
    found = re.search(r"OUI (\d{4})", body)
    assert found is not None, f"no reply code in {body!r}"
    return found.group(1)


def _log(store: Store, event_id: str) -> list[CrisisLogEntry]:
    with store.session() as session:
        return events.crisis_log(session, event_id)


async def test_first_candidate_accepts_and_the_state_is_informed(
    declare: Declare,
    store_with_network: Store,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
    phone: Phone,
) -> None:
    handle = await declare()
    status = await until_status(handle, candidates_asked(1))
    first = PHONES["unccas-representant-1"]
    code = _code_in_sms(twilio_sandbox, first)
    request = twilio_sandbox.sent_to(first)[0].body
    assert "Alix Martin" in request and "Nord (59)" in request and "10min" in request
    assert status.designation is not None and status.designation.attempts[0].code == code

    answer = await phone.reply(first, f" oui{code}!")
    assert f"OUI {code} bien reçue" in answer

    status = await until_status(handle, _designated)
    representative = status.representative
    assert representative is not None
    assert representative.person.contact_id == "unccas-representant-1"
    assert representative.mode is DesignationMode.ROSTER
    assert status.designation is not None and not status.designation.searching
    assert [a.answer for a in status.designation.attempts] == [Answer.ACCEPTED]

    state_mail = mail_sandbox.sent_to("prefecture-59-cabinet@example.org")
    assert len(state_mail) == 1
    body = plain_text(state_mail[0])
    assert "Alix Martin" in body and first in body and "représentant" in state_mail[0]["Subject"]
    assert len(mail_sandbox.sent_to("diav@example.org")) == 1
    ud_mail = mail_sandbox.sent_to("ud-59-presidence@example.org")
    assert len(ud_mail) == 1 and "Alix Martin" in plain_text(ud_mail[0])
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


def _designation_entries(store: Store, event_id: str) -> list[CrisisLogEntry]:
    """The designation's entries, without the phases the event goes on through."""
    return [e for e in _log(store, event_id) if e.kind is not CrisisLogKind.PHASE_STARTED]


def _attempts(status: EventStatus) -> list[tuple[str, int, Answer]]:
    assert status.designation is not None
    return [(a.contact_id, a.round, a.answer) for a in status.designation.attempts]


async def test_a_decline_asks_the_next_candidate_at_once(
    declare: Declare,
    twilio_sandbox: TwilioSandbox,
    phone: Phone,
) -> None:
    handle = await declare()
    await until_status(handle, candidates_asked(1))
    first, second = PHONES["unccas-representant-1"], PHONES["unccas-representant-2"]
    await phone.reply(first, f"NON {_code_in_sms(twilio_sandbox, first)}")
    status = await until_status(handle, candidates_asked(2))
    assert status.designation is not None
    declined, asked = status.designation.attempts
    assert declined.answer is Answer.DECLINED and declined.answered_at is not None
    assert asked.asked_at - declined.answered_at < timedelta(seconds=5)

    await phone.reply(second, f"Oui {_code_in_sms(twilio_sandbox, second)}")
    status = await until_status(handle, _designated)
    assert status.representative is not None
    assert status.representative.person.contact_id == "unccas-representant-2"
    assert _attempts(status) == [
        ("unccas-representant-1", 1, Answer.DECLINED),
        ("unccas-representant-2", 1, Answer.ACCEPTED),
    ]
    assert not any("plus attendue" in m.body for m in twilio_sandbox.sent_to(first))


async def test_silence_walks_the_roster_and_an_earlier_candidate_may_still_accept(
    declare: Declare,
    time_skipping_env: WorkflowEnvironment,
    twilio_sandbox: TwilioSandbox,
    phone: Phone,
) -> None:
    handle, status = await _second_asked_after_silence(declare, time_skipping_env)
    assert status.designation is not None
    first, second = status.designation.attempts
    assert abs(second.asked_at - first.asked_at - ANSWER_DEADLINE) < timedelta(seconds=5)
    assert first.answer is Answer.WAITING

    late = PHONES["unccas-representant-1"]
    assert "bien reçue" in await phone.reply(late, f"OUI {_code_in_sms(twilio_sandbox, late)}")
    status = await until_status(handle, _designated)
    assert status.representative is not None
    assert status.representative.person.contact_id == "unccas-representant-1"
    assert _attempts(status) == [
        ("unccas-representant-1", 1, Answer.ACCEPTED),
        ("unccas-representant-2", 1, Answer.RELEASED),
    ]
    released = twilio_sandbox.sent_to(PHONES["unccas-representant-2"])[-1].body
    assert "plus attendue" in released and "Sacha Bernard" in released
    assert twilio_sandbox.sent_to(PHONES["unccas-representant-3"]) == []


async def test_a_silent_roster_alerts_staff_then_starts_a_new_round(
    declare: Declare,
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
    phone: Phone,
) -> None:
    handle = await declare()
    for asked in (1, 2, 3):
        await until_status(handle, candidates_asked(asked))
        await _skip(time_skipping_env, ANSWER_DEADLINE, handle.id)
    alert = [m.body for m in await _eventually(lambda: twilio_sandbox.sent_to(STAFF_PHONE))]
    assert len(alert) == 1 and "aucun représentant désigné après 3 sollicitations" in alert[0]
    await _eventually(lambda: mail_sandbox.sent_to("unccas-astreinte-1@example.org"))
    assert twilio_sandbox.sent_to(PHONES["unccas-representant-1"]).__len__() == 1

    await _skip(time_skipping_env, ROUND_PAUSE, handle.id)
    status = await until_status(handle, candidates_asked(4))
    assert status.designation is not None and status.designation.round == 2
    attempts = status.designation.attempts
    assert attempts[3].contact_id == "unccas-representant-1" and attempts[3].round == 2
    expected = 3 * ANSWER_DEADLINE + ROUND_PAUSE
    assert abs(attempts[3].asked_at - attempts[0].asked_at - expected) < timedelta(seconds=10)
    first = PHONES["unccas-representant-1"]
    requests = [m.body for m in twilio_sandbox.sent_to(first)]
    assert len(requests) == 2 and requests[0] == requests[1]

    await phone.reply(PHONES["unccas-representant-3"], "OUI")
    status = await until_status(handle, _designated)
    assert status.representative is not None
    assert status.representative.person.contact_id == "unccas-representant-3"
    kinds = [entry.kind for entry in _log(store_with_network, handle.id)]
    assert kinds.count(CrisisLogKind.STAFF_ALERTED) == 1


async def test_staff_designate_by_hand_during_the_search(
    declare_live: Declare,
    dev_env: WorkflowEnvironment,
    store_with_network: Store,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
) -> None:
    declare = declare_live
    handle = await declare()
    await until_status(handle, candidates_asked(1))
    with pytest.raises(event_control.UnknownContactError):
        await event_control.change_representative(
            dev_env.client,
            store_with_network,
            handle.id,
            RepresentativeChange(contact_id="personne", requested_by="astreinte"),
        )
    status = await event_control.change_representative(
        dev_env.client,
        store_with_network,
        handle.id,
        RepresentativeChange(contact_id="unccas-representant-3", requested_by="astreinte"),
    )
    representative = status.representative
    assert representative is not None
    assert representative.person.contact_id == "unccas-representant-3"
    assert representative.mode is DesignationMode.MANUAL
    assert representative.designated_by == "astreinte"
    status = await until_status(handle, _designated)
    assert _attempts(status) == [("unccas-representant-1", 1, Answer.RELEASED)]
    assert "plus attendue" in twilio_sandbox.sent_to(PHONES["unccas-representant-1"])[-1].body
    assert mail_sandbox.sent_to("diav@example.org")


async def test_two_concurrent_events_get_two_different_representatives(
    declare: Declare,
    twilio_sandbox: TwilioSandbox,
    phone: Phone,
) -> None:
    lille = await declare()
    await until_status(lille, candidates_asked(1))
    roubaix = await declare(LILLE.model_copy(update={"title": "Incendie"}))
    await until_status(roubaix, candidates_asked(1))
    first = PHONES["unccas-representant-1"]
    lille_code, roubaix_code = (_code_of(m.body) for m in twilio_sandbox.sent_to(first))
    assert lille_code != roubaix_code
    await phone.reply(first, f"OUI {lille_code}")
    await until_status(lille, _designated)

    await phone.reply(first, f"OUI {roubaix_code}")
    status = await until_status(
        roubaix,
        lambda s: s.designation is not None and s.designation.attempts[0].answer is Answer.BUSY,
    )
    assert status.representative is None
    assert lille.id in twilio_sandbox.sent_to(first)[-1].body
    await until_status(roubaix, candidates_asked(2))
    second = PHONES["unccas-representant-2"]
    await phone.reply(second, f"OUI {_code_in_sms(twilio_sandbox, second)}")
    lille_status = await lille.query(MajorEventWorkflow.status)
    roubaix_status = await until_status(roubaix, _designated)
    assert lille_status.representative is not None and roubaix_status.representative is not None
    assert lille_status.representative.person.contact_id == "unccas-representant-1"
    assert roubaix_status.representative.person.contact_id == "unccas-representant-2"


async def test_duplicated_and_late_replies_change_nothing_after_designation(
    declare: Declare,
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    twilio_sandbox: TwilioSandbox,
    phone: Phone,
) -> None:
    handle, _ = await _second_asked_after_silence(declare, time_skipping_env)
    first, second = PHONES["unccas-representant-1"], PHONES["unccas-representant-2"]
    second_code = _code_in_sms(twilio_sandbox, second)
    assert "bien reçue" in await phone.reply(second, f"OUI {second_code}", message_sid="SMdup")
    before = await until_status(handle, _designated)
    entries = _designation_entries(store_with_network, handle.id)

    assert await phone.reply(second, f"OUI {second_code}", message_sid="SMdup") == ""
    assert "close" in await phone.reply(first, f"OUI {_code_in_sms(twilio_sandbox, first)}")
    assert "close" in await phone.reply(second, f"NON {second_code}")
    assert "aucune demande" in await phone.reply(first, "OUI 0000")
    assert "aucune demande" in await phone.reply(PHONES["unccas-representant-3"], "OUI")

    after = await handle.query(MajorEventWorkflow.status)
    assert after.representative == before.representative
    assert after.designation == before.designation
    assert _designation_entries(store_with_network, handle.id) == entries


async def test_someone_elses_code_a_wrong_keyword_and_an_ambiguous_reply_change_nothing(
    declare: Declare,
    twilio_sandbox: TwilioSandbox,
    phone: Phone,
) -> None:
    handle = await declare()
    await until_status(handle, candidates_asked(1))
    first = PHONES["unccas-representant-1"]
    code = _code_in_sms(twilio_sandbox, first)
    assert "aucune demande" in await phone.reply(PHONES["unccas-representant-2"], f"OUI {code}")
    assert f"le code {code} attend la réponse OUI/NON" in await phone.reply(first, f"OK {code}")
    assert "non reconnue" in await phone.reply(first, "d'accord je viens")
    other = await declare()
    await until_status(other, candidates_asked(1))
    assert "précisez le code" in await phone.reply(first, "OUI")
    status = await handle.query(MajorEventWorkflow.status)
    assert _attempts(status) == [("unccas-representant-1", 1, Answer.WAITING)]


async def test_an_undelivered_request_without_email_moves_on_at_once(
    declare: Declare,
    store_with_network: Store,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
    phone: Phone,
) -> None:
    """The candidate's mailbox refuses mail for good, then the carrier reports the
    SMS undelivered: nobody can answer, so the next candidate is asked at once."""
    mail_sandbox.refused.add("unccas-representant-1@example.org")
    handle = await declare()
    status = await until_status(handle, candidates_asked(1))
    assert status.designation is not None
    assert status.designation.attempts[0].channels == ["sms"]
    sms = twilio_sandbox.sent_to(PHONES["unccas-representant-1"])[0]
    callback = {"MessageSid": sms.sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert (await phone.post("/webhooks/twilio/status", callback)).status_code == 204
    status = await until_status(handle, candidates_asked(2))
    assert _attempts(status)[0] == ("unccas-representant-1", 1, Answer.UNREACHABLE)
    texts = [entry.text for entry in _log(store_with_network, handle.id)]
    assert any("SMS non remis à Alix Martin (30003)" in text for text in texts)


async def test_a_permanently_refused_sms_falls_back_to_email(
    declare: Declare,
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
    phone: Phone,
) -> None:
    """The released candidate's number is invalid: their SMS-only thank-you goes by email."""
    twilio_sandbox.faulty_numbers[PHONES["unccas-representant-1"]] = Fault.INVALID_NUMBER
    handle = await declare()
    status = await until_status(handle, candidates_asked(1))
    assert status.designation is not None
    assert status.designation.attempts[0].channels == ["email"]
    await _skip(time_skipping_env, ANSWER_DEADLINE, handle.id)
    await until_status(handle, candidates_asked(2))
    second = PHONES["unccas-representant-2"]
    await phone.reply(second, f"OUI {_code_in_sms(twilio_sandbox, second)}")
    await until_status(handle, _designated)
    thanks = [
        m
        for m in mail_sandbox.sent_to("unccas-representant-1@example.org")
        if "plus attendue" in plain_text(m)
    ]
    assert len(thanks) == 1
    texts = [entry.text for entry in _log(store_with_network, handle.id)]
    assert any("SMS impossible pour Alix Martin (21211)" in text for text in texts)
