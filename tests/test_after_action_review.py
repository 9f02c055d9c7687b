"""After-action reviews on the time-skipping server, with the demo directory, the real
workers and gateway, and the local SMS and mail servers: a complete event whose
report must agree with its crisis log, the questionnaire's links, the PDF rendered
page by page, and the guide of good practice gathering two events."""

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pypdfium2
import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from definitions.committee import in_paris
from definitions.crisis_log import CrisisLogEntry, CrisisLogKind
from definitions.durations import format_duration
from definitions.event import EventDeclaration, Phase
from definitions.event_status import EventStatus
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.mobilisation import SupportState
from definitions.review import ReviewStatus
from definitions.temporal_names import review_workflow_id
from store import directory, events
from store.database import Store
from tests.conftest import (
    LINK_SECRET,
    Phone,
    gateway_phone,
    idle,
    start_event,
    time_skipping_server,
    until_department,
    until_status,
)
from worker.sandbox.smtp_server import MailSandbox
from worker.temporal_workers import Messaging, running_workers
from workflows.after_action_review import AfterActionReviewWorkflow

REPRESENTATIVE = ("unccas-representant-1@example.org", "+33639980004")
ACIGNE = ("ccas-35001-direction@example.org", "+33639981338")
ARGENTRE = ("ccas-35006-direction@example.org", "+33639981340")
VAL_COUESNON = "ccas-35004-direction@example.org"
UD_35 = "ud-35-presidence@example.org"
FLOOD = EventDeclaration(
    type=EventType.INONDATION, communes=["35001", "35006", "35004"], title="Crue de la Vilaine"
)


@pytest_asyncio.fixture
async def review_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of their own: after an event whose review outlives it
    (an abandoned child), this server stopped skipping time for later tests."""
    async with time_skipping_server() as env:
        yield env


@pytest_asyncio.fixture
async def review_phone(review_env: WorkflowEnvironment, store: Store) -> AsyncIterator[Phone]:
    async with gateway_phone(review_env.client, store) as gateway:
        yield gateway


FORM_LINK = re.compile(r"https?://\S+/q/[\w.\-]+")


def _form_paths(mail: MailSandbox, address: str) -> list[str]:
    """Each questionnaire link the address received, as a path on the gateway."""
    paths = []
    for message in mail.sent_to(address):
        body = message.get_body(("plain",))
        assert body is not None
        paths += [urlsplit(url).path for url in FORM_LINK.findall(body.get_content())]
    return list(dict.fromkeys(paths))


async def _new_form_path(mail: MailSandbox, address: str, known: list[str]) -> str:
    """The link of a questionnaire sent after ``known`` ones, once its mail is in."""
    for _ in range(200):
        new = [path for path in _form_paths(mail, address) if path not in known]
        if new:
            return new[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no new questionnaire for {address}")


async def _review(env: WorkflowEnvironment, event_id: str) -> ReviewStatus:
    handle = env.client.get_workflow_handle(review_workflow_id(event_id))
    return await handle.query(AfterActionReviewWorkflow.status)


async def _until_hot_round_sent(env: WorkflowEnvironment, event_id: str) -> ReviewStatus:
    """The review answers queries once a worker runs it; its first round leaves at
    the stand-down."""
    for _ in range(200):
        with contextlib.suppress(RPCError):
            review = await _review(env, event_id)
            if review.rounds[0].sent:
                return review
        await asyncio.sleep(0.05)
    raise AssertionError(f"{event_id}: no questionnaire sent")


async def _skip_to(env: WorkflowEnvironment, event_id: str, after_close: timedelta) -> None:
    """To ``after_close`` past the stand-down, once the review is idle."""
    review_id = review_workflow_id(event_id)
    closed_at = (await _until_hot_round_sent(env, event_id)).rounds[0].opens_at
    await idle(env, review_id)
    now = await env.get_current_time()
    if closed_at + after_close > now:
        await env.sleep(closed_at + after_close - now)
    await idle(env, review_id)


def _log(store: Store, event_id: str) -> list[CrisisLogEntry]:
    with store.session() as session:
        return events.crisis_log(session, event_id)


async def _designated(
    env: WorkflowEnvironment, store: Store, phone: Phone, task_queue: str, event_id: str, title: str
) -> WorkflowHandle[Any, EventStatus]:
    """The first on-call representative asked accepts."""
    handle = await start_event(
        env.client, task_queue, FLOOD.model_copy(update={"title": title}), event_id
    )
    status = await until_status(handle, lambda s: bool(s.designation and s.designation.attempts))
    assert status.designation is not None
    with store.session() as session:
        candidate = directory.contact(session, status.designation.attempts[0].contact_id)
    assert candidate is not None and candidate.phone
    await phone.reply(candidate.phone, "oui")
    await until_status(handle, lambda s: bool(s.mobilised_departments))
    return handle


async def _answer(phone: Phone, path: str, answers: dict[str, str], expected: int = 200) -> str:
    response = await phone.http.post(path, data=answers)
    assert response.status_code == expected, response.text
    return response.text


async def _mobilised(
    env: WorkflowEnvironment, store: Store, phone: Phone, task_queue: str, event_id: str
) -> WorkflowHandle[Any, EventStatus]:
    """Acigné answers OK, Argentré AIDE, Val-Couesnon stays silent past its escalation;
    then the committee phase, with one committee."""
    handle = await _designated(env, store, phone, task_queue, event_id, FLOOD.title)
    department = await until_department(
        env.client,
        event_id,
        "35",
        lambda d: len(d.centres) == 3 and all(c.code for c in d.centres),
    )
    codes = {centre.organisation_id: centre.code for centre in department.centres}
    await phone.reply(ACIGNE[1], f"OK {codes['ccas-35001']}")
    await phone.reply(ARGENTRE[1], f"AIDE {codes['ccas-35006']}")
    await until_department(env.client, event_id, "35", lambda d: d.counts.needs_support == 1)
    await idle(env, f"{event_id}/mobilisation-35")
    await env.sleep(timedelta(hours=7))
    await until_department(env.client, event_id, "35", lambda d: d.counts.unanswered == 1)
    api = f"/api/events/{event_id}"
    assert (await phone.http.post(api + "/committee-phase")).status_code == 200
    registered = await phone.http.post(
        api + "/committees",
        json={"department_code": "35", "name": "CLAV d'Ille-et-Vilaine", "place": "Rennes"},
    )
    assert registered.status_code == 201, registered.text
    return handle


async def _check_report(phone: Phone, store: Store, event_id: str) -> None:
    """Every figure of the report as the crisis log has it; the PDF's pages render."""
    api = f"/api/events/{event_id}"
    log = _log(store, event_id)
    report = await phone.http.get(api + "/review/report.html")
    assert report.status_code == 200
    html = report.text
    declared = next(e.at for e in log if e.kind is CrisisLogKind.EVENT_DECLARED)
    designated = next(e.at for e in log if e.kind is CrisisLogKind.REPRESENTATIVE_DESIGNATED)
    informed = next(e.at for e in log if e.kind is CrisisLogKind.STATE_INFORMED)
    answers = [e for e in log if e.kind is CrisisLogKind.SUPPORT_ANSWERED]
    for moment in (designated, informed, answers[0].at, answers[-1].at):
        assert f"{format_duration(moment - declared)} ({in_paris(moment)})" in html
    [summary] = [e for e in log if e.kind is CrisisLogKind.MOBILISATION_SUMMARY]
    figures = summary.figures or {}
    assert figures["centres"] == 3 and figures["requested"] == 3
    assert figures["mobilised"] + figures["needs_support"] == len({e.subject for e in answers})
    assert figures["needs_support"] == 1 and figures["unanswered"] == 1
    assert figures["support_actions"] == len(
        [e for e in log if e.kind is CrisisLogKind.SUPPORT_ACTION and "ouverte" in e.text]
    )
    row = re.search(r'<tr data-department="35">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = [int(n) for n in re.findall(r'<td class="n">(\d+)</td>', row.group(1))]
    assert cells == [figures[name] for name in ("centres", "requested", "delivered")] + [
        figures["mobilised"] + figures["needs_support"],
        figures["needs_support"],
        figures["unanswered"],
        figures["unreachable"],
        figures["support_actions"],
        figures["reinforcement_offers"],
    ]
    assert "SMS reçu en pleine nuit" in html and "COD réuni vite" in html
    assert "Tenir à jour les numéros d&#39;astreinte des CCAS" in html
    assert "<svg" in html and html.count("<circle") >= 3
    legend = {
        state: int(count)
        for state, count in re.findall(
            r'<g class="legend" data-state="(\w+)" data-count="(\d+)">', html
        )
    }
    counted = ("mobilised", "needs_support", "unanswered", "unreachable")
    assert {state: legend[state] for state in counted} == {
        state: figures[state] for state in counted
    }
    assert sum(legend[state.value] for state in SupportState) == figures["centres"], (
        "the map's legend counts the centres as the reach table does"
    )
    closed_rounds = [e for e in log if e.kind is CrisisLogKind.QUESTIONNAIRE_CLOSED]
    assert [e.figures for e in closed_rounds] == [
        {"invited": 4, "answered": 1},
        {"invited": 4, "answered": 1},
    ], "each round compiles with what it has"

    pdf = await phone.http.get(api + "/review/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(pdf.content)
    assert len(document) >= 2
    for page in document:
        image = page.render(scale=0.5).to_pil().convert("L")
        assert image.getextrema()[0] < 128, "every page has something printed on it"
    first_text = document[0].get_textpage().get_text_range()
    assert "Crue de la Vilaine" in first_text and "Délais clés" in first_text


async def test_a_complete_event_leaves_a_report_that_matches_its_crisis_log(
    review_env: WorkflowEnvironment,
    demo_store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    mail_sandbox: MailSandbox,
    review_phone: Phone,
) -> None:
    env, phone = review_env, review_phone
    event_id = f"inondation-retex-{task_queue[-6:]}"
    rules = definitions.protocols[EventType.INONDATION].review
    async with running_workers(env.client, demo_store, task_queue, definitions, messaging):
        handle = await _mobilised(env, demo_store, phone, task_queue, event_id)
        api = f"/api/events/{event_id}"
        closing = await phone.http.post(api + "/close", json={"reason": "décrue"})
        assert closing.status_code == 200, closing.text
        assert closing.json()["phase"] == Phase.REVIEW.value
        await _skip_to(env, event_id, timedelta(hours=1))
        hot = (await _review(env, event_id)).rounds[0]
        assert hot.sent and hot.invited == 4, "representative, two centres that answered, UD"
        assert not _form_paths(mail_sandbox, VAL_COUESNON), "a silent centre is not asked"
        [acigne_hot] = _form_paths(mail_sandbox, ACIGNE[0])
        assert len(_form_paths(mail_sandbox, UD_35)) == 1

        form = await phone.http.get(acigne_hot)
        assert form.status_code == 200 and "préfecture" in form.text
        empty = await _answer(phone, acigne_hot, {"alerting": "  "}, 422)
        assert "vide" in empty
        await _answer(
            phone,
            acigne_hot,
            {"alerting": "SMS reçu en pleine nuit, réponse en dix minutes.", "keep": "Le code."},
        )
        reused = await _answer(phone, acigne_hot, {"alerting": "Encore"}, 410)
        assert "Déjà répondu" in reused
        forged = await phone.http.get(acigne_hot[:-3] + "abc")
        assert forged.status_code == 403

        planned = await phone.http.post(
            api + "/review/actions",
            json={
                "what": "Tenir à jour les numéros d'astreinte des CCAS",
                "owner_id": "ccas-35006-direction",
                "due": str((hot.opens_at + timedelta(days=120)).date()),
            },
        )
        assert planned.status_code == 200, planned.text
        unknown_owner = await phone.http.post(
            api + "/review/actions",
            json={"what": "x", "owner_id": "personne", "due": "2100-01-01"},
        )
        assert unknown_owner.status_code == 422

        await _skip_to(env, event_id, rules.reminder_after + timedelta(hours=1))
        reminded = (await _review(env, event_id)).rounds[0]
        assert reminded.reminder_sent and reminded.reminded == 3, "all but Acigné"
        await _skip_to(env, event_id, rules.answer_deadline + timedelta(hours=1))
        expired = await phone.http.get(acigne_hot)
        assert expired.status_code == 410, "past the deadline, the link is closed"
        [ud_hot] = _form_paths(mail_sandbox, UD_35)
        assert (await phone.http.get(ud_hot)).status_code == 410

        await _skip_to(env, event_id, rules.formal_review_after + timedelta(hours=1))
        formal_paths = [p for p in _form_paths(mail_sandbox, REPRESENTATIVE[0])]
        assert len(formal_paths) == 2, "one link per round"
        await _answer(
            phone,
            formal_paths[-1],
            {"prefecture": "COD réuni vite ; la liste des CCAS manquait.", "change": "Annuaire."},
        )
        closed = await handle.result()
        assert closed.phase is Phase.CLOSED
        review = await _review(env, event_id)
        assert review.report_version == 1 and review.rounds[0].answered == 1

        await _check_report(phone, demo_store, event_id)

        [task] = review.tasks
        assert "bien reçue" in await phone.reply(ARGENTRE[1], f"FAIT {task.code}")
        finished = await env.client.get_workflow_handle(
            review_workflow_id(event_id), result_type=ReviewStatus
        ).result()
        assert finished.finished and finished.tasks[0].done_at is not None


async def _reviewed_event(
    env: WorkflowEnvironment,
    store: Store,
    phone: Phone,
    mail: MailSandbox,
    event: tuple[str, str, str],
    task_queue: str,
) -> WorkflowHandle[Any, EventStatus]:
    """Declared, closed at once; the UD answers the hot debrief."""
    event_id, title, lesson = event
    handle = await _designated(env, store, phone, task_queue, event_id, title)
    known = _form_paths(mail, UD_35)
    closing = await phone.http.post(f"/api/events/{event_id}/close")
    assert closing.status_code == 200, closing.text
    await _until_hot_round_sent(env, event_id)
    await _answer(phone, await _new_form_path(mail, UD_35, known), {"keep": lesson})
    return handle


async def test_the_guide_gathers_the_reviews_of_one_event_type(
    demo_store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    mail_sandbox: MailSandbox,
    phone: Phone,
) -> None:
    """Each event on a time-skipping server of its own, one database for both."""
    first = (f"inondation-guide1-{task_queue[-6:]}", "Crue de 2026", "Les sacs de sable.")
    second = (f"inondation-guide2-{task_queue[-6:]}", "Crue de 2027", "La cellule d'écoute.")
    for event in (first, second):
        async with (
            time_skipping_server() as env,
            gateway_phone(env.client, demo_store) as own_phone,
            running_workers(env.client, demo_store, task_queue, definitions, messaging),
        ):
            handle = await _reviewed_event(
                env, demo_store, own_phone, mail_sandbox, event, task_queue
            )
            assert (await handle.result()).phase is Phase.CLOSED
    page = await phone.http.get("/guide", params={"type": "inondation"})
    assert page.status_code == 200
    text = page.text
    assert text.index("Crue de 2027") < text.index("Crue de 2026"), "newest first"
    assert "Les sacs de sable." in text and "La cellule d&#39;écoute." in text
    assert f"/api/events/{first[0]}/review/report.html" in text
    data = (await phone.http.get("/api/guide/inondation")).json()
    assert [entry["event_id"] for entry in data] == [second[0], first[0]]
    other = await phone.http.get("/guide", params={"type": "attentat"})
    assert "Aucun retour d'expérience" in other.text
    bad = await phone.http.get("/guide", params={"type": "volcan"})
    assert bad.status_code == 422


@pytest.mark.parametrize("token", ["x" * 20, "abc.def" + "g" * 10])
async def test_a_forged_questionnaire_link_is_refused(phone: Phone, token: str) -> None:
    response = await phone.http.get(f"/q/{token}")
    assert response.status_code == 403 and "pas valide" in response.text
    assert LINK_SECRET not in response.text
