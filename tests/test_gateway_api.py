"""The HTTP API against a real Temporal dev server and a real worker."""

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from structlog.testing import capture_logs
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from definitions.event import Phase
from definitions.event_status import EventStatus
from definitions.loader import Definitions
from gateway.app import create_app
from store.database import Store
from tests.conftest import api_headers, plain_text, workflow_count
from worker.ports import free_port
from worker.sandbox.smtp_server import MailSandbox
from worker.temporal_workers import Messaging, running_workers


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    dev_env: WorkflowEnvironment,
    store_with_network: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dev_env.client, store_with_network, task_queue)
    transport = httpx.ASGITransport(app=app)
    async with (
        running_workers(dev_env.client, store_with_network, task_queue, definitions, messaging),
        httpx.AsyncClient(
            transport=transport,
            base_url="http://gateway",
            headers=api_headers(store_with_network, login="astreinte"),
        ) as client,
    ):
        yield client


async def _status_until(api: httpx.AsyncClient, event_id: str, phase: Phase) -> EventStatus:
    for _ in range(100):
        response = await api.get(f"/api/events/{event_id}")
        assert response.status_code == 200, response.text
        status = EventStatus.model_validate(response.json())
        if status.phase is phase:
            return status
    raise AssertionError(f"{event_id} never reached {phase}")


async def test_declare_read_and_close_an_event(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/events",
        json={
            "type": "tempete",
            "communes": ["29019"],
            "title": "Tempête Ciarán",
            "exercise": True,
        },
    )
    assert response.status_code == 201, response.text
    event_id = response.json()["event_id"]
    assert event_id.startswith("tempete-")
    assert response.json()["status_url"] == f"/api/events/{event_id}"

    await _status_until(api, event_id, Phase.REPRESENTATIVE)
    unknown = await api.post(
        f"/api/events/{event_id}/representative", json={"contact_id": "personne"}
    )
    assert unknown.status_code == 422
    assert "contact inconnu" in unknown.json()["errors"][0]
    designated = await api.post(
        f"/api/events/{event_id}/representative", json={"contact_id": "unccas-representant-2"}
    )
    assert designated.status_code == 200, designated.text
    assert designated.json()["representative"]["person"]["name"] == "Sacha Bernard"
    again = await api.post(
        f"/api/events/{event_id}/representative", json={"contact_id": "unccas-representant-2"}
    )
    assert again.status_code == 409 and "déjà représentant" in again.json()["detail"]

    status = await _status_until(api, event_id, Phase.MOBILISATION)
    assert status.exercise and status.title == "Tempête Ciarán"
    assert status.representative is not None

    closed = await api.post(
        f"/api/events/{event_id}/close", json={"reason": "fin", "review": False}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["phase"] == "closed"

    again = await api.post(f"/api/events/{event_id}/close")
    assert again.status_code == 409
    assert "déjà clos" in again.json()["detail"]

    log = await api.get(f"/api/events/{event_id}/crisis-log")
    assert log.status_code == 200
    texts = [entry["text"] for entry in log.json()]
    assert texts[0].startswith("Événement déclaré (EXERCICE)")
    assert "Représentant(e) UNCCAS : Sacha Bernard (désigné(e) par astreinte)." in texts
    assert texts[-1] == "Événement clos."
    assert await _paged_texts(api, event_id) == texts, "page by page, the same lines"

    late = await api.post(
        f"/api/events/{event_id}/representative", json={"contact_id": "unccas-representant-1"}
    )
    assert late.status_code == 409


async def test_a_handover_informs_the_state_of_the_change(
    api: httpx.AsyncClient, mail_sandbox: MailSandbox
) -> None:
    created = await api.post(
        "/api/events", json={"type": "attentat", "communes": ["59350"], "title": "Explosion"}
    )
    event_id = created.json()["event_id"]
    await _status_until(api, event_id, Phase.REPRESENTATIVE)
    first = await api.post(
        f"/api/events/{event_id}/representative", json={"contact_id": "unccas-representant-1"}
    )
    assert first.status_code == 200, first.text
    await _status_until(api, event_id, Phase.MOBILISATION)
    handover = await api.post(
        f"/api/events/{event_id}/representative", json={"contact_id": "unccas-representant-3"}
    )
    assert handover.status_code == 200, handover.text
    status = EventStatus.model_validate(handover.json())
    assert status.representative is not None
    assert status.representative.person.name == "Morgane Dubois"
    assert status.designation is not None and status.designation.generation == 2
    prefecture = mail_sandbox.sent_to("prefecture-59-cabinet@example.org")
    assert len(prefecture) == 2
    change = plain_text(prefecture[-1])
    assert "Morgane Dubois" in change and "succède à Alix Martin" in change
    search_during_search = await api.post(f"/api/events/{event_id}/representative/search")
    assert search_during_search.status_code == 200
    searching = EventStatus.model_validate(search_during_search.json())
    assert searching.designation is not None and searching.designation.generation == 3


async def test_bad_declarations_are_refused_and_start_nothing(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    before = await workflow_count(dev_env, task_queue)
    cases = {
        "no commune": ({"type": "inondation", "communes": [], "title": "Crue"}, "au moins une"),
        "unknown type": ({"type": "volcan", "communes": ["59350"], "title": "x"}, "volcan"),
        "empty title": ({"type": "inondation", "communes": ["59350"], "title": "  "}, "titre"),
        "commune name": (
            {"type": "inondation", "communes": ["Lille"], "title": "Crue"},
            "Lille (59350, Nord)",
        ),
        "postal code": (
            {"type": "inondation", "communes": ["59000", "99999"], "title": "Crue"},
            "c'est un code postal",
        ),
        "unknown department": (
            {"type": "inondation", "departments": ["Nord"], "title": "Crue"},
            "indiquez son code (59)",
        ),
    }
    for name, (body, expected) in cases.items():
        response = await api.post("/api/events", json=body)
        assert response.status_code == 422, name
        assert any(expected in problem for problem in response.json()["errors"]), name
    not_json = await api.post(
        "/api/events", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert await workflow_count(dev_env, task_queue) == before


async def test_unknown_event_is_404(api: httpx.AsyncClient) -> None:
    for path in ("/api/events/attentat-20260101-zzzz", "/api/events/nope/crisis-log"):
        response = await api.get(path)
        assert response.status_code == 404
        assert "inconnu" in response.json()["detail"]
    closing = await api.post("/api/events/attentat-20260101-zzzz/close")
    assert closing.status_code == 404


async def test_health_reports_temporal_and_database(api: httpx.AsyncClient) -> None:
    response = await api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "temporal": "ok", "database": "ok"}


async def test_health_names_a_failing_part_but_not_its_error() -> None:
    """Probes are open to all: they learn which part fails; why (addresses, driver
    messages) goes to the log only."""
    temporal_port, database_port = free_port(), free_port()
    temporal = await Client.connect(f"127.0.0.1:{temporal_port}", lazy=True)
    store = Store(f"postgresql+psycopg://tocsin@127.0.0.1:{database_port}/tocsin")
    transport = httpx.ASGITransport(app=create_app(temporal, store, "unused"))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            with capture_logs() as logs:
                response = await http.get("/healthz")
    finally:
        store.dispose()
    assert response.status_code == 503
    assert response.json() == {
        "status": "dégradé",
        "temporal": "injoignable",
        "database": "injoignable",
    }
    assert "127.0.0.1" not in response.text
    why = {
        line["part"]: line["error"] for line in logs if line["event"] == "health.part_unreachable"
    }
    assert str(temporal_port) in why["temporal"] and str(database_port) in why["database"]


async def _paged_texts(api: httpx.AsyncClient, event_id: str) -> list[str]:
    """The crisis log read three lines at a time, following the cursor."""
    texts: list[str] = []
    url: str | None = f"/api/events/{event_id}/crisis-log?limit=3"
    while url is not None:
        page = await api.get(url)
        assert page.status_code == 200, page.text
        assert len(page.json()) <= 3
        texts += [entry["text"] for entry in page.json()]
        after = page.headers.get("X-Next-After")
        url = f"/api/events/{event_id}/crisis-log?limit=3&after={after}" if after else None
    assert int(page.headers["X-Total-Count"]) == len(texts)
    return texts
