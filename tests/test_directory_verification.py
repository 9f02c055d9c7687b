"""Directory verification campaigns through the real workers, Twilio and SMTP
sandboxes and the gateway's signed SMS webhook, on the time-skipping server: each
centre of a department asked by SMS and email, one reminder to the silent ones,
their list emailed to the UD; and a campaign that waits while a real event mobilises."""

import asyncio
import dataclasses
import html
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import httpx
import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from cli.directory import directory_app
from definitions.accounts import Role
from definitions.directory import Contact, Directory, Organisation, OrganisationKind
from definitions.directory_verification import VerificationProgress, VerificationStart
from definitions.event import EventDeclaration, Phase
from definitions.event_status import EventStatus
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.metrics import DIRECTORY_FRESH_SHARE, TocsinMetrics
from definitions.outgoing import OutboxStatus
from definitions.temporal_names import VERIFICATION_PROGRESS_QUERY
from definitions.territory import load_territory
from gateway.app import create_app
from gateway.directory_routes import ROWS_PER_PAGE
from gateway.metrics import refreshing_directory_freshness
from operations import directory_verification
from store import directory_verification as verification
from store import events, outbox
from store.database import Store
from store.directory import replace_directory
from store.directory_verification import department_of
from tests.conftest import (
    SCRIPTS,
    Phone,
    api_headers,
    candidates_asked,
    create_account,
    network_directory,
    plain_text,
    record_event,
    server_port,
    sign_in,
    stand_down,
    start_event,
    until_department,
    until_status,
)
from tests.prometheus_text import scrape
from worker.demo_freshness import seed_freshness
from worker.ports import free_port
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import Fault, TwilioSandbox
from worker.temporal_workers import Messaging, running_workers
from workflows.directory_digest import DirectoryDigestWorkflow
from workflows.directory_verification import DirectoryVerificationWorkflow

LILLE_PHONE = "+33639980001"
ROUBAIX_PHONE = "+33639980002"
ROUBAIX_NEW_PHONE = "+33639980012"
ARRAS_PHONE = "+33639980003"
UD_NORD = "presidence-ud59@example.org"
LILLE_MAILBOX = "accueil-ccas-lille@example.org"
STAFF = "astreinte@example.org"
REPRESENTATIVE_PHONE = "+33639980101"


def nord_directory(roubaix_phone: str = ROUBAIX_PHONE) -> Directory:
    """Two CCAS of the Nord, one of the Pas-de-Calais, the Nord's UD."""
    return Directory(
        organisations=[
            Organisation(
                id="ccas-59350",
                kind="ccas",
                name="CCAS de Lille",
                insee_code="59350",
                email=LILLE_MAILBOX,
            ),
            Organisation(id="ccas-59512", kind="ccas", name="CCAS de Roubaix", insee_code="59512"),
            Organisation(id="ccas-62041", kind="ccas", name="CCAS d'Arras", insee_code="62041"),
            Organisation(id="ud-59", kind="ud", name="UDCCAS du Nord", department_code="59"),
            Organisation(id="unccas", kind="unccas", name="UNCCAS"),
        ],
        contacts=[
            Contact(
                id="lille-direction",
                organisation_id="ccas-59350",
                name="Camille Martin",
                role="director",
                phone=LILLE_PHONE,
                email="direction-lille@example.org",
            ),
            Contact(
                id="roubaix-direction",
                organisation_id="ccas-59512",
                name="Dominique Petit",
                role="director",
                phone=roubaix_phone,
                email="direction-roubaix@example.org",
            ),
            Contact(
                id="arras-direction",
                organisation_id="ccas-62041",
                name="Alex Bernard",
                role="director",
                phone=ARRAS_PHONE,
                email="direction-arras@example.org",
            ),
            Contact(
                id="ud-59-presidence",
                organisation_id="ud-59",
                name="Claude Leroy",
                role="president",
                email=UD_NORD,
            ),
            Contact(
                id="unccas-astreinte",
                organisation_id="unccas",
                name="Astreinte",
                role="on_call_staff",
                email=STAFF,
            ),
        ],
    )


def with_nord(store: Store, roubaix_phone: str = ROUBAIX_PHONE) -> Store:
    with store.session() as session:
        replace_directory(session, nord_directory(roubaix_phone))
        session.commit()
    return store


async def until_progress(
    handle: WorkflowHandle[Any, VerificationProgress],
    condition: Callable[[VerificationProgress], bool],
) -> VerificationProgress:
    """Polls the campaign in real time: simulated time stands still meanwhile."""
    for _ in range(400):
        progress: VerificationProgress = await handle.query(
            VERIFICATION_PROGRESS_QUERY, result_type=VerificationProgress
        )
        if condition(progress):
            return progress
        await asyncio.sleep(0.05)
    raise AssertionError(f"campaign never reached the condition: {progress}")


def code_in(body: str) -> str:
    found = re.search(r"OK (\d{4})", body)
    assert found, body
    return found.group(1)


async def test_a_campaign_asks_reminds_and_lists_the_silent_to_their_ud(
    time_skipping_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
    phone: Phone,
) -> None:
    with_nord(store)
    client = time_skipping_env.client
    async with running_workers(client, store, task_queue, definitions, messaging):
        handle = await directory_verification.start(
            client, task_queue, ["59"], [OrganisationKind.CCAS], "astreinte"
        )
        await until_progress(handle, lambda progress: progress.batches_sent == 1)
        [lille_sms] = twilio_sandbox.sent_to(LILLE_PHONE)
        assert "Répondez OK" in lille_sms.body and "CCAS de Lille" in lille_sms.body
        assert twilio_sandbox.sent_to(ARRAS_PHONE) == []
        [lille_mail] = mail_sandbox.sent_to("direction-lille@example.org")
        assert "/annuaire/" in plain_text(lille_mail)
        [shared] = mail_sandbox.sent_to(LILLE_MAILBOX)
        assert "/annuaire/" in plain_text(shared)

        answer = await phone.reply(LILLE_PHONE, f"OK {code_in(lille_sms.body)}")
        assert "bien reçue" in answer
        await until_progress(handle, lambda progress: progress.confirmed_by_sms == 1)

        with_nord(store, roubaix_phone=ROUBAIX_NEW_PHONE)
        await time_skipping_env.sleep(timedelta(days=8))
        reminded = await until_progress(handle, lambda progress: progress.reminders_sent == 1)
        assert reminded.directory_reimported
        assert len(twilio_sandbox.sent_to(LILLE_PHONE)) == 1
        assert len(twilio_sandbox.sent_to(ROUBAIX_PHONE)) == 1
        [reminder] = twilio_sandbox.sent_to(ROUBAIX_NEW_PHONE)
        assert reminder.body.startswith("UNCCAS : Rappel")

        done = await handle.result()

    assert (done.organisations, done.silent, done.finished) == (2, 1, True)
    [told] = mail_sandbox.sent_to(UD_NORD)
    assert "CCAS de Roubaix" in plain_text(told) and "CCAS de Lille" not in plain_text(told)
    assert "réimporté pendant la campagne" in plain_text(told)
    with store.session() as session:
        confirmed = verification.last_confirmations(session)
    assert set(confirmed) == {"ccas-59350"}
    freshness = directory_verification.freshness(store, "59")
    [nord] = freshness
    assert (nord.department, nord.organisations, nord.fresh) == ("59", 3, 1)
    assert [stale.organisation_id for stale in nord.stale] == ["ccas-59512", "ud-59"]


async def test_a_campaign_waits_while_a_real_event_mobilises(
    time_skipping_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    twilio_sandbox: TwilioSandbox,
) -> None:
    with_nord(store)
    now = datetime.now(UTC)
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=["62041"], title="Crue de la Scarpe"
    )
    record_event(store, "inondation-20261207-scar", declaration, now)
    drill = EventDeclaration(
        type=EventType.INONDATION, communes=["59350"], title="Exercice", exercise=True
    )
    record_event(store, "inondation-20261207-exer", drill, now)
    client = time_skipping_env.client
    async with running_workers(client, store, task_queue, definitions, messaging):
        handle = await directory_verification.start(
            client, task_queue, ["59"], [OrganisationKind.CCAS]
        )
        paused = await until_progress(handle, lambda progress: progress.paused)
        assert paused.batches_sent == 0 and twilio_sandbox.messages == []

        with store.session() as session:
            events.set_phase(session, "inondation-20261207-scar", Phase.COMMITTEE, now)
            session.commit()
        await time_skipping_env.sleep(timedelta(minutes=11))
        going = await until_progress(handle, lambda progress: progress.batches_sent == 1)
        assert not going.paused
        assert len(twilio_sandbox.sent_to(LILLE_PHONE)) == 1
        await handle.terminate("fin du test")


async def test_the_daily_digest_tells_the_ud_and_staff_of_each_correction_once(
    time_skipping_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    mail_sandbox: MailSandbox,
) -> None:
    with_nord(store)
    with store.session() as session:
        verification.apply_line(
            session,
            "ccas-59512",
            {"director_phone": "+33639980019"},
            "Dominique Petit",
            "20261207-0400",
        )
        session.commit()
    client = time_skipping_env.client
    async with running_workers(client, store, task_queue, definitions, messaging):
        first = await client.execute_workflow(
            DirectoryDigestWorkflow.run, id="verification-digest-1", task_queue=task_queue
        )
        second = await client.execute_workflow(
            DirectoryDigestWorkflow.run, id="verification-digest-2", task_queue=task_queue
        )
    assert (first.changes, first.emails, second.changes, second.emails) == (1, 2, 0, 0)
    for address in (UD_NORD, STAFF):
        [mail] = mail_sandbox.sent_to(address)
        text = plain_text(mail)
        assert "CCAS de Roubaix" in text and "+33639980019" in text and "Dominique Petit" in text


async def test_the_quarterly_campaign_is_scheduled_and_paused_with_one_command(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = dev_env.client
    await directory_verification.schedule(client, task_queue, ["59"], [OrganisationKind.CCAS])
    state = await directory_verification.schedule_state(client)
    assert state is not None and state[0] is False and state[1] is not None
    assert state[1].astimezone(ZoneInfo("Europe/Paris")).month in {1, 4, 7, 10}
    await directory_verification.set_paused(client, True)
    assert (await directory_verification.schedule_state(client) or (None,))[0] is True
    await directory_verification.schedule(client, task_queue, ["59"], [], cron="0 9 1 * *")
    assert (await directory_verification.schedule_state(client) or (None,))[0] is True
    await directory_verification.set_paused(client, False)
    assert (await directory_verification.schedule_state(client) or (None,))[0] is False
    for schedule_id in (
        directory_verification.CAMPAIGN_SCHEDULE,
        directory_verification.DIGEST_SCHEDULE,
    ):
        await client.get_schedule_handle(schedule_id).delete()


def test_status_prints_each_department_least_fresh_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_nord(store)
    with store.session() as session:
        asked: dict[str, str | None] = {"ccas-59512": "59", "ccas-59350": "59", "ccas-62041": "62"}
        verification.ask(session, "c", asked, datetime.now(UTC))
        for organisation_id, contact_id in [
            ("ccas-62041", "arras-direction"),
            ("ccas-59350", "lille-direction"),
        ]:
            verification.confirm(
                session, "c", organisation_id, contact_id, via="web", now=datetime.now(UTC)
            )
        session.commit()
    monkeypatch.setenv("TOCSIN_DATABASE_URL", store.url)
    shown = CliRunner().invoke(directory_app, ["status"])
    assert shown.exit_code == 0, shown.output
    nord, pas_de_calais = shown.output.index(" 59 :"), shown.output.index(" 62 :")
    assert nord < pas_de_calais
    assert "1/3 à jour" in shown.output and "1/1 à jour" in shown.output
    assert "CCAS de Roubaix (ccas-59512) : jamais confirmée" in shown.output
    silent = shown.output[shown.output.index("sans réponse à la campagne c : 1 sur 2") :]
    assert silent.splitlines()[1].strip() == "CCAS de Roubaix (ccas-59512)"
    as_json = CliRunner().invoke(directory_app, ["status", "--json"])
    assert as_json.exit_code == 0, as_json.output
    table = {row["department"]: row for row in json.loads(as_json.stdout)}
    assert list(table) == ["59", "62"]
    assert (table["59"]["fresh"], table["59"]["organisations"]) == (1, 3)
    assert (table["62"]["fresh"], table["62"]["share"]) == (1, 1.0)
    assert "ccas-59512" in [stale["organisation_id"] for stale in table["59"]["stale"]]


async def test_staff_start_a_campaign_and_read_freshness_from_the_api_and_console(
    time_skipping_env: WorkflowEnvironment, store: Store, task_queue: str
) -> None:
    with_nord(store)
    client = time_skipping_env.client
    headers = api_headers(store)
    app = create_app(client, store, task_queue)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://gateway", headers=headers
    ) as api:
        unknown = await api.post("/api/directory/verifications", json={"departments": ["99"]})
        assert unknown.status_code == 422 and "département inconnu : 99" in unknown.text
        started = await api.post(
            "/api/directory/verifications", json={"departments": ["62"], "kinds": ["ccas"]}
        )
        assert started.status_code == 202
        workflow_id = started.json()["workflow_id"]
        fresh = await api.get("/api/directory/freshness", params={"department": "59"})
        assert fresh.status_code == 200
        [nord] = fresh.json()
        assert (nord["department"], nord["organisations"], nord["share"]) == ("59", 3, 0.0)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as browser:
        create_account(store, "permanence")
        await sign_in(browser, "permanence")
        page = await browser.get("/annuaire")
        assert page.status_code == 200
        assert "Fraîcheur de l'annuaire" in html.unescape(page.text)
        assert "CCAS de Roubaix (jamais confirmée)" in html.unescape(page.text)
    await client.get_workflow_handle(workflow_id).terminate("fin du test")


SVG = "{http://www.w3.org/2000/svg}"


async def test_the_console_map_colours_each_department_by_its_freshness(
    time_skipping_env: WorkflowEnvironment, store: Store, task_queue: str
) -> None:
    """Lille confirmed: the Nord has one organisation of three fresh; Arras
    confirmed: the Pas-de-Calais all; no other department has any."""
    with_nord(store)
    with store.session() as session:
        for organisation_id, contact_id in (
            ("ccas-59350", "lille-direction"),
            ("ccas-62041", "arras-direction"),
        ):
            verification.confirm(
                session, "c", organisation_id, contact_id, via="sms", now=datetime.now(UTC)
            )
        session.commit()
    create_account(store, "permanence")
    app = create_app(time_skipping_env.client, store, task_queue)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as browser:
        await sign_in(browser, "permanence")
        page = await browser.get("/annuaire")
    assert page.status_code == 200
    drawn = re.search(r"<svg .*?</svg>", page.text, re.DOTALL)
    assert drawn is not None
    svg = ElementTree.fromstring(drawn.group(0))
    assert svg.get("aria-label") == "Part des structures confirmées depuis moins de six mois"
    departments = {
        path.get("data-department"): path
        for path in svg.iter(f"{SVG}path")
        if path.get("class") == "department"
    }
    nord, pas_de_calais, gironde = departments["59"], departments["62"], departments["33"]
    assert (nord.get("data-band"), nord.get("fill")) == ("20", "#fdae61")
    assert nord.findtext(f"{SVG}title") == "Nord (59) : 1/3 à jour (33 %)"
    assert (pas_de_calais.get("data-band"), pas_de_calais.get("fill")) == ("80", "#2c7bb6")
    assert gironde.get("data-band") == "aucune"
    assert {"971", "972", "973", "974", "976", "2A", "2B"} <= set(departments)
    legend = {
        group.get("data-band"): ("".join(group.itertext()), group.get("data-count"))
        for group in svg.iter(f"{SVG}g")
    }
    assert legend["20"] == ("de 20 à 40 % : 1 département", "1")
    assert legend["80"] == ("80 % et plus : 1 département", "1")
    assert legend["0"] == ("moins de 20 % : 0 département", "0")
    others = len(load_territory().departments) - 2
    assert legend["aucune"] == (
        f"aucune structure dans l'annuaire : {others} départements",
        str(others),
    )


async def _paged_rows(browser: httpx.AsyncClient, url: str) -> list[str]:
    """The organisations of a paged directory list, following its "next" links."""
    shown: list[str] = []
    following: str | None = url
    while following is not None:
        page = await browser.get(following)
        assert page.status_code == 200, page.text
        rows = re.findall(r'<tr data-organisation="([^"]+)"', page.text)
        assert 0 < len(rows) <= ROWS_PER_PAGE
        shown += rows
        link = re.search(r'href="([^"]+)" rel="next">Page suivante', page.text)
        following = html.unescape(link.group(1)) if link else None
    return shown


async def test_every_stale_and_silent_organisation_of_a_department_is_reached(
    time_skipping_env: WorkflowEnvironment, store: Store, task_queue: str, demo: Directory
) -> None:
    """The directory page names a department's first few to verify and silent to the
    latest campaign; their own pages list every one, a hundred a page; a UD reads
    only its own department's."""
    nord = [o for o in demo.organisations if department_of(o) == "59"]
    kept = {organisation.id for organisation in nord}
    with store.session() as session:
        contacts = [contact for contact in demo.contacts if contact.organisation_id in kept]
        replace_directory(session, Directory(organisations=nord, contacts=contacts))
        verification.ask(session, "20261201-0900", dict.fromkeys(kept, "59"), datetime.now(UTC))
        session.commit()
    [row] = directory_verification.freshness(store, "59")
    assert row.campaign is not None and len(row.stale) > ROWS_PER_PAGE
    create_account(store, "permanence")
    create_account(store, "ud-62", Role.UD, department="62")
    app = create_app(time_skipping_env.client, store, task_queue)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as browser:
        await sign_in(browser, "permanence")
        summary = html.unescape((await browser.get("/annuaire")).text)
        assert f'<a href="/annuaire/departements/59">et {len(row.stale) - 5} autre(s)</a>' in (
            summary
        )
        stale = await _paged_rows(browser, "/annuaire/departements/59")
        assert stale == [organisation.organisation_id for organisation in row.stale]
        silent = await _paged_rows(browser, "/annuaire/departements/59/sans-reponse")
        assert sorted(silent) == sorted(kept)
        last = await browser.get("/annuaire/departements/59?page=99")
        pages = -(-len(row.stale) // ROWS_PER_PAGE)
        assert f"Page {pages} sur {pages} (" in html.unescape(last.text)
        assert (await browser.get("/annuaire/departements/62")).status_code == 404
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as elsewhere:
        await sign_in(elsewhere, "ud-62")
        assert (await elsewhere.get("/annuaire/departements/59")).status_code == 403


async def test_a_bounce_marks_the_contact_failing_and_the_next_briefing_lists_it(
    time_skipping_env: WorkflowEnvironment,
    store_with_network: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
    phone: Phone,
) -> None:
    store = store_with_network
    twilio_sandbox.faulty_numbers[LILLE_PHONE] = Fault.INVALID_NUMBER
    client = time_skipping_env.client
    async with running_workers(client, store, task_queue, definitions, messaging):
        campaign = await directory_verification.start(
            client, task_queue, ["59"], [OrganisationKind.CCAS]
        )
        await until_progress(campaign, lambda progress: progress.batches_sent == 1)
        await campaign.terminate("fin du test")
        [nord] = directory_verification.freshness(store, "59")
        [lille] = [stale for stale in nord.stale if stale.organisation_id == "ccas-59350"]
        assert lille.failing_since is not None

        declaration = EventDeclaration(
            type=EventType.ATTENTAT, communes=["59350"], title="Attaque à Lille"
        )
        handle = await start_event(client, task_queue, declaration, "attentat-20261207-lill")
        await until_status(handle, candidates_asked(1))
        [asked] = twilio_sandbox.sent_to(REPRESENTATIVE_PHONE)
        code = re.search(r"OUI (\d{4})", asked.body)
        assert code is not None
        await phone.reply(REPRESENTATIVE_PHONE, f"OUI {code.group(1)}")
        await until_status(handle, lambda status: status.representative is not None)
        for _ in range(200):
            briefing = [
                mail
                for mail in mail_sandbox.sent_to("unccas-representant-1@example.org")
                if "briefing" in str(mail["Subject"])
            ]
            if briefing:
                break
            await asyncio.sleep(0.05)
        await handle.terminate("fin du test")
    files = {part.get_filename(): part.get_content() for part in briefing[0].iter_attachments()}
    failing = files["contacts_en_echec.csv"]
    text = failing if isinstance(failing, str) else failing.decode("utf-8-sig")
    assert "CCAS de Lille;Camille Martin;+33639980001" in text


NORD_EVENT_COMMUNES = ["59350", "59512", "59599"]
TOURCOING_PHONE = "+33639980003"


def metropole_directory() -> Directory:
    """The network's directory with the CCAS of Roubaix and Tourcoing beside Lille's."""
    network = network_directory()
    organisations = [
        *network.organisations,
        Organisation(id="ccas-59512", kind="ccas", name="CCAS de Roubaix", insee_code="59512"),
        Organisation(id="ccas-59599", kind="ccas", name="CCAS de Tourcoing", insee_code="59599"),
    ]
    contacts = [
        *network.contacts,
        Contact(
            id="roubaix-direction",
            organisation_id="ccas-59512",
            name="Dominique Petit",
            role="director",
            phone=ROUBAIX_PHONE,
            email="direction-roubaix@example.org",
        ),
        Contact(
            id="tourcoing-direction",
            organisation_id="ccas-59599",
            name="Alex Bernard",
            role="director",
            phone=TOURCOING_PHONE,
            email="direction-tourcoing@example.org",
        ),
    ]
    return Directory(organisations=organisations, contacts=contacts)


def briefings(mail_sandbox: MailSandbox, title: str) -> list[EmailMessage]:
    return [
        mail
        for mail in mail_sandbox.sent_to("unccas-representant-1@example.org")
        if "briefing" in str(mail["Subject"]) and title in plain_text(mail)
    ]


def attachments(mail: EmailMessage) -> dict[str, str]:
    """Each attached file's text, read from its bytes (UTF-8 with BOM)."""
    files = {}
    for part in mail.iter_attachments():
        content = part.get_payload(decode=True)
        assert isinstance(content, bytes)
        files[str(part.get_filename())] = content.decode("utf-8-sig")
    return files


async def designate_and_mobilise(
    client: Client, task_queue: str, phone: Phone, event_id: str, title: str
) -> WorkflowHandle[Any, EventStatus]:
    """A flood on Lille, Roubaix and Tourcoing whose first representative accepts;
    given back once the Nord's centres are asked."""
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=NORD_EVENT_COMMUNES, title=title
    )
    handle = await start_event(client, task_queue, declaration, event_id)
    await until_status(handle, candidates_asked(1))
    assert "bien reçue" in await phone.reply(REPRESENTATIVE_PHONE, "oui")
    await until_status(handle, lambda status: bool(status.mobilised_departments))
    await until_department(
        client,
        event_id,
        "59",
        lambda department: (
            len(department.centres) == 3
            and all(centre.requested_at or centre.unreachable_at for centre in department.centres)
        ),
    )
    return handle


async def until_outcomes(store: Store, event_id: str, wanted: dict[str, OutboxStatus]) -> None:
    """Polls the event's outbox until each recipient's message has the wanted status."""
    for _ in range(200):
        with store.session() as session:
            found = {entry.recipient: entry.status for entry in outbox.entries(session, event_id)}
        if all(found.get(recipient) is status for recipient, status in wanted.items()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"outcomes never reached: {found}")


async def test_a_bounce_during_an_event_is_listed_in_the_next_events_briefing(
    time_skipping_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
    phone: Phone,
) -> None:
    """Lille's director's number no longer exists (undelivered, 30005), Roubaix's
    mail server refuses its director's address (550), Tourcoing's director had
    the phone off (30003): the next event's briefing lists the first two only,
    and a confirmation clears Lille's."""
    with store.session() as session:
        replace_directory(session, metropole_directory())
        session.commit()
    twilio_sandbox.faulty_numbers[LILLE_PHONE] = Fault.UNKNOWN_HANDSET
    twilio_sandbox.faulty_numbers[TOURCOING_PHONE] = Fault.UNDELIVERED
    mail_sandbox.refused.add("direction-roubaix@example.org")
    callback = phone.public_url + "/webhooks/twilio/status"
    tracked = dataclasses.replace(
        messaging, twilio=dataclasses.replace(messaging.twilio, status_callback=callback)
    )
    client = time_skipping_env.client
    async with running_workers(client, store, task_queue, definitions, tracked):
        first = await designate_and_mobilise(
            client, task_queue, phone, "inondation-20261207-nor1", "Crue de la Marque"
        )
        await until_outcomes(
            store,
            "inondation-20261207-nor1",
            {
                LILLE_PHONE: OutboxStatus.UNDELIVERED,
                TOURCOING_PHONE: OutboxStatus.UNDELIVERED,
                "direction-roubaix@example.org": OutboxStatus.FAILED,
            },
        )
        await stand_down(first)
        second = await designate_and_mobilise(
            client, task_queue, phone, "inondation-20261207-nor2", "Crue de la Lys"
        )
        await stand_down(second)

    [before] = briefings(mail_sandbox, "Crue de la Marque")
    assert "contacts_en_echec.csv" not in attachments(before)
    [after] = briefings(mail_sandbox, "Crue de la Lys")
    failing = attachments(after)["contacts_en_echec.csv"].splitlines()
    assert failing[0] == "organisme;nom;coordonnée en échec;échec constaté le"
    assert [line.rsplit(";", 1)[0] for line in failing[1:]] == [
        "CCAS de Lille;Camille Martin;+33639980001",
        "CCAS de Roubaix;Dominique Petit;direction-roubaix@example.org",
    ]

    with store.session() as session:
        verification.confirm(
            session, "", "ccas-59350", "ccas-59350-direction", via="web", now=datetime.now(UTC)
        )
        session.commit()
    [nord] = directory_verification.freshness(store, "59")
    failing_now = {stale.organisation_id for stale in nord.stale if stale.failing_since}
    assert failing_now == {"ccas-59512"}


def test_the_demo_directory_has_a_freshness_history(demo_store: Store) -> None:
    with demo_store.session() as session:
        written = seed_freshness(session)
        session.commit()
        assert seed_freshness(session) == 0
    table = directory_verification.freshness(demo_store)
    shares = [row.share for row in table]
    assert written > 1000 and len(table) > 90
    assert shares == sorted(shares) and shares[0] < 0.4 and shares[-1] > 0.7


async def test_metrics_expose_each_departments_freshness(store: Store) -> None:
    with_nord(store)
    with store.session() as session:
        verification.confirm(
            session, "c", "ccas-59350", "lille-direction", via="sms", now=datetime.now(UTC)
        )
        session.commit()
    address = f"127.0.0.1:{free_port()}"
    runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
    metrics = TocsinMetrics(runtime.metric_meter)
    async with refreshing_directory_freshness(store, metrics, every=0.05):
        samples = await scrape(address)
        for _ in range(100):
            if samples.total(DIRECTORY_FRESH_SHARE, department="59") > 0:
                break
            await asyncio.sleep(0.05)
            samples = await scrape(address)
    assert samples.total(DIRECTORY_FRESH_SHARE, department="59") == pytest.approx(1 / 3)
    assert samples.total(DIRECTORY_FRESH_SHARE, department="62") == 0.0


async def test_a_long_campaign_continues_as_new_and_still_reminds_and_reports(
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
) -> None:
    """A server that suggests continuing as new after 20 events: the campaign
    hands its state to new runs and goes through its reminder and report."""
    with_nord(store)
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(SCRIPTS / "temporal"),
        ui=False,
        port=server_port(),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=20",
        ],
    )
    fast = dataclasses.replace(messaging, sms_per_second=1000.0)
    try:
        async with running_workers(env.client, store, task_queue, definitions, fast):
            handle = await env.client.start_workflow(
                DirectoryVerificationWorkflow.run,
                VerificationStart(
                    campaign_id="longue",
                    departments=["59"],
                    kinds=[OrganisationKind.CCAS],
                    reminder_after=timedelta(seconds=1),
                    silent_after=timedelta(seconds=2),
                ),
                id="verification-longue",
                task_queue=task_queue,
            )
            done = await handle.result()
            described = await handle.describe()
    finally:
        await env.shutdown()
    assert described.run_id != handle.first_execution_run_id
    assert (done.organisations, done.batches_sent, done.reminders_sent, done.silent) == (
        2,
        1,
        1,
        2,
    )
    assert len(twilio_sandbox.sent_to(ROUBAIX_PHONE)) == 2
    [told] = mail_sandbox.sent_to(UD_NORD)
    assert "CCAS de Lille" in plain_text(told)
