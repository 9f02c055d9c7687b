"""The Département (conseil départemental) among those informed: where the protocol
names it (floods), it is told of the event and its representative as the UD is."""

import asyncio
from email.message import EmailMessage

from temporalio.testing import WorkflowEnvironment

from definitions.crisis_log import CrisisLogKind
from definitions.directory import Contact, Directory, Organisation
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.loader import Definitions
from store import events
from store.database import Store
from store.directory import replace_directory
from tests.conftest import (
    Phone,
    candidates_asked,
    network_directory,
    plain_text,
    stand_down,
    start_event,
    until_status,
)
from worker.sandbox.smtp_server import MailSandbox
from worker.temporal_workers import Messaging, running_workers

DEPARTEMENT_EMAIL = "solidarites@departement59.example.org"


def _with_the_nord_departement() -> Directory:
    network = network_directory()
    nord = Organisation(
        id="departement-59", kind="departement", name="Département du Nord", department_code="59"
    )
    officer = Contact(
        id="departement-59-solidarites",
        organisation_id=nord.id,
        name="Direction des solidarités",
        role="officer",
        email=DEPARTEMENT_EMAIL,
    )
    return Directory(
        organisations=[*network.organisations, nord], contacts=[*network.contacts, officer]
    )


async def _mail_to(mail_sandbox: MailSandbox, address: str) -> EmailMessage:
    for _ in range(200):
        if received := mail_sandbox.sent_to(address):
            return received[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing sent to {address}")


async def test_the_departement_is_informed_of_a_flood_like_the_ud(
    time_skipping_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
    mail_sandbox: MailSandbox,
) -> None:
    assert definitions.protocols[EventType.INONDATION].recipients.departements
    assert not definitions.protocols[EventType.ATTENTAT].recipients.departements
    with store.session() as session:
        replace_directory(session, _with_the_nord_departement())
        session.commit()
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=["59350"], title="Crue de la Deûle"
    )
    client = time_skipping_env.client
    async with running_workers(client, store, task_queue, definitions, messaging):
        handle = await start_event(client, task_queue, declaration, "inondation-test-cd59")
        await until_status(handle, candidates_asked(1))
        await phone.reply("+33639980101", "oui")
        told = await _mail_to(mail_sandbox, DEPARTEMENT_EMAIL)
        await until_status(handle, lambda status: status.representative is not None)
        await stand_down(handle)
    assert "Un événement majeur touche votre département" in plain_text(told)
    assert "Alix Martin" in plain_text(told)
    with store.session() as session:
        log = events.crisis_log(session, "inondation-test-cd59")
    informed = [entry.text for entry in log if entry.kind is CrisisLogKind.STATE_INFORMED]
    assert "UD 1/1, Département(s) 1/1" in informed[0]
