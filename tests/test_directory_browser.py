"""The directory's self-service page in a real browser on a phone-sized screen, as
a director opens it from a campaign's email: fits the screen, passes axe-core,
and a correction typed into it reaches the directory."""

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect
from temporalio.testing import WorkflowEnvironment

from activities.directory_verification import self_service_url
from gateway.app import create_app
from store import directory, directory_verification
from store.database import Store
from tests.conftest import ACCOUNT_PASSWORD, LINK_SECRET, TWILIO_AUTH_TOKEN, create_account
from tests.test_directory_verification import with_nord
from worker.asgi_server import AsgiServer
from worker.ports import free_port

ARTEFACTS = Path(__file__).parent.parent / "test-artefacts" / "console"
CHROMIUM = shutil.which("chromium")
PHONE_SCREEN = ViewportSize(width=390, height=844)
AXE = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


@pytest_asyncio.fixture(loop_scope="session")
async def phone_browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("Chromium manquant : `make test` installe le paquet Debian chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        yield launched
        await launched.close()


async def test_a_director_corrects_the_line_on_a_phone(
    time_skipping_env: WorkflowEnvironment, store: Store, phone_browser: Browser
) -> None:
    with_nord(store)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(
        time_skipping_env.client,
        store,
        "unused",
        twilio_auth_token=TWILIO_AUTH_TOKEN,
        public_url=url,
        link_secret=LINK_SECRET,
    )
    server = AsgiServer(app, "127.0.0.1", port)
    serving = await server.start()
    link = self_service_url(
        LINK_SECRET, url, "ccas-59512", "20261207-0400", datetime.now(UTC) + timedelta(days=30)
    )
    context = await phone_browser.new_context(viewport=PHONE_SCREEN)
    try:
        page = await context.new_page()
        await page.goto(link)
        await expect(page.get_by_role("heading", name="Annuaire de crise")).to_be_visible()
        fits = await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, "la page déborde de l'écran du téléphone"
        await _audit(page, "annuaire-telephone")

        await page.get_by_label("Téléphone mobile").nth(1).fill("06 39 98 00 29")
        await page.get_by_label("Nom").nth(1).fill("Lou Garnier")
        await page.get_by_label("Votre nom").fill("Dominique Petit")
        await page.get_by_role("button", name="Enregistrer mes corrections").click()
        await expect(page.get_by_role("heading", name="Merci")).to_be_visible()
    finally:
        await context.close()
        server.stop()
        await serving
    with store.session() as session:
        deputy = [c for c in directory.contacts_of(session, ["ccas-59512"]) if c.role == "deputy"]
        trail = directory_verification.changes_of(session, "ccas-59512")
    assert [(d.name, d.phone) for d in deputy] == [("Lou Garnier", "+33639980029")]
    assert {change.changed_by for change in trail} == {"Dominique Petit"}


async def test_staff_see_the_freshness_table_and_start_a_campaign_on_a_phone(
    time_skipping_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    phone_browser: Browser,
) -> None:
    with_nord(store)
    create_account(store, "permanence")
    port = free_port()
    app = create_app(time_skipping_env.client, store, task_queue)
    server = AsgiServer(app, "127.0.0.1", port)
    serving = await server.start()
    context = await phone_browser.new_context(viewport=PHONE_SCREEN)
    try:
        page = await context.new_page()
        await page.goto(f"http://127.0.0.1:{port}/connexion")
        await page.get_by_label("Identifiant").fill("permanence")
        await page.get_by_label("Mot de passe").fill(ACCOUNT_PASSWORD)
        await page.get_by_role("button", name="Se connecter").click()
        await page.get_by_role("link", name="Annuaire").click()
        await expect(page.get_by_role("heading", name="Fraîcheur de l'annuaire")).to_be_visible()
        await expect(page.get_by_role("cell", name="CCAS de Roubaix", exact=False)).to_be_visible()
        await _audit(page, "annuaire-fraicheur")
        await page.goto(f"http://127.0.0.1:{port}/annuaire/departements/59")
        await expect(page.get_by_text("CCAS de Roubaix")).to_be_visible()
        await _audit(page, "annuaire-departement")
        await page.goto(f"http://127.0.0.1:{port}/annuaire/departements/59/sans-reponse")
        await _audit(page, "annuaire-sans-reponse")
        await page.goto(f"http://127.0.0.1:{port}/annuaire")
        await page.get_by_label("Départements, codes séparés par des espaces").fill("59 62")
        await page.get_by_label("CCAS", exact=True).check()
        await page.get_by_role("button", name="Lancer une campagne de vérification").click()
        await expect(page.get_by_role("status")).to_contain_text("Campagne de vérification lancée")
        started = (await page.get_by_role("status").inner_text()).split(" : ")[-1].rstrip(".")
    finally:
        await context.close()
        server.stop()
        await serving
    await time_skipping_env.client.get_workflow_handle(started).terminate("fin du test")


async def _audit(page: Page, name: str) -> None:
    """A screenshot, and no serious or critical axe-core violation."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
    await page.evaluate(AXE)
    found = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    grave = [v["id"] for v in found["violations"] if v["impact"] in {"serious", "critical"}]
    assert not grave, grave
