"""A slow database holds up the request that waits for it, never the gateway's event
loop: while a request waits for a table that another transaction has locked,
``/healthz`` (which asks Temporal and reads the database) still answers, and the
request completes once the lock is released. Each kind of request is one the gateway
serves all the time: the access guard of every route, by API token and by console
session, the sign-in and its password hashing, and a route reading the store.

On PostgreSQL, where a lock makes even a read wait (SQLite lets readers past a
writer). The gateway's connections give up on a lock after ``LOCK_TIMEOUT``, so that
a gateway that waits in its event loop fails the test instead of hanging it."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url
from temporalio.testing import WorkflowEnvironment

from definitions.event import EventDeclaration
from definitions.event_type import EventType
from gateway.app import create_app
from store.database import Store
from tests.conftest import ACCOUNT_PASSWORD, api_headers, create_account, record_event, sign_in

pytestmark = pytest.mark.parametrize("store", ["postgresql"], indirect=True)

LOCK_TIMEOUT = "30s"
LOGIN = "permanence"
EVENT_ID = "inondation-20261122-k3f9"
WAITS_SEEN = 500
"""Looks at the database's lock waits before concluding the request never waited."""


@dataclass(frozen=True)
class Slow:
    """A request, how it signs in, the table whose lock holds it up, and its answer
    once the lock is gone."""

    method: str
    path: str
    signed_in_by: str
    table: str
    answer: int


SLOW_REQUESTS = {
    "garde par jeton d'API": Slow("GET", "/api/events", "token", "api_tokens", 200),
    "garde par session de la console": Slow("GET", "/", "session", "web_sessions", 200),
    "connexion et mot de passe": Slow("POST", "/connexion", "form", "login_failures", 303),
    "lecture du journal": Slow(
        "GET", f"/api/events/{EVENT_ID}/crisis-log", "token", "crisis_log", 200
    ),
}


def _psycopg_url(store: Store) -> str:
    return make_url(store.url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def gateway_store(store: Store) -> Iterator[Store]:
    """The test's database, through connections that give up on a lock in time."""
    url = make_url(store.url).update_query_dict({"options": f"-c lock_timeout={LOCK_TIMEOUT}"})
    slow_to_give_up = Store(url.render_as_string(hide_password=False))
    yield slow_to_give_up
    slow_to_give_up.dispose()


async def _until_waiting(
    monitor: psycopg.Connection, request: asyncio.Task[httpx.Response]
) -> None:
    """Until the request's query waits for its lock, seen from the database."""
    for _ in range(WAITS_SEEN):
        if request.done():
            raise AssertionError(f"la requête a fini sans attendre dans un thread : {request}")
        waiting = monitor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
        if waiting and waiting[0]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("la requête n'a jamais attendu le verrou")


@pytest.mark.parametrize("slow", SLOW_REQUESTS.values(), ids=SLOW_REQUESTS.keys())
async def test_health_answers_while_a_request_waits_for_the_database(
    dev_env: WorkflowEnvironment, store: Store, gateway_store: Store, slow: Slow
) -> None:
    declaration = EventDeclaration(type=EventType.INONDATION, communes=["35238"], title="Crue")
    record_event(store, EVENT_ID, declaration, datetime.now(UTC))
    headers = api_headers(store) if slow.signed_in_by == "token" else {}
    create_account(store, LOGIN)
    form = {"login": LOGIN, "password": ACCOUNT_PASSWORD} if slow.signed_in_by == "form" else None
    transport = httpx.ASGITransport(app=create_app(dev_env.client, gateway_store, "unused"))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        if slow.signed_in_by == "session":
            await sign_in(http, LOGIN)
        with (
            psycopg.connect(_psycopg_url(store), autocommit=True) as monitor,
            psycopg.connect(_psycopg_url(store)) as locker,
        ):
            locker.execute(f"LOCK TABLE {slow.table} IN ACCESS EXCLUSIVE MODE")
            request = asyncio.create_task(
                http.request(slow.method, slow.path, headers=headers, data=form)
            )
            try:
                await _until_waiting(monitor, request)
                health = await http.get("/healthz")
                assert not request.done(), "la requête n'attendait plus le verrou"
            finally:
                locker.rollback()
                await asyncio.wait([request])
    assert health.status_code == 200, health.text
    assert health.json() == {"status": "ok", "temporal": "ok", "database": "ok"}
    response = request.result()
    assert response.status_code == slow.answer, response.text
