"""The console's forms under bad input: a declaration that names wrong places is
shown again with suggestions and starts nothing; the confirmation starts nothing
either; the place search finds names, codes and postal codes; the phone simulator
exists only beside the local SMS sandbox."""

import html
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from definitions.accounts import AccountRequest, Role
from gateway.app import create_app
from store import accounts
from store.database import Store
from tests.conftest import TWILIO_AUTH_TOKEN

PASSWORD = "mot de passe de la permanence"


def _create_staff(store: Store) -> None:
    request = AccountRequest(
        login="permanence", name="Permanence", role=Role.STAFF, password=PASSWORD
    )
    with store.session() as session:
        accounts.create_account(session, request, datetime.now(UTC))
        session.commit()


async def _sign_in(client: httpx.AsyncClient) -> str:
    """The session's CSRF token."""
    await client.post("/connexion", data={"login": "permanence", "password": PASSWORD})
    return str((await client.get("/api/me")).json()["csrf_token"])


@pytest_asyncio.fixture(loop_scope="session")
async def console(
    dev_env: WorkflowEnvironment, store_with_network: Store, task_queue: str
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A signed-in browser (no worker: nothing here may start an event's work)."""
    app = create_app(dev_env.client, store_with_network, task_queue)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        _create_staff(store_with_network)
        yield client, await _sign_in(client)


async def _workflows(env: WorkflowEnvironment, task_queue: str) -> int:
    return (await env.client.count_workflows(f"TaskQueue = '{task_queue}'")).count


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
    assert await _workflows(dev_env, task_queue) == 0


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
    assert await _workflows(dev_env, task_queue) == 0

    declared = await client.post("/declarer/confirmer", data=form)
    assert declared.status_code == 303
    assert declared.headers["location"].startswith("/evenements/attentat-")
    assert await _workflows(dev_env, task_queue) == 1
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
    _create_staff(store_with_network)
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
            await _sign_in(client)
            assert (await client.get("/telephones")).status_code == expected
            page = await client.get("/")
            assert ("/telephones" in page.text) is (expected == 200)
