"""Overseas France: numbers read in their own region, fixed lines reached by email,
or called when there is none.

The numbers of the overseas regions here are libphonenumber's own example numbers
(no range is reserved for fiction there); nothing is sent beyond the sandboxes.
"""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from cli.directory import directory_app
from definitions.committee import CommitteeStart
from definitions.directory import Contact, Directory, Organisation
from definitions.directory_csv import DirectoryImportError, read_directory
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.people import Person
from definitions.temporal_names import STOP_SIGNAL, committee_workflow_id
from definitions.territory import load_territory
from store import events
from store.database import Store
from store.directory import replace_directory
from tests.conftest import (
    Phone,
    idle,
    network_directory,
    plain_text,
    record_event,
    stand_down,
    start_event,
    until_department,
    until_status,
)
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import TwilioSandbox
from worker.temporal_workers import Messaging, running_workers
from workflows.committee_liaison import CommitteeLiaisonWorkflow

ABYMES = "97101"
GUADELOUPE_FIXED_LINE = "+590590201234"
FIRST_REPRESENTATIVE_PHONE = "+33639980101"

ORGANISATIONS = """id,kind,name,insee_code,epci_siren,department_code,email,phone
unccas,unccas,UNCCAS,,,,astreinte@example.org,
ccas-97411,ccas,CCAS de Saint-Denis,97411,,,ccas974@example.org,0262 16 12 34
ccas-97101,ccas,CCAS des Abymes,97101,,,ccas971@example.org,
ccas-97611,ccas,CCAS de Mamoudzou,97611,,976,ccas976@example.org,
"""
CONTACTS = """id,organisation_id,name,role,phone,email,roster_rank
rep-1,unccas,Alix Robin,representative,06 39 98 00 01,alix@example.org,1
dir-974,ccas-97411,Nadia Hoarau,director,0692 12 34 56,dir974@example.org,
dir-971,ccas-97101,Karim Bellay,director,0590 20 12 34,dir971@example.org,
dir-976,ccas-97611,Inès Madi,director,0639 01 23 45,dir976@example.org,
"""


def _read(tmp_path: Path, organisations: str, contacts: str) -> Directory:
    orgs, people = tmp_path / "organisations.csv", tmp_path / "contacts.csv"
    orgs.write_text(organisations, encoding="utf-8")
    people.write_text(contacts, encoding="utf-8")
    return read_directory(orgs, people, load_territory())


def test_national_numbers_are_read_in_the_region_of_their_organisation(tmp_path: Path) -> None:
    directory = _read(tmp_path, ORGANISATIONS, CONTACTS)
    phones = {contact.id: contact.phone for contact in directory.contacts}
    assert phones == {
        "rep-1": "+33639980001",
        "dir-974": "+262692123456",
        "dir-971": GUADELOUPE_FIXED_LINE,
        "dir-976": "+262639012345",
    }
    departments = {o.id: o.department_code for o in directory.organisations}
    assert departments["ccas-97411"] == "974" and departments["unccas"] is None
    assert {o.id: o.phone for o in directory.organisations}["ccas-97411"] == "+262262161234"


def guadeloupe_directory(email: str | None = "direction-abymes@example.org") -> Directory:
    """The test network, with the CCAS of Les Abymes whose director has only a fixed line."""
    network = network_directory()
    abymes = Organisation(
        id="ccas-97101",
        kind="ccas",
        name="CCAS des Abymes",
        insee_code=ABYMES,
        department_code="971",
    )
    director = Contact(
        id="ccas-97101-direction",
        organisation_id="ccas-97101",
        name="Karim Bellay",
        role="director",
        phone=GUADELOUPE_FIXED_LINE,
        email=email,
    )
    return Directory(
        organisations=[*network.organisations, abymes], contacts=[*network.contacts, director]
    )


@pytest_asyncio.fixture(loop_scope="session")
async def guadeloupe_store(store: Store) -> AsyncIterator[Store]:
    with store.session() as session:
        replace_directory(session, guadeloupe_directory())
        session.commit()
    yield store


async def test_a_fixed_line_director_is_written_to_and_called_for_the_support_request(
    time_skipping_env: WorkflowEnvironment,
    guadeloupe_store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
) -> None:
    """No SMS to a fixed line: the email, and a call in place of the SMS, since the
    request asks for an answer."""
    calling = replace(messaging, voice=replace(messaging.voice, public_url=phone.public_url))
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=[ABYMES], title="Crue aux Abymes"
    )
    event_id = f"inondation-971-{task_queue[-6:]}"
    async with running_workers(
        time_skipping_env.client, guadeloupe_store, task_queue, definitions, calling
    ):
        handle = await start_event(time_skipping_env.client, task_queue, declaration, event_id)
        await until_status(handle, lambda s: bool(s.designation and s.designation.attempts))
        assert "bien reçue" in await phone.reply(FIRST_REPRESENTATIVE_PHONE, "oui")
        department = await until_department(
            time_skipping_env.client,
            event_id,
            "971",
            lambda d: bool(d.centres) and all(c.requested_at for c in d.centres),
        )
        await stand_down(handle)
    [centre] = department.centres
    assert centre.recipients[0].fixed_line
    assert twilio_sandbox.sent_to(GUADELOUPE_FIXED_LINE) == []
    [request] = mail_sandbox.sent_to("direction-abymes@example.org")
    assert "votre centre est-il mobilisé" in str(request["Subject"])
    assert f"OK {centre.code}" in plain_text(request)
    assert len(twilio_sandbox.calls_to(GUADELOUPE_FIXED_LINE)) == 1
    assert centre.channels == ["email", "voice"]
    with guadeloupe_store.session() as session:
        log = [entry.text for entry in events.crisis_log(session, event_id)]
    assert any("0 par SMS, 1 par email, 1 par appel" in text for text in log)


async def test_a_fixed_line_director_without_email_is_called_and_answers_on_the_keypad(
    time_skipping_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
    twilio_sandbox: TwilioSandbox,
) -> None:
    with store.session() as session:
        replace_directory(session, guadeloupe_directory(email=None))
        session.commit()
    calling = replace(messaging, voice=replace(messaging.voice, public_url=phone.public_url))
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=[ABYMES], title="Crue aux Abymes"
    )
    event_id = f"inondation-971-appel-{task_queue[-6:]}"
    async with running_workers(time_skipping_env.client, store, task_queue, definitions, calling):
        handle = await start_event(time_skipping_env.client, task_queue, declaration, event_id)
        await until_status(handle, lambda s: bool(s.designation and s.designation.attempts))
        assert "bien reçue" in await phone.reply(FIRST_REPRESENTATIVE_PHONE, "oui")
        department = await until_department(
            time_skipping_env.client,
            event_id,
            "971",
            lambda d: bool(d.centres) and all(c.requested_at for c in d.centres),
        )
        [centre] = department.centres
        assert twilio_sandbox.sent_to(GUADELOUPE_FIXED_LINE) == []
        [call] = twilio_sandbox.calls_to(GUADELOUPE_FIXED_LINE)
        gather = ElementTree.fromstring(await twilio_sandbox.answer(call)).find("Gather")
        assert gather is not None
        question = gather.findtext("Say") or ""
        assert f"OK {centre.code}" in question
        assert "Tapez 1 si votre centre est mobilisé, 2 s'il a besoin de soutien" in question
        pressed = await twilio_sandbox.press(call, gather.get("action") or "", "1")
        assert "Votre réponse est enregistrée" in pressed
        answered = await until_department(
            time_skipping_env.client, event_id, "971", lambda d: d.counts.mobilised == 1
        )
        await stand_down(handle)
    assert answered.centres[0].answered_by == "Karim Bellay"
    with store.session() as session:
        log = [entry.text for entry in events.crisis_log(session, event_id)]
    assert any("0 par SMS, 0 par email, 1 par appel" in text for text in log)


def test_a_number_of_another_region_is_refused_with_its_line(tmp_path: Path) -> None:
    contacts = CONTACTS + "dir-976b,ccas-97611,Hélène Abdou,deputy,0692 12 34 56,,\n"
    with pytest.raises(DirectoryImportError) as refused:
        _read(tmp_path, ORGANISATIONS, contacts)
    assert [str(problem) for problem in refused.value.problems] == [
        "contacts.csv, ligne 6, colonne phone : numéro invalide pour Mayotte « 0692 12 34 56 » "
        "(un numéro d'ailleurs s'écrit en +indicatif)"
    ]


def test_the_import_flags_fixed_lines_as_without_sms(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    orgs, people = tmp_path / "organisations.csv", tmp_path / "contacts.csv"
    orgs.write_text(ORGANISATIONS, encoding="utf-8")
    people.write_text(CONTACTS, encoding="utf-8")
    monkeypatch.setenv("TOCSIN_DATABASE_URL", store.url)
    result = CliRunner().invoke(directory_app, ["import", str(orgs), str(people)])
    assert result.exit_code == 0, result.output
    assert "1 contact(s) sur ligne fixe, pas de SMS (joints par email) : dir-971" in result.output


async def test_a_fixed_line_invitee_is_promised_no_sms_reminder(
    time_skipping_env: WorkflowEnvironment,
    guadeloupe_store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
    mail_sandbox: MailSandbox,
) -> None:
    declaration = EventDeclaration(type=EventType.CYCLONE, communes=[ABYMES], title="Irma")
    event_id = f"cyclone-971-{task_queue[-6:]}"
    started = await time_skipping_env.get_current_time()
    record_event(guadeloupe_store, event_id, declaration, started)
    start = CommitteeStart(
        event_id=event_id,
        declaration=declaration,
        header="UNCCAS - CYCLONE Guadeloupe (971)",
        rules=definitions.protocols[EventType.CYCLONE].committee,
        representative=Person(
            contact_id="unccas-representant-1",
            name="Alix Martin",
            organisation_id="unccas",
            phone=FIRST_REPRESENTATIVE_PHONE,
            email="unccas-representant-1@example.org",
        ),
        departments=["971"],
        centres_needing_support=[],
    )
    api = f"/api/events/{event_id}"
    async with running_workers(
        time_skipping_env.client, guadeloupe_store, task_queue, definitions, messaging
    ):
        handle = await time_skipping_env.client.start_workflow(
            CommitteeLiaisonWorkflow.run,
            start,
            id=committee_workflow_id(event_id),
            task_queue=task_queue,
        )
        committee = {"department_code": "971", "name": "CLAV de Guadeloupe", "place": "Basse-Terre"}
        assert (await phone.http.post(api + "/committees", json=committee)).status_code == 201
        meeting = {
            "committee_id": "clav-971",
            "starts_at": (started + timedelta(days=10)).isoformat(),
            "invitee_ids": ["ccas-97101-direction"],
        }
        assert (await phone.http.post(api + "/meetings", json=meeting)).status_code == 201
        await idle(time_skipping_env, handle.id)
        await handle.signal(STOP_SIGNAL)
        await handle.result()
    [invitation] = mail_sandbox.sent_to("direction-abymes@example.org")
    assert "vous ne recevrez pas de rappel par SMS" in plain_text(invitation)
    assert "heure de Guadeloupe" in str(invitation["Subject"])
