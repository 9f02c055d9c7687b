"""Who reaches what: every route and page refuses no session and the wrong role,
changes from a browser need their CSRF token, tokens can be revoked, password
guessing is slowed down, and every response carries the security headers."""

import json
import os
import re
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from definitions.accounts import AccountRequest, Role
from definitions.designation import RepresentativeClaim
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from gateway.access import SESSION_COOKIE, declared_routes, route_guard
from gateway.app import create_app
from store import accounts, representatives
from store.database import Store
from tests.conftest import (
    ACCOUNT_PASSWORD as PASSWORD,
)
from tests.conftest import (
    LINK_SECRET,
    SCRIPTS,
    TWILIO_AUTH_TOKEN,
    api_headers,
    create_account,
    record_event,
    sign_in,
)

REPRESENTATIVE = "unccas-representant-2"
OPEN_ROUTES = {
    "/healthz",
    "/favicon.ico",
    "/connexion",
    "/r/{token}",
    "/q/{token}",
    "/annuaire/{token}",
    "/webhooks/twilio/sms",
    "/webhooks/twilio/status",
    "/webhooks/twilio/voice",
    "/webhooks/twilio/voice/gather",
    "/webhooks/twilio/voice/status",
    "/fiches",
    "/fiches/{slug}",
    "/api/fiches",
}
"""Open to all: the login page, probes, the site's icon, the fiches pratiques (read
from a link in a support request), and what checks its own signature."""
PATH_VALUES = {
    "event_id": "inondation-20261122-abcd",
    "department": "35",
    "organisation_id": "ccas-35006",
    "meeting_id": "reunion-1",
    "event_type": "inondation",
    "number": "+33639980001",
}


def _app(client: Client, store: Store, public_url: str = "http://gateway") -> FastAPI:
    return create_app(
        client,
        store,
        "unused",
        twilio_auth_token=TWILIO_AUTH_TOKEN,
        public_url=public_url,
        link_secret=LINK_SECRET,
        phone_simulator_sender="UNCCAS",
    )


@pytest_asyncio.fixture(loop_scope="session")
async def gateway(
    dev_env: WorkflowEnvironment, store_with_network: Store
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(dev_env.client, store_with_network))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


def _guarded_requests(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    requests = []
    for route in declared_routes(app.routes):
        path = route.path_format
        for name, value in PATH_VALUES.items():
            path = path.replace("{" + name + "}", value)
        assert route.methods is not None, route.path
        requests += [(method, path, route) for method in sorted(route.methods)]
    return requests


async def test_every_route_is_guarded_or_open_on_purpose(
    dev_env: WorkflowEnvironment, store_with_network: Store
) -> None:
    app = _app(dev_env.client, store_with_network)
    unguarded = {
        route.path_format for route in declared_routes(app.routes) if route_guard(route) is None
    }
    assert unguarded == OPEN_ROUTES
    schema = app.openapi()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path not in OPEN_ROUTES:
                assert operation.get("x-roles"), f"{method} {path} documents no role"
                assert "Rôles :" in operation["description"]
    assert set(schema["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyCookie"}


async def test_no_session_and_wrong_role_are_refused_everywhere(
    dev_env: WorkflowEnvironment, store_with_network: Store
) -> None:
    app = _app(dev_env.client, store_with_network)
    representative = api_headers(store_with_network, Role.REPRESENTATIVE, REPRESENTATIVE)
    other_ud = api_headers(store_with_network, Role.UD, department="62")
    record_event(
        store_with_network,
        PATH_VALUES["event_id"],
        EventDeclaration(type=EventType.INONDATION, communes=["35006"], title="Crue"),
        datetime.now(UTC),
    )
    checked = 0
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway:
        for method, path, route in _guarded_requests(app):
            guard = route_guard(route)
            if guard is None:
                continue
            anonymous = await gateway.request(method, path)
            if path.startswith("/api/"):
                assert anonymous.status_code == 401, (method, path, anonymous.text)
                assert anonymous.headers["www-authenticate"] == "Bearer"
            else:
                assert anonymous.status_code == 303, (method, path)
                assert anonymous.headers["location"].startswith("/connexion?next=")
            refused_to_representative = Role.REPRESENTATIVE not in guard.roles or guard.own_event
            if refused_to_representative:
                as_representative = await gateway.request(method, path, headers=representative)
                assert as_representative.status_code == 403, (method, path)
            if Role.UD not in guard.roles or guard.own_event:
                as_other_ud = await gateway.request(method, path, headers=other_ud)
                assert as_other_ud.status_code == 403, (method, path)
            checked += 1
    assert checked >= 30


async def test_a_representative_reaches_only_the_events_they_represent(
    gateway: httpx.AsyncClient, store_with_network: Store
) -> None:
    now = datetime.now(UTC)
    declaration = EventDeclaration(type=EventType.INONDATION, communes=["35006"], title="Crue")
    for event_id in ("inondation-20261122-mine", "inondation-20261122-other"):
        record_event(store_with_network, event_id, declaration, now)
    with store_with_network.session() as session:
        claim = RepresentativeClaim(
            event_id="inondation-20261122-mine", contact_id=REPRESENTATIVE, allow_busy=True
        )
        representatives.claim(session, claim, now)
        session.commit()
    representative = api_headers(store_with_network, Role.REPRESENTATIVE, REPRESENTATIVE)
    staff = api_headers(store_with_network)

    listed = await gateway.get("/api/events", headers=representative)
    assert [event["event_id"] for event in listed.json()] == ["inondation-20261122-mine"]
    assert len((await gateway.get("/api/events", headers=staff)).json()) == 2
    log = await gateway.get(
        "/api/events/inondation-20261122-mine/crisis-log", headers=representative
    )
    assert log.status_code == 200 and log.json()[0]["text"] == "Événement déclaré."
    other = await gateway.get(
        "/api/events/inondation-20261122-other/crisis-log", headers=representative
    )
    assert other.status_code == 403
    assert "ne représentez pas" in other.json()["detail"]
    declared = await gateway.post(
        "/api/events",
        json={"type": "inondation", "communes": ["35006"], "title": "Crue"},
        headers=representative,
    )
    assert declared.status_code == 403


async def test_browser_changes_need_the_session_csrf_token(
    gateway: httpx.AsyncClient, store_with_network: Store
) -> None:
    create_account(store_with_network, "astreinte", Role.STAFF)
    csrf_token = await sign_in(gateway, "astreinte")
    event = "/evenements/inondation-20261122-abcd/point-de-situation"

    without = await gateway.post(event, data={"text": "Point"})
    assert without.status_code == 403 and "CSRF" in without.text
    wrong = await gateway.post(event, data={"text": "Point", "csrf_token": "faux"})
    assert wrong.status_code == 403
    api_without = await gateway.post("/api/events/inondation-20261122-abcd/broadcast", json={})
    assert api_without.status_code == 403
    api_with = await gateway.post(
        "/api/events/inondation-20261122-abcd/broadcast",
        json={"text": "Point"},
        headers={"X-CSRF-Token": csrf_token},
    )
    assert api_with.status_code == 404, "past the guard, the unknown event answers"

    logged_out = await gateway.post("/deconnexion", data={"csrf_token": csrf_token})
    assert logged_out.status_code == 303
    assert (await gateway.get("/api/me")).status_code == 401


async def test_session_cookie_flags_and_security_headers(
    dev_env: WorkflowEnvironment, store_with_network: Store
) -> None:
    create_account(store_with_network, "astreinte", Role.STAFF)
    app = _app(dev_env.client, store_with_network, public_url="https://tocsin.example.org")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway:
        response = await gateway.post(
            "/connexion", data={"login": "astreinte", "password": PASSWORD}
        )
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        for flag in ("HttpOnly", "Secure", "SameSite=lax"):
            assert flag in cookie
        page = await gateway.get("/connexion")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert not re.search(r"https?://(?!127\.0\.0\.1)", page.text), "no asset from elsewhere"


async def test_password_guessing_locks_the_login(
    gateway: httpx.AsyncClient, store_with_network: Store
) -> None:
    create_account(store_with_network, "astreinte", Role.STAFF)
    for _ in range(accounts.MAX_FAILURES_PER_LOGIN):
        refused = await gateway.post(
            "/connexion", data={"login": "astreinte", "password": "pas le bon"}
        )
        assert refused.status_code == 401
        assert "Identifiant ou mot de passe incorrect" in refused.text
    locked = await gateway.post("/connexion", data={"login": "astreinte", "password": PASSWORD})
    assert locked.status_code == 429 and "Trop de tentatives" in locked.text
    assert SESSION_COOKIE not in locked.headers.get("set-cookie", "")
    unknown = await gateway.post("/connexion", data={"login": "personne", "password": PASSWORD})
    assert unknown.status_code == 401, "an unknown login is refused like a wrong password"
    outside = await gateway.post(
        "/connexion",
        data={"login": "astreinte", "password": PASSWORD, "next": "https://ailleurs.example.org"},
    )
    assert outside.status_code == 429


def _tocsin(
    store: Store, tmp_path: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TOCSIN_DATABASE_URL": store.url,
        "TOCSIN_STATE_DIR": str(tmp_path / "state"),
    }
    return subprocess.run(
        [str(SCRIPTS / "tocsin"), *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_accounts_and_revocable_tokens_from_the_command_line(
    gateway: httpx.AsyncClient, store_with_network: Store, tmp_path: Path
) -> None:
    created = _tocsin(
        store_with_network,
        tmp_path,
        *("user", "create", "sacha", "--name", "Sacha Bernard", "--role", "representative"),
        *("--contact", REPRESENTATIVE, "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    short = _tocsin(
        store_with_network,
        tmp_path,
        *("user", "create", "dominique", "--name", "D", "--password-stdin"),
        stdin="court\n",
    )
    assert short.returncode == 2 and "12" in short.stderr
    stranger = _tocsin(
        store_with_network,
        tmp_path,
        *("user", "create", "camille", "--name", "C", "--role", "representative"),
        *("--contact", "personne", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    assert stranger.returncode == 2 and "contact inconnu" in stranger.stderr

    issued = _tocsin(store_with_network, tmp_path, "token", "create", "sacha", "--name", "test")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    token_id = re.search(r"n°(\d+)", issued.stdout)
    assert token_id is not None
    bearer = {"Authorization": f"Bearer {token}"}
    me = await gateway.get("/api/me", headers=bearer)
    assert me.status_code == 200 and me.json()["role"] == "representative"

    revoked = _tocsin(store_with_network, tmp_path, "token", "revoke", token_id.group(1))
    assert revoked.returncode == 0, revoked.stderr
    assert (await gateway.get("/api/me", headers=bearer)).status_code == 401
    listed = _tocsin(store_with_network, tmp_path, "token", "list")
    assert "sacha\ttest\trévoqué" in listed.stdout
    listed_json = _tocsin(store_with_network, tmp_path, "token", "list", "--json")
    [sacha] = [token for token in json.loads(listed_json.stdout) if token["login"] == "sacha"]
    assert (sacha["id"], sacha["name"]) == (int(token_id.group(1)), "test")
    assert sacha["revoked_at"] is not None and "token_hash" not in sacha
    again = _tocsin(store_with_network, tmp_path, "token", "revoke", token_id.group(1))
    assert again.returncode == 1


async def test_a_new_password_signs_out_every_browser(
    gateway: httpx.AsyncClient, store_with_network: Store
) -> None:
    create_account(store_with_network, "astreinte", Role.STAFF)
    await sign_in(gateway, "astreinte")
    with store_with_network.session() as session:
        accounts.set_password(session, "astreinte", "un tout autre mot de passe")
        session.commit()
    assert (await gateway.get("/api/me")).status_code == 401
    assert (await gateway.get("/")).headers["location"] == "/connexion?next=%2F"


async def test_a_departmental_union_declares_and_sees_its_department_only(
    gateway: httpx.AsyncClient, store_with_network: Store
) -> None:
    nord = api_headers(store_with_network, Role.UD, login="ud-nord", department="59")
    drill = {"type": "inondation", "communes": ["59350"], "title": "Exercice Deûle"}
    declared = await gateway.post("/api/events", json={**drill, "exercise": True}, headers=nord)
    assert declared.status_code == 201, declared.text
    assert declared.json()["event_id"].startswith("inondation-")
    arras = {"type": "inondation", "communes": ["62041"], "title": "Crue de la Scarpe"}
    refused = await gateway.post("/api/events", json=arras, headers=nord)
    assert refused.status_code == 403
    assert refused.json()["detail"].endswith("son département (59)")
    both = {**drill, "departments": ["62"]}
    assert (await gateway.post("/api/events", json=both, headers=nord)).status_code == 403

    now = datetime.now(UTC)
    lille = EventDeclaration(type=EventType.INONDATION, communes=["59350"], title="Crue")
    arras_event = EventDeclaration(type=EventType.INONDATION, departments=["62"], title="Crue")
    record_event(store_with_network, "inondation-20261122-nord", lille, now)
    record_event(store_with_network, "inondation-20261122-pdc", arras_event, now)
    listed = await gateway.get("/api/events", headers=nord)
    assert [event["event_id"] for event in listed.json()] == ["inondation-20261122-nord"]
    own = await gateway.get("/api/events/inondation-20261122-nord/crisis-log", headers=nord)
    assert own.status_code == 200
    other = await gateway.get("/api/events/inondation-20261122-pdc/crisis-log", headers=nord)
    assert other.status_code == 403
    assert other.json()["detail"] == "cet événement ne touche pas votre département"
    closing = await gateway.post("/api/events/inondation-20261122-nord/close", headers=nord)
    assert closing.status_code == 403, "closing stays with UNCCAS's on-call staff"
    me = (await gateway.get("/api/me", headers=nord)).json()
    assert (me["role"], me["department"]) == ("ud", "59")
    freshness = (await gateway.get("/api/directory/freshness", headers=nord)).json()
    assert [row["department"] for row in freshness] == ["59"]
    elsewhere = await gateway.get("/api/directory/freshness?department=35", headers=nord)
    assert elsewhere.status_code == 403


def test_a_ud_account_names_a_known_department(store_with_network: Store, tmp_path: Path) -> None:
    created = _tocsin(
        store_with_network,
        tmp_path,
        *("user", "create", "ud-nord", "--name", "UDCCAS du Nord", "--role", "ud"),
        *("--department", "59", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    assert "union départementale, département 59" in created.stdout
    unknown = _tocsin(
        store_with_network,
        tmp_path,
        *("user", "create", "ud-x", "--name", "X", "--role", "ud", "--department", "99"),
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert unknown.returncode == 2 and "département inconnu : 99" in unknown.stderr
    with pytest.raises(ValidationError, match="nomme son département"):
        AccountRequest(login="ud-y", name="Y", role=Role.UD, password=PASSWORD)
