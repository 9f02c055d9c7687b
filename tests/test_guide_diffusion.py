"""The guide of good practice diffused to the network: a numbered, dated PDF
edition emailed to each CCAS/CIAS director and UD of a department, once per
edition and recipient however many times it is published, through the real
workers and a real SMTP server."""

import asyncio
import base64
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pypdfium2
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.email import EmailActivities
from activities.guide_diffusion import GuideDiffusionActivities
from definitions.directory import Contact, Directory, Organisation
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.guide import (
    GUIDE_BATCH_SIZE,
    GuideDiffusionProgress,
    GuideDiffusionStart,
    guide_diffusion_workflow_id,
)
from definitions.loader import Definitions
from gateway.app import create_app
from operations import guide_control
from store import guide_editions, reviews
from store.database import Store
from store.directory import replace_directory
from store.tables import ReviewReportRow
from tests.conftest import SCRIPTS, api_headers, create_account, record_event, sign_in
from worker.payload_codec import encrypted_converter
from worker.sandbox.smtp_server import MailSandbox
from worker.temporal_workers import Messaging, running_workers

NORD_DIRECTORS = ["direction-lille@example.org", "direction-roubaix@example.org"]
UD_NORD = "presidence-ud59@example.org"
CIAS_MAILBOX = "cias-flandre@example.org"
ARRAS = "direction-arras@example.org"


def _directory() -> Directory:
    organisations = [
        Organisation(id="ccas-59350", kind="ccas", name="CCAS de Lille", insee_code="59350"),
        Organisation(id="ccas-59512", kind="ccas", name="CCAS de Roubaix", insee_code="59512"),
        Organisation(id="ccas-62041", kind="ccas", name="CCAS d'Arras", insee_code="62041"),
        Organisation(
            id="cias-flandre",
            kind="cias",
            name="CIAS de Flandre",
            department_code="59",
            email=CIAS_MAILBOX,
        ),
        Organisation(id="ud-59", kind="ud", name="UDCCAS du Nord", department_code="59"),
        Organisation(id="prefecture-59", kind="prefecture", name="Préfecture du Nord"),
    ]

    def person(contact_id: str, organisation_id: str, role: str, email: str) -> Contact:
        return Contact(
            id=contact_id, organisation_id=organisation_id, name=contact_id, role=role, email=email
        )

    contacts = [
        person("lille-direction", "ccas-59350", "director", NORD_DIRECTORS[0]),
        person("lille-adjoint", "ccas-59350", "deputy", "adjoint-lille@example.org"),
        person("roubaix-direction", "ccas-59512", "director", NORD_DIRECTORS[1]),
        person("arras-direction", "ccas-62041", "director", ARRAS),
        person("ud-59-presidence", "ud-59", "president", UD_NORD),
        person("prefecture-59-cabinet", "prefecture-59", "officer", "cabinet@example.org"),
    ]
    return Directory(organisations=organisations, contacts=contacts)


def _reviewed_flood(store: Store) -> None:
    now = datetime.now(UTC)
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=["59350"], title="Crue de la Deûle"
    )
    record_event(store, "inondation-20261122-deul", declaration, now)
    with store.session() as session:
        reviews.save_report(
            session,
            ReviewReportRow(
                event_id="inondation-20261122-deul",
                version=1,
                event_type="inondation",
                title="Crue de la Deûle",
                declared_at=now,
                compiled_at=now,
                html="<p>rapport</p>",
                pdf=b"%PDF-",
                lessons=[
                    {
                        "question": "Qu'est-ce qui a bien fonctionné ?",
                        "text": "L'ouverture du gymnase en une heure.",
                        "who": "CCAS, Nord",
                    }
                ],
                actions=[],
            ),
        )
        replace_directory(session, _directory())
        session.commit()


async def _diffuse_from_the_console(client: Client, store: Store, task_queue: str) -> None:
    """Staff's form starts the same diffusion; an unknown department is refused."""
    transport = httpx.ASGITransport(app=create_app(client, store, task_queue))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as browser:
        create_account(store, "permanence")
        csrf_token = await sign_in(browser, "permanence")
        form = {"csrf_token": csrf_token, "type": "inondation"}
        unknown = await browser.post("/guide/diffusion", data={**form, "department": "99"})
        assert unknown.status_code == 422 and "département inconnu : 99" in unknown.text
        started = await browser.post("/guide/diffusion", data={**form, "department": "59"})
        assert "Diffusion du guide lancée" in started.text
    handle = client.get_workflow_handle(
        guide_diffusion_workflow_id(EventType.INONDATION, "59"),
        result_type=GuideDiffusionProgress,
    )
    third = await handle.result()
    assert (third.sent, third.already_sent) == (0, 4)


async def test_an_edition_reaches_each_director_of_a_department_once(
    time_skipping_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    mail_sandbox: MailSandbox,
) -> None:
    _reviewed_flood(store)
    client = time_skipping_env.client
    async with running_workers(client, store, task_queue, definitions, messaging):
        first = await guide_control.publish(client, task_queue, EventType.INONDATION, "59")
        again = await guide_control.publish(client, task_queue, EventType.INONDATION, "59")
        await _diffuse_from_the_console(client, store, task_queue)

    expected = sorted([*NORD_DIRECTORS, UD_NORD, CIAS_MAILBOX])
    assert sorted(str(mail["To"]) for mail in mail_sandbox.received) == expected
    assert (first.recipients, first.sent, first.already_sent, first.failed) == (4, 4, 0, 0)
    assert (again.recipients, again.sent, again.already_sent) == (4, 0, 4)
    assert first.edition == again.edition and first.edition is not None
    assert first.edition.number == 1 and first.edition.events == 1

    (mail,) = mail_sandbox.sent_to(NORD_DIRECTORS[0])
    assert "Guide des bonnes pratiques : Inondation, édition n°1" in str(mail["Subject"])
    (attachment,) = [part for part in mail.iter_attachments()]
    assert attachment.get_filename() == "guide-inondation-edition-1.pdf"
    document = pypdfium2.PdfDocument(attachment.get_content())
    text = document[0].get_textpage().get_text_range()
    assert "édition n°1" in text.lower() and "L'ouverture du gymnase en une heure." in text
    with store.session() as session:
        assert [e.number for e in guide_editions.editions(session, EventType.INONDATION)] == [1]

    transport = httpx.ASGITransport(app=create_app(client, store, task_queue))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway:
        headers = api_headers(store)
        page = await gateway.get("/guide", params={"type": "inondation"}, headers=headers)
        assert "Édition n°1</a> du" in page.text
        pdf = await gateway.get("/guide/editions/inondation/1.pdf", headers=headers)
        assert pdf.content == attachment.get_content()
        missing = await gateway.get("/guide/editions/inondation/7.pdf", headers=headers)
        assert missing.status_code == 404 and "pas d'édition n°7" in missing.json()["detail"]


async def _publish(environment: dict[str, str]) -> tuple[int, str]:
    """``tocsin guide publish`` in its own process, as an operator runs it: a
    command that talks to Temporal leaves through ``os._exit``."""
    process = await asyncio.create_subprocess_exec(
        str(SCRIPTS / "tocsin"),
        *("guide", "publish", "--type", "inondation", "--department", "59"),
        env={**os.environ, **environment},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def test_the_publish_command_shows_progress_and_sends_each_mail_once(
    dev_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    mail_sandbox: MailSandbox,
    tmp_path: Path,
) -> None:
    """``tocsin guide publish`` run twice against running workers: the first prints
    its progress while the slow mail server holds the batch, then its count; the
    second sends nothing and says each recipient had the edition."""
    _reviewed_flood(store)
    key = secrets.token_bytes(32)
    workers_client = Client(
        dev_env.client.service_client,
        namespace=dev_env.client.namespace,
        data_converter=encrypted_converter(key),
    )
    environment = {
        "TOCSIN_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "TOCSIN_TASK_QUEUE": task_queue,
        "TOCSIN_DATABASE_URL": store.url,
        "TOCSIN_PAYLOAD_KEY": base64.b64encode(key).decode(),
        "TOCSIN_STATE_DIR": str(tmp_path / "state"),
    }
    mail_sandbox.answer_slowly(0.5)
    async with running_workers(workers_client, store, task_queue, definitions, messaging):
        first_code, first = await _publish(environment)
        again_code, again = await _publish(environment)

    assert first_code == 0, first
    assert re.search(r"^  [0-4]/4 destinataire\(s\) traité\(s\)$", first, re.MULTILINE), first
    edition = re.compile(
        r"^Édition n°1 du \d{2}/\d{2}/\d{4} \(1 retour\(s\) d'expérience\), "
        r"département 59 : 4 destinataire\(s\)\.$",
        re.MULTILINE,
    )
    assert edition.search(first), first
    assert "4 envoyé(s), 0 l'avaient déjà reçu, 0 échec(s)." in first
    assert again_code == 0, again
    assert edition.search(again), again
    assert "0 envoyé(s), 4 l'avaient déjà reçu, 0 échec(s)." in again
    expected = sorted([*NORD_DIRECTORS, UD_NORD, CIAS_MAILBOX])
    assert sorted(str(mail["To"]) for mail in mail_sandbox.received) == expected


def _many_centres(count: int, skipped: int = 0) -> Directory:
    """``count`` Nord CIAS written to at their own address, ids in order."""
    return Directory(
        organisations=[
            Organisation(
                id=f"cias-{number:03d}",
                kind="cias",
                name=f"CIAS n°{number}",
                department_code="59",
                email=f"cias-{number:03d}@example.org",
            )
            for number in range(skipped, count)
        ],
        contacts=[],
    )


async def test_an_import_during_a_diffusion_skips_nobody(
    store: Store, messaging: Messaging, mail_sandbox: MailSandbox
) -> None:
    """The first centre leaves the directory once the first batch has gone: the
    second batch still reaches every centre it had at preparation."""
    _reviewed_flood(store)
    with store.session() as session:
        replace_directory(session, _many_centres(GUIDE_BATCH_SIZE + 1))
        session.commit()
    guide = GuideDiffusionActivities(
        store, EmailActivities(store, messaging.smtp), messaging.answer_links.public_url
    )
    start = GuideDiffusionStart(event_type=EventType.INONDATION, department="59")
    run = ActivityEnvironment().run
    prepared = await asyncio.to_thread(run, guide.prepare_guide_edition, start)
    (first, _), (second, left) = prepared.batches("59")
    assert (await run(guide.send_guide_batch, first)).sent == GUIDE_BATCH_SIZE
    with store.session() as session:
        replace_directory(session, _many_centres(GUIDE_BATCH_SIZE + 1, skipped=1))
        session.commit()
    assert (await run(guide.send_guide_batch, second)).sent == left == 1
    addresses = sorted(str(mail["To"]) for mail in mail_sandbox.received)
    assert addresses == [f"cias-{n:03d}@example.org" for n in range(GUIDE_BATCH_SIZE + 1)]
