"""The console in a real headless Chromium (Debian's, driven by Playwright): sign
in, declare a drill on two communes, accept the designation from the phone
simulator, watch the CCAS status change live, close the event; axe-core audits
every page on the way, those a link opens (answer, questionnaire) and those open
to all (fiches, guide, phone simulator). Screenshots of the main pages are kept in
``test-artefacts/console/``."""

import asyncio
import csv
import io
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

import pypdfium2
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect
from temporalio.testing import WorkflowEnvironment

from definitions.loader import Definitions
from definitions.mobilisation import SupportState
from definitions.territory import load_territory
from gateway.app import create_app
from store.database import Store
from tests.conftest import (
    ACCOUNT_PASSWORD,
    LINK_SECRET,
    TWILIO_AUTH_TOKEN,
    create_account,
    plain_text,
)
from worker.asgi_server import AsgiServer
from worker.ports import free_port
from worker.sandbox.smtp_server import MailSandbox
from worker.temporal_workers import Messaging, running_workers

pytestmark = pytest.mark.heavy
ARTEFACTS = Path(__file__).parent.parent / "test-artefacts" / "console"
CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPRESENTATIVE_PHONE = "+33639980101"
LILLE_DIRECTOR_PHONE = "+33639980001"
LIVE = 60_000
"""Milliseconds a live part has to show a change: it refreshes every 3 s, but a
national drill's first counts wait for a hundred departments' workflows, which on
a loaded CI machine took over 20 s. Each wait ends as soon as the change shows."""
AXE = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
"""axe-core as the axe-playwright-python package ships it (no network)."""
ANSWER_LINK = re.compile(r"https?://\S+/r/[\w.\-]+")
QUESTIONNAIRE_LINK = re.compile(r"https?://\S+/q/[\w.\-]+")


@pytest_asyncio.fixture(loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("Chromium manquant : `make test` installe le paquet Debian chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def console_url(
    dev_env: WorkflowEnvironment,
    store_with_network: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
) -> AsyncIterator[str]:
    """The gateway on a loopback port with workers behind it, as ``tocsin dev`` runs it,
    and stopped before them, as ``tocsin dev`` stops it: a console read still going
    would otherwise query workflows no worker answers, until the server gives up."""
    create_account(store_with_network, "permanence")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(
        dev_env.client,
        store_with_network,
        task_queue,
        twilio_auth_token=TWILIO_AUTH_TOKEN,
        public_url=url,
        link_secret=LINK_SECRET,
        phone_simulator_sender="+33639989999",
    )
    server = AsgiServer(app, "127.0.0.1", port)
    async with running_workers(
        dev_env.client, store_with_network, task_queue, definitions, messaging
    ):
        serving = await server.start()
        yield url
        server.stop()
        await serving


async def _shoot(page: Page, name: str) -> None:
    """A screenshot of the page as a person sees it, and axe-core's audit of it:
    no serious or critical violation."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
    await page.evaluate(AXE)
    found = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    grave = [
        f"{violation['id']} ({violation['impact']}): "
        + "; ".join(node["html"][:120] for node in violation["nodes"][:3])
        for violation in found["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    assert not grave, f"{name}: " + "\n".join(grave)


def _links(mail: MailSandbox, link: re.Pattern[str]) -> list[str]:
    """The paths of the links of a kind mailed so far, oldest first."""
    urls: list[str] = [
        url for message in mail.received for url in link.findall(plain_text(message))
    ]
    return [urlsplit(url).path for url in urls]


async def _emailed_link(mail: MailSandbox, link: re.Pattern[str], known: list[str]) -> str:
    """The path of the first link of its kind mailed after ``known`` ones."""
    for _ in range(LIVE // 100):
        if new := [path for path in _links(mail, link) if path not in known]:
            return new[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no mail with a link like {link.pattern}")


async def _whole_crisis_log(page: Page, event_url: str) -> None:
    """The event's whole crisis log, on its own pages, from the first line."""
    await page.goto(f"{event_url}/main-courante")
    await expect(page.locator("main")).to_contain_text("CCAS de Lille")
    await _shoot(page, "06-main-courante")


async def _pages_beyond_the_console(
    page: Page, base: str, mail: MailSandbox, event_url: str
) -> None:
    """The event's whole crisis log, the fiches pratiques, one of them, the guide of
    good practice, the phone simulator's list; then a second drill: the page its
    support request's email links to, and, once closed with its review, the
    questionnaire. All pass axe."""
    await _whole_crisis_log(page, event_url)
    await page.goto(f"{base}/fiches")
    await _shoot(page, "08-fiches")
    await page.locator('main a[href^="/fiches/"]').first.click()
    await expect(page).to_have_url(re.compile(r"/fiches/[\w-]+$"))
    await _shoot(page, "09-fiche")
    await page.goto(f"{base}/guide")
    await _shoot(page, "10-guide")
    await page.goto(f"{base}/telephones")
    await _shoot(page, "11-telephones")

    answer_links, questionnaires = _links(mail, ANSWER_LINK), _links(mail, QUESTIONNAIRE_LINK)
    await page.goto(f"{base}/declarer")
    await page.get_by_label("Exercice").check()
    await page.select_option("#type", "inondation")
    await page.fill("#title", "Exercice retour d'expérience")
    await page.fill("#places", "59350")
    await page.get_by_role("button", name="Vérifier le territoire").click()
    await page.get_by_role("button", name="Confirmer et déclencher").click()
    await expect(page.locator("h1")).to_contain_text("Exercice retour d'expérience")
    phone = await page.context.new_page()
    await _answer_sms(phone, base, REPRESENTATIVE_PHONE, "OUI", earlier=1)
    await phone.goto(base + await _emailed_link(mail, ANSWER_LINK, answer_links))
    await _shoot(phone, "12-reponse-par-lien")
    await phone.get_by_role("button", name="Notre centre est mobilisé").click()
    await expect(phone.get_by_role("heading", name="Merci, réponse enregistrée")).to_be_visible()
    await _shoot(phone, "13-reponse-enregistree")
    lille = page.locator('#centres tr[data-organisation="ccas-59350"]')
    await expect(lille).to_contain_text("mobilisé", timeout=LIVE)
    await page.get_by_role("button", name="Clore").click()
    await expect(page.locator(".notice")).to_have_text("Clôture enregistrée.")
    await page.goto(base + await _emailed_link(mail, QUESTIONNAIRE_LINK, questionnaires))
    await expect(page.get_by_role("heading", name="Retour d'expérience")).to_be_visible()
    await _shoot(page, "14-questionnaire")


async def _pick_place(page: Page, query: str, suggestion: str) -> None:
    await page.fill("#search", query)
    await page.get_by_role("button", name=re.compile(re.escape(suggestion))).click()


async def _answer_sms(page: Page, base: str, phone: str, keyword: str, earlier: int = 0) -> None:
    """Open the phone in the simulator, wait for its SMS asking for ``keyword`` (after
    ``earlier`` such ones, of events before), answer."""
    await page.goto(f"{base}/telephones/{phone}")
    asked = page.locator("#thread .sms.in", has_text=f"{keyword} ")
    await expect(asked.nth(earlier)).to_be_visible(timeout=LIVE)
    text = await asked.last.inner_text()
    code = re.search(rf"{keyword} (\d{{4}})", text)
    assert code is not None, text
    await page.fill("#text", f"{keyword} {code.group(1)}")
    await page.get_by_role("button", name="Envoyer").click()
    await expect(page.locator("#answers")).to_be_visible()


async def _sign_in(page: Page, base: str) -> None:
    await page.goto(base)
    await expect(page).to_have_url(re.compile("/connexion"))
    await page.fill("#login", "permanence")
    await page.fill("#password", ACCOUNT_PASSWORD)
    await _shoot(page, "01-connexion")
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.get_by_role("heading", name="Événements")).to_be_visible()


async def _map_legend(page: Page, event_url: str) -> dict[str, int]:
    """The map as the page shows it (loaded), and its legend's counts."""
    drawn = page.locator(".map img")
    await expect(drawn).to_have_js_property("complete", True, timeout=LIVE)
    assert await drawn.evaluate("image => image.naturalWidth") > 0, "the map is drawn"
    answer = await page.request.get(event_url + "/carte.svg")
    root = ET.fromstring(await answer.text())
    return {
        group.attrib["data-state"]: int(group.attrib["data-count"])
        for group in root.iter("{http://www.w3.org/2000/svg}g")
        if group.attrib.get("class") == "legend"
    }


async def _legend_is_the_table(page: Page, event_url: str) -> None:
    """Each state's count in the map's legend is the number of centres the table
    shows in it, and the communes without a centre are those the counts give."""
    legend = await _map_legend(page, event_url)
    for state in SupportState:
        rows = await page.locator(f"#centres td.state-{state.value}").count()
        assert legend[state.value] == rows, (state, legend)
    uncovered = await page.locator("#counts li", has_text="sans CCAS ni CIAS").inner_text()
    assert legend["uncovered"] == int(uncovered.split()[0]), legend


async def _export_holds_every_line(page: Page, event_url: str) -> None:
    """The crisis log exported from the page (CSV) and as a PDF has every line the
    API lists, in order."""
    base, _, event_id = event_url.partition("/evenements/")
    listed = await (await page.request.get(f"{base}/api/events/{event_id}/crisis-log")).json()
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="CSV").click()
    saved = await (await download_info.value).path()
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig")), delimiter=";"))[1:]
    assert len(listed) > 100 and len(rows) == len(listed)
    assert [row[3] for row in rows] == [entry["text"] for entry in listed]
    pdf = await page.request.get(f"{base}/api/events/{event_id}/crisis-log.pdf")
    document = pypdfium2.PdfDocument(await pdf.body())
    text = " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in document)
    assert f"{len(listed)} entrée(s), dans l'ordre." in text
    for entry in listed:
        assert " ".join(entry["text"].split()) in text


async def _pause_and_resume(page: Page) -> None:
    """The page's refresh can be stopped and started again (WCAG 2.2.2)."""
    pause = page.get_by_role("button", name="Suspendre l'actualisation")
    await pause.click()
    resume = page.get_by_role("button", name="Reprendre l'actualisation")
    await expect(resume).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#live-state")).to_contain_text("suspendue")
    await resume.click()
    await expect(pause).to_have_attribute("aria-pressed", "false")


async def test_a_drill_from_declaration_to_closure(
    browser: Browser, console_url: str, mail_sandbox: MailSandbox
) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = await context.new_page()
        await _sign_in(page, console_url)

        await page.get_by_role("link", name="Déclarer").click()
        await page.get_by_label("Exercice").check()
        await page.select_option("#type", "inondation")
        await page.fill("#title", "Exercice crue de la Deûle")
        await _pick_place(page, "Lille", "Lille (59350)")
        await _pick_place(page, "Villeneuve-d'A", "Villeneuve-d'Ascq (59009)")
        await expect(page.locator("#places")).to_have_value("59350 59009")
        await _shoot(page, "02-declaration")
        await page.get_by_role("button", name="Vérifier le territoire").click()
        territory = page.locator("#territory")
        await expect(territory).to_contain_text("Nord (59)")
        await expect(territory).to_contain_text("1 commune(s) sans CCAS ni CIAS")
        await _shoot(page, "03-confirmation")
        await page.get_by_role("button", name="Confirmer et déclencher").click()
        await expect(page.locator("h1")).to_contain_text("Exercice crue de la Deûle")
        await expect(page.locator("h1 .badge.drill")).to_have_text("EXERCICE")
        event_url = page.url

        broadcast = page.get_by_role("button", name="Diffuser")
        await expect(broadcast).to_have_count(0)

        phone = await context.new_page()
        await _answer_sms(phone, console_url, REPRESENTATIVE_PHONE, "OUI")
        await _shoot(phone, "04-telephone-representant")
        await expect(page.locator("#representative")).to_contain_text("Alix Martin", timeout=LIVE)
        await expect(broadcast).to_be_visible(timeout=LIVE)
        assert page.url == event_url, "the actions followed the phase without reloading the page"
        lille = page.locator('#centres tr[data-organisation="ccas-59350"]')
        await expect(lille).to_contain_text("demande", timeout=LIVE)

        await _answer_sms(phone, console_url, LILLE_DIRECTOR_PHONE, "OK")
        await expect(lille).to_contain_text("mobilisé", timeout=LIVE)
        assert page.url == event_url, "the status changed without reloading the page"
        await expect(page.locator("#timeline")).to_contain_text("CCAS de Lille", timeout=LIVE)
        await _legend_is_the_table(page, event_url)
        await _shoot(page, "05-evenement")

        await _pause_and_resume(page)
        await page.get_by_label("lancer le retour d'expérience").uncheck()
        await page.get_by_role("button", name="Clore").click()
        await expect(page.locator(".notice")).to_have_text("Clôture enregistrée.")
        await expect(page.locator("#phase")).to_have_text("clos")
        await page.goto(console_url)
        closed = page.locator("tr", has_text="Exercice crue de la Deûle")
        await expect(closed.locator(".badge.closed")).to_be_visible()
        await _shoot(page, "06-evenements")
        await _pages_beyond_the_console(page, console_url, mail_sandbox, event_url)
    finally:
        await context.close()


async def test_a_national_drill_maps_the_whole_of_france(
    browser: Browser, console_url: str
) -> None:
    """Every department declared at once: the map draws metropolitan France with
    the overseas departments as insets, its legend as the table."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        await _sign_in(page, console_url)
        await page.get_by_role("link", name="Déclarer").click()
        await page.get_by_label("Exercice").check()
        await page.select_option("#type", "tempete")
        await page.fill("#title", "Exercice national")
        await page.fill("#places", " ".join(sorted(load_territory().departments)))
        await page.get_by_role("button", name="Vérifier le territoire").click()
        await page.get_by_role("button", name="Confirmer et déclencher").click()
        await expect(page.locator("h1")).to_contain_text("Exercice national")
        event_url = page.url
        phone = await context.new_page()
        await _answer_sms(phone, console_url, REPRESENTATIVE_PHONE, "OUI")
        await expect(page.locator("#counts")).to_be_visible(timeout=LIVE)
        legend = await _map_legend(page, event_url)
        assert legend["uncovered"] > 30_000, "most communes have no centre in the test directory"
        await _legend_is_the_table(page, event_url)
        await _shoot(page, "07-evenement-national")
        await _export_holds_every_line(page, event_url)
    finally:
        await context.close()
