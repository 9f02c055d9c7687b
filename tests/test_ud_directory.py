"""A departmental union sees its own centres' freshness and escalations and nothing
of another department's; staff start a campaign over several departments and kinds
from the console, whose directory page lists, per department, the organisations
that have not answered the latest campaign there."""

import html
import re
from datetime import UTC, datetime, timedelta

import httpx
from temporalio.testing import WorkflowEnvironment

from definitions.accounts import Role
from definitions.crisis_log import CrisisLogKind
from definitions.directory import OrganisationKind
from definitions.directory_verification import VerificationStart
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.mobilisation import SupportState
from definitions.temporal_names import designation_workflow_id, mobilisation_workflow_id
from gateway.app import create_app
from store import directory_verification as verification
from store.database import Store
from store.directory import replace_directory
from tests.conftest import (
    ARRAS,
    Phone,
    api_headers,
    candidates_asked,
    create_account,
    idle,
    network_and_arras,
    sign_in,
    stand_down,
    start_event,
    until_department,
    until_status,
)
from tests.test_directory_verification import with_nord
from worker.temporal_workers import Messaging, running_workers

EARLIER = datetime(2026, 12, 1, 9, tzinfo=UTC)
LATER = datetime(2026, 12, 7, 9, tzinfo=UTC)


def _two_campaigns(store: Store) -> None:
    """The first campaign asked the Nord and the Pas-de-Calais: Lille answered it,
    the Nord's UD confirmed later through another link, Roubaix stayed silent. A
    second asked only Arras, which answered."""
    with store.session() as session:
        nord = {"ccas-59350": "59", "ccas-59512": "59", "ud-59": "59"}
        verification.ask(session, "20261201-0900", {**nord, "ccas-62041": "62"}, EARLIER)
        verification.mark_reminded(session, "20261201-0900", ["ccas-59512"], EARLIER)
        verification.confirm(
            session, "20261201-0900", "ccas-59350", "lille-direction", via="sms", now=EARLIER
        )
        verification.confirm(
            session, "", "ud-59", "ud-59-presidence", via="web", now=EARLIER + timedelta(days=2)
        )
        verification.ask(session, "20261207-0900", {"ccas-62041": "62"}, LATER)
        verification.confirm(
            session, "20261207-0900", "ccas-62041", "arras-direction", via="web", now=LATER
        )
        session.commit()


async def test_a_nord_ud_reads_the_nord_s_freshness_and_not_the_pas_de_calais(
    dev_env: WorkflowEnvironment, store: Store, task_queue: str
) -> None:
    with_nord(store)
    _two_campaigns(store)
    nord = api_headers(store, Role.UD, login="ud-nord", department="59")
    staff = api_headers(store, Role.STAFF, login="astreinte")
    transport = httpx.ASGITransport(app=create_app(dev_env.client, store, task_queue))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway:
        own = await gateway.get("/api/directory/freshness", headers=nord)
        assert own.status_code == 200
        [row] = own.json()
        assert (row["department"], row["organisations"], row["fresh"]) == ("59", 3, 2)
        assert [stale["name"] for stale in row["stale"]] == ["CCAS de Roubaix"]
        assert row["campaign"]["campaign_id"] == "20261201-0900"
        assert row["campaign"]["asked"] == 3
        assert [o["organisation_id"] for o in row["campaign"]["unanswered"]] == ["ccas-59512"]
        named = await gateway.get("/api/directory/freshness?department=59", headers=nord)
        assert named.json() == own.json()
        other = await gateway.get("/api/directory/freshness?department=62", headers=nord)
        assert other.status_code == 403
        assert other.json()["detail"] == "ce département n'est pas le vôtre"
        started = await gateway.post(
            "/api/directory/verifications", json={"departments": ["59"]}, headers=nord
        )
        assert started.status_code == 403, "campaigns stay with UNCCAS's staff"

        everything = (await gateway.get("/api/directory/freshness", headers=staff)).json()
        by_department = {row["department"]: row for row in everything}
        assert set(by_department) == {"59", "62"}
        arras = by_department["62"]["campaign"]
        assert (arras["campaign_id"], arras["asked"], arras["unanswered"]) == (
            "20261207-0900",
            1,
            [],
        )

        create_account(store, "ud-nord-console", Role.UD, department="59")
        csrf_token = await sign_in(gateway, "ud-nord-console")
        page = await gateway.get("/annuaire")
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert "Fraîcheur de l'annuaire : département 59" in text
        assert "CCAS de Roubaix" in text and "CCAS d'Arras" not in text
        assert re.findall(r'<tr data-department="([0-9AB]+)">', page.text) == ["59"]
        assert "1 sur 3 (campagne 20261201-0900) : CCAS de Roubaix (relancée)" in text
        assert 'action="/annuaire/verification"' not in page.text
        assert "hors de votre département" in text and "aucune structure" not in text
        assert '<a href="/annuaire">Annuaire</a>' in page.text
        refused = await gateway.post(
            "/annuaire/verification", data={"csrf_token": csrf_token, "departments": "59"}
        )
        assert refused.status_code == 403


async def test_staff_start_a_campaign_over_departments_and_kinds_from_the_console(
    dev_env: WorkflowEnvironment, store: Store, task_queue: str
) -> None:
    """On the real server: a campaign started with no worker and then terminated
    would hold back the time-skipping server's clock for the tests after it."""
    with_nord(store)
    _two_campaigns(store)
    client = dev_env.client
    create_account(store, "permanence")
    transport = httpx.ASGITransport(app=create_app(client, store, task_queue))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as browser:
        csrf_token = await sign_in(browser, "permanence")
        page = await browser.get("/annuaire")
        text = html.unescape(page.text)
        for kind in ("ccas", "cias", "ud", "prefecture"):
            assert f'name="kinds" value="{kind}"' in page.text
        rows = dict(re.findall(r'<tr data-department="([0-9AB]+)">(.*?)</tr>', text, re.DOTALL))
        assert "1 sur 3 (campagne 20261201-0900) : CCAS de Roubaix (relancée)" in rows["59"]
        assert "0 sur 1 (campagne 20261207-0900)" in rows["62"]

        form = {"csrf_token": csrf_token}
        refusals = [
            await browser.post("/annuaire/verification", data={**form, "departments": "59 99"}),
            await browser.post("/annuaire/verification", data={**form, "kinds": ["unccas"]}),
            await browser.post("/annuaire/verification", data={**form, "kinds": ["mairie"]}),
        ]
        assert [refused.status_code for refused in refusals] == [422] * 3
        reasons = [html.unescape(refused.text) for refused in refusals]
        assert "département inconnu : 99" in reasons[0]
        assert "type non vérifié : unccas" in reasons[1]
        assert "type inconnu : mairie" in reasons[2]

        started = await browser.post(
            "/annuaire/verification",
            data={**form, "departments": "62, 59", "kinds": ["ccas", "ud"]},
        )
    assert started.status_code == 200
    found = re.search(r"Campagne de vérification lancée : (verification-[0-9-]+)\.", started.text)
    assert found is not None
    handle = client.get_workflow_handle(found.group(1))
    history = await handle.fetch_history()
    attributes = history.events[0].workflow_execution_started_event_attributes
    [campaign] = await client.data_converter.decode(attributes.input.payloads, [VerificationStart])
    assert isinstance(campaign, VerificationStart)
    assert campaign.departments == ["59", "62"]
    assert campaign.kinds == [OrganisationKind.CCAS, OrganisationKind.UD]
    assert campaign.started_by == "api"
    await handle.terminate("fin du test")


async def test_a_nord_ud_sees_its_escalated_centre_and_not_the_pas_de_calais(
    time_skipping_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
) -> None:
    """Lille and Arras both stay silent past the reminder and the escalation: the
    Nord's UD reads Lille escalated through the API, the crisis log and the
    console's page, and nothing of Arras."""
    client = time_skipping_env.client
    with store.session() as session:
        replace_directory(session, network_and_arras())
        session.commit()
    nord = api_headers(store, Role.UD, login="ud-nord", department="59")
    event_id = "inondation-20261207-marq"
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=["59350", "62041"], title="Crue", exercise=True
    )
    mobilisation = definitions.protocols[EventType.INONDATION].mobilisation
    transport = httpx.ASGITransport(app=create_app(client, store, task_queue))
    async with (
        running_workers(client, store, task_queue, definitions, messaging),
        httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway,
    ):
        handle = await start_event(client, task_queue, declaration, event_id)
        await until_status(handle, candidates_asked(1))
        await phone.reply("+33639980101", "oui")
        await until_status(handle, lambda s: s.mobilised_departments == ["59", "62"])
        workflows = [
            event_id,
            designation_workflow_id(event_id, 1),
            *(mobilisation_workflow_id(event_id, code) for code in ("59", "62")),
        ]
        for code in ("59", "62"):
            await until_department(client, event_id, code, lambda s: s.counts.requested == 1)
        await idle(time_skipping_env, *workflows)
        await time_skipping_env.sleep(mobilisation.reminder_after)
        for code in ("59", "62"):
            await until_department(
                client, event_id, code, lambda s: s.centres[0].reminded_at is not None
            )
        await idle(time_skipping_env, *workflows)
        await time_skipping_env.sleep(mobilisation.escalation_after)
        for code in ("59", "62"):
            await until_department(
                client, event_id, code, lambda s: s.centres[0].escalated_at is not None
            )

        api = f"/api/events/{event_id}"
        [department] = (await gateway.get(f"{api}/mobilisation", headers=nord)).json()
        [lille] = department["centres"]
        assert (department["department_code"], lille["organisation_id"]) == ("59", "ccas-59350")
        assert lille["escalated_at"] is not None
        counts = (await gateway.get(f"{api}/mobilisation/counts", headers=nord)).json()
        assert (counts["total"]["centres"], counts["total"]["unanswered"]) == (1, 1)
        arras = await gateway.get(f"{api}/mobilisation/62/centres/{ARRAS}", headers=nord)
        assert arras.status_code == 403
        log = (await gateway.get(f"{api}/crisis-log", headers=nord)).json()
        escalations = [
            line["text"] for line in log if line["kind"] == CrisisLogKind.SUPPORT_ESCALATED
        ]
        assert len(escalations) == 1 and "CCAS de Lille" in escalations[0]
        assert not [line for line in log if "CCAS d'Arras" in line["text"]]

        create_account(store, "ud-nord-console", Role.UD, department="59")
        await sign_in(gateway, "ud-nord-console")
        page = html.unescape((await gateway.get(f"/evenements/{event_id}")).text)
        centres = dict(
            re.findall(r'<tr data-organisation="([^"]+)">.*?class="state-(\w+)"', page, re.DOTALL)
        )
        assert centres == {"ccas-59350": SupportState.UNANSWERED.value}
        assert SupportState.UNANSWERED.label in page
        await stand_down(handle)
