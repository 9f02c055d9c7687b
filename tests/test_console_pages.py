"""The console's forms under bad input: a declaration that names wrong places is
shown again with suggestions and starts nothing; the confirmation starts nothing
either; the place search finds names, codes and postal codes; the phone simulator
exists only beside the local SMS sandbox; every page names the site's icon, which is
served; the whole crisis log is read page by page."""

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from definitions.crisis_log import CrisisLogEntry, CrisisLogKind
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from gateway import answer_pages
from gateway.app import create_app
from store import events
from store.database import Store
from tests.conftest import (
    TWILIO_AUTH_TOKEN,
    create_account,
    record_event,
    sign_in,
    workflow_count,
)


@pytest_asyncio.fixture(loop_scope="session")
async def console(
    dev_env: WorkflowEnvironment, store_with_network: Store, task_queue: str
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A signed-in browser (no worker: nothing here may start an event's work)."""
    app = create_app(dev_env.client, store_with_network, task_queue)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        create_account(store_with_network, "permanence")
        yield client, await sign_in(client, "permanence")


async def test_wrong_places_are_shown_again_with_suggestions(
    console: tuple[httpx.AsyncClient, str], dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client, csrf_token = console
    form = {
        "csrf_token": csrf_token,
        "mode": "exercice",
        "type": "inondation",
        "title": "Crue",
        "places": "59000 Lille 999",
    }
    refused = await client.post("/declarer", data=form)
    assert refused.status_code == 422
    page = html.unescape(refused.text)
    assert "59000 : c'est un code postal, pas un code INSEE ; code(s) INSEE : Lille (59350" in page
    assert "commune « Lille » : indiquez le code INSEE" in page
    assert "département 999 inconnu" in page
    assert 'value="Crue"' in page, "what was typed is kept"
    nothing = await client.post("/declarer", data={**form, "places": " , ; "})
    assert nothing.status_code == 422 and "au moins une commune" in nothing.text
    unknown_type = await client.post("/declarer", data={**form, "type": "meteorite"})
    assert unknown_type.status_code == 422 and "valeur inconnue" in unknown_type.text
    assert await workflow_count(dev_env, task_queue) == 0


async def test_the_confirmation_shows_the_territory_and_starts_nothing(
    console: tuple[httpx.AsyncClient, str], dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client, csrf_token = console
    form = {
        "csrf_token": csrf_token,
        "mode": "reel",
        "type": "attentat",
        "title": "Attaque",
        "places": "59350 59009",
    }
    confirmation = await client.post("/declarer", data=form)
    assert confirmation.status_code == 200
    assert "ÉVÉNEMENT RÉEL" in confirmation.text
    assert "Nord (59)" in confirmation.text
    assert "Lille (59350), Villeneuve-d'Ascq (59009)" in html.unescape(confirmation.text)
    assert "<strong>1</strong> CCAS" in confirmation.text
    assert "1 commune(s) sans CCAS ni CIAS" in confirmation.text
    assert await workflow_count(dev_env, task_queue) == 0

    declared = await client.post("/declarer/confirmer", data=form)
    assert declared.status_code == 303
    assert declared.headers["location"].startswith("/evenements/attentat-")
    assert await workflow_count(dev_env, task_queue) == 1
    event_id = declared.headers["location"].rsplit("/", 1)[1]
    await dev_env.client.get_workflow_handle(event_id).terminate("test : aucun worker")


async def test_places_are_found_by_name_code_and_postal_code(
    console: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = console
    by_name = await client.get("/territoire", params={"q": "villeneuve d'a"})
    assert 'data-code="59009"' in by_name.text
    by_postal_code = await client.get("/territoire", params={"q": "59000"})
    assert 'data-code="59350"' in by_postal_code.text
    department = await client.get("/territoire", params={"q": "Finistère"})
    assert "Finistère — département 29" in department.text
    nowhere = await client.get("/territoire", params={"q": "zzzz"})
    assert "Aucun lieu trouvé" in nowhere.text
    too_long = await client.get("/territoire", params={"q": "x" * 500})
    assert too_long.status_code == 422


async def test_the_phone_simulator_lives_only_beside_the_sandbox(
    dev_env: WorkflowEnvironment, store_with_network: Store
) -> None:
    create_account(store_with_network, "permanence")
    for sender, expected in ((None, 404), ("UNCCAS", 200)):
        app = create_app(
            dev_env.client,
            store_with_network,
            "unused",
            twilio_auth_token=TWILIO_AUTH_TOKEN,
            public_url="http://gateway",
            phone_simulator_sender=sender,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            await sign_in(client, "permanence")
            assert (await client.get("/telephones")).status_code == expected
            page = await client.get("/")
            assert ("/telephones" in page.text) is (expected == 200)


async def test_every_page_names_the_icon_that_is_served(
    console: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = console
    refusal = answer_pages.page("Lien invalide", "<p>Ce lien n'est pas valide.</p>")
    link_page = bytes(refusal.body).decode()
    shown = {path: (await client.get(path)).text for path in ("/", "/declarer", "/guide")}
    for path, text in {**shown, "/r/…": link_page}.items():
        assert '<link rel="icon" href="/favicon.ico">' in text, path
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content.startswith(b"\x00\x00\x01\x00"), "an ICO file"


async def test_the_whole_crisis_log_is_read_page_by_page(
    console: tuple[httpx.AsyncClient, str], store_with_network: Store
) -> None:
    """The event's page shows the last lines; the crisis log's own page reaches every
    line, oldest first, two hundred a page, with links to the next and previous."""
    client, _ = console
    event_id = "inondation-20261207-pages"
    declared_at = datetime(2026, 12, 7, 8, tzinfo=UTC)
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=["59350"], title="Crue de la Deûle", exercise=True
    )
    record_event(store_with_network, event_id, declaration, declared_at)
    lines = [
        CrisisLogEntry(
            entry_key=f"{event_id}/line-{number}",
            event_id=event_id,
            at=declared_at + timedelta(minutes=number),
            actor="astreinte",
            kind=CrisisLogKind.SITUATION_REPORT,
            text=f"Point n° {number}",
        )
        for number in range(1, 450)
    ]
    with store_with_network.session() as session:
        events.append_entries(session, lines)
        session.commit()
    texts: list[str] = []
    url: str | None = f"/evenements/{event_id}/main-courante"
    while url is not None:
        page = await client.get(url)
        assert page.status_code == 200, page.text
        shown = html.unescape(page.text)
        texts += re.findall(r"— (Événement déclaré\.|Point n° \d+)</li>", shown)
        following = re.search(r'href="([^"]+)" rel="next">Page suivante »', shown)
        url = following.group(1) if following else None
    assert texts == ["Événement déclaré.", *(line.text for line in lines)]
    assert "Page 3 sur 3 (401 à 450 sur 450)" in shown
    assert f'href="/evenements/{event_id}/main-courante?page=2" rel="prev"' in shown
    beyond = html.unescape((await client.get(f"/evenements/{event_id}/main-courante?page=9")).text)
    assert "Page 3 sur 3" in beyond and "Point n° 449" in beyond
