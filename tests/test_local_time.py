"""Local time for every person, on the time-skipping server with the demo directory:
a CLAV in Mayotte meets in Mayotte time, its invitation's .ics says so, and an action
due on a date is due at 18:00 where its assignee is."""

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any

import pytest_asyncio
from icalendar import Calendar
from temporalio.testing import WorkflowEnvironment

from definitions.committee import CommitteeStart, CommitteeStatus, task_due_at
from definitions.event import CloseRequest, EventDeclaration
from definitions.event_status import EventStatus
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.local_time import in_zone, zone_info, zone_of_department
from definitions.people import Person
from definitions.temporal_names import CLOSE_UPDATE, STOP_SIGNAL, committee_workflow_id
from store import directory
from store.database import Store
from tests.conftest import (
    Phone,
    gateway_phone,
    idle,
    plain_text,
    record_event,
    start_event,
    time_skipping_server,
    until_department,
    until_status,
)
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import TwilioSandbox
from worker.temporal_workers import Messaging, running_workers
from workflows.committee_liaison import CommitteeLiaisonWorkflow

MAYOTTE = zone_info("Indian/Mayotte")
MAMOUDZOU_DIRECTOR = "ccas-97611-direction"
REPRESENTATIVE = Person(
    contact_id="unccas-representant-1",
    name="Représentant de démonstration",
    organisation_id="unccas",
    phone="+33639980004",
    email="unccas-representant-1@example.org",
)
DECLARATION = EventDeclaration(
    type=EventType.INONDATION, communes=["97611"], title="Crue à Mamoudzou"
)


def test_moments_are_written_in_the_reader_zone_and_named_outside_paris() -> None:
    moment = datetime(2027, 3, 16, 10, 30, tzinfo=UTC)
    assert in_zone(moment) == "mardi 16/03/2027 à 11h30"
    assert in_zone(moment, "Indian/Reunion") == "mardi 16/03/2027 à 14h30 heure de La Réunion"
    assert in_zone(moment, "America/Guadeloupe") == "mardi 16/03/2027 à 06h30 heure de Guadeloupe"
    assert zone_of_department("974") == "Indian/Reunion"
    assert zone_of_department("2A") == zone_of_department(None) == "Europe/Paris"
    due = task_due_at(datetime(2027, 4, 1).date(), "Indian/Mayotte")
    assert due == datetime(2027, 4, 1, 15, 0, tzinfo=UTC)


@pytest_asyncio.fixture(loop_scope="session")
async def mayotte_liaison(
    time_skipping_env: WorkflowEnvironment,
    demo_store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
) -> AsyncIterator[tuple[str, datetime]]:
    """The committee workflow of a flood in Mayotte, alone."""
    event_id = f"inondation-976-{task_queue[-6:]}"
    started = await time_skipping_env.get_current_time()
    record_event(demo_store, event_id, DECLARATION, started)
    start = CommitteeStart(
        event_id=event_id,
        declaration=DECLARATION,
        header="UNCCAS - INONDATION Mayotte (976)",
        rules=definitions.protocols[EventType.INONDATION].committee,
        representative=REPRESENTATIVE,
        departments=["976"],
        centres_needing_support=[],
    )
    async with running_workers(
        time_skipping_env.client, demo_store, task_queue, definitions, messaging
    ):
        handle = await time_skipping_env.client.start_workflow(
            CommitteeLiaisonWorkflow.run,
            start,
            id=committee_workflow_id(event_id),
            task_queue=task_queue,
        )
        yield event_id, started
        await idle(time_skipping_env, handle.id)
        await handle.signal(STOP_SIGNAL)
        await handle.result()


def _event_of(mail_sandbox: MailSandbox, address: str) -> Any:
    [message] = mail_sandbox.sent_to(address)
    [part] = [p for p in message.iter_attachments() if p.get_filename() == "invitation.ics"]
    calendar = Calendar.from_ical(part.get_content())
    assert [zone["TZID"] for zone in calendar.walk("VTIMEZONE")] == ["Indian/Mayotte"]
    [event] = calendar.walk("VEVENT")
    return event


async def test_a_clav_in_mayotte_meets_and_sets_deadlines_in_mayotte_time(
    time_skipping_env: WorkflowEnvironment,
    demo_store: Store,
    mayotte_liaison: tuple[str, datetime],
    phone: Phone,
    mail_sandbox: MailSandbox,
    twilio_sandbox: TwilioSandbox,
) -> None:
    event_id, started = mayotte_liaison
    api = f"/api/events/{event_id}"
    with demo_store.session() as session:
        director = directory.contact(session, MAMOUDZOU_DIRECTOR)
    assert director is not None and director.phone and director.email
    registered = await phone.http.post(
        api + "/committees",
        json={
            "department_code": "976",
            "name": "CLAV de Mayotte",
            "place": "Préfecture de Mayotte, Mamoudzou",
            "member_ids": [MAMOUDZOU_DIRECTOR],
        },
    )
    assert registered.status_code == 201, registered.text
    day = started.astimezone(MAYOTTE).date() + timedelta(days=10)
    starts_at = datetime.combine(day, time(14, 30), MAYOTTE)
    meeting = await phone.http.post(
        api + "/meetings",
        json={
            "committee_id": "clav-976",
            "starts_at": starts_at.isoformat(),
            "invitee_ids": [MAMOUDZOU_DIRECTOR],
        },
    )
    assert meeting.status_code == 201, meeting.text

    event = _event_of(mail_sandbox, director.email)
    assert event["DTSTART"].params["TZID"] == "Indian/Mayotte"
    assert (event.decoded("DTSTART").hour, event.decoded("DTSTART").minute) == (14, 30)
    [invitation] = mail_sandbox.sent_to(director.email)
    assert "à 14h30 heure de Mayotte" in str(invitation["Subject"])
    [to_paris] = mail_sandbox.sent_to(REPRESENTATIVE.email or "")
    assert str(to_paris["Subject"]).endswith(in_zone(starts_at)), "Paris time, unnamed"

    await idle(time_skipping_env, committee_workflow_id(event_id))
    await time_skipping_env.sleep(starts_at + timedelta(hours=3) - started)
    due = day + timedelta(days=20)
    reported = await phone.http.post(
        api + "/meetings/reunion-1/report",
        json={
            "summary": "Premier CLAV : relogement.",
            "actions": [
                {
                    "what": "Recenser les familles",
                    "assignee_id": MAMOUDZOU_DIRECTOR,
                    "due": str(due),
                }
            ],
        },
    )
    assert reported.status_code == 200, reported.text
    [task] = CommitteeStatus.model_validate(reported.json()).tasks
    assert task.due_at == datetime.combine(due, time(18, 0), MAYOTTE)
    [assigned] = [m.body for m in twilio_sandbox.sent_to(director.phone) if "FAIT" in m.body]
    assert "à 18h00 heure de Mayotte" in assigned
    [mail] = [m for m in mail_sandbox.sent_to(director.email) if "action" in str(m["Subject"])]
    link = re.search(r"https?://\S+(/r/\S+)", plain_text(mail))
    assert link is not None
    answer_page = await phone.http.get(link.group(1))
    assert "à 18h00 heure de Mayotte" in answer_page.text


@pytest_asyncio.fixture
async def review_env() -> AsyncIterator[WorkflowEnvironment]:
    """A server of its own: the review outlives the event (see test_after_action_review)."""
    async with time_skipping_server() as env:
        yield env


async def _mail_about(mail: MailSandbox, address: str, subject: str) -> EmailMessage:
    for _ in range(200):
        found = [m for m in mail.sent_to(address) if subject in str(m["Subject"])]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail « {subject} » for {address}")


async def test_a_flood_in_la_reunion_gives_its_centres_deadlines_in_reunion_time(
    review_env: WorkflowEnvironment,
    demo_store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    mail_sandbox: MailSandbox,
) -> None:
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=["97411"], title="Crue de la rivière Saint-Denis"
    )
    event_id = f"inondation-974-{task_queue[-6:]}"
    async with (
        gateway_phone(review_env.client, demo_store) as phone,
        running_workers(review_env.client, demo_store, task_queue, definitions, messaging),
    ):
        handle = await start_event(review_env.client, task_queue, declaration, event_id)
        await until_status(handle, lambda s: bool(s.designation and s.designation.attempts))
        assert "bien reçue" in await phone.reply(REPRESENTATIVE.phone or "", "oui")
        department = await until_department(
            review_env.client, event_id, "974", lambda d: bool(d.centres and d.centres[0].code)
        )
        [centre] = department.centres
        director = centre.recipients[0]
        assert director.time_zone == "Indian/Reunion" and director.phone and director.email
        assert "bien reçue" in await phone.reply(director.phone, f"OK {centre.code}")
        await until_department(
            review_env.client, event_id, "974", lambda d: d.counts.mobilised == 1
        )
        await handle.execute_update(
            CLOSE_UPDATE, CloseRequest(closed_by="astreinte", review=True), result_type=EventStatus
        )
        to_centre = await _mail_about(mail_sandbox, director.email, "retour d'expérience")
        to_representative = await _mail_about(
            mail_sandbox, REPRESENTATIVE.email or "", "retour d'expérience"
        )
        link = re.search(r"https?://\S+(/q/[\w.\-]+)", plain_text(to_centre))
        assert link is not None
        form = await phone.http.get(link.group(1))
        assert form.status_code == 200 and "heure de La Réunion. Répondez" in form.text
    deadline = re.search(r"avant le (.+?) :", plain_text(to_centre).replace("\n", " "))
    assert deadline is not None and deadline.group(1).endswith("heure de La Réunion")
    assert "heure de" not in plain_text(to_representative)
