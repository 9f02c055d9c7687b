"""Real parts for tests: Temporal servers from the installed binaries, SQLite files."""

import asyncio
import contextlib
import itertools
import os
import sysconfig
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import pytest_asyncio
from hypothesis import settings
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from twilio.request_validator import RequestValidator

from activities.email import SmtpSettings
from activities.reply_codes import AnswerLinkSettings
from activities.sms import SmsActivities, TwilioSettings
from activities.voice import VoiceSettings
from definitions.accounts import AccountRequest, Role
from definitions.crisis_log import CrisisLogEntry, CrisisLogKind, DeclarationRecord
from definitions.designation import Answer
from definitions.directory import Contact, Directory, Organisation
from definitions.event import CloseRequest, EventDeclaration, EventStart
from definitions.event_status import EventStatus
from definitions.loader import Definitions, load_definitions
from definitions.mobilisation import MobilisationStatus
from definitions.temporal_names import CLOSE_UPDATE, mobilisation_workflow_id
from definitions.territory import load_territory
from gateway.app import create_app
from store import accounts, events
from store.database import Store
from store.directory import replace_directory
from tests.postgres_server import PostgresServer, running_postgres
from worker.asgi_server import AsgiServer
from worker.demo_directory import demo_directory
from worker.ports import free_port, is_port_busy
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import TwilioSandbox
from worker.temporal_workers import Messaging
from workflows.department_mobilisation import DepartmentMobilisationWorkflow
from workflows.major_event import MajorEventWorkflow

SCRIPTS = Path(sysconfig.get_path("scripts"))

settings.register_profile("ci", deadline=None, derandomize=True)
settings.register_profile("thorough", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("TOCSIN_HYPOTHESIS_PROFILE", "ci"))
"""Property tests draw the same examples on every CI run (a failure can be replayed);
``make reliability`` draws new and many more. Durations are never asserted."""


_SERVER_PORTS_PER_PROCESS = 400
_next_server_ports = itertools.count(
    20_000
    + _SERVER_PORTS_PER_PROCESS
    * int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The heavy modules first: pytest-xdist hands out whole files in the order they
    were collected, and a long one handed out last keeps one core busy while the
    other has nothing left to run."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


def server_port() -> int:
    """A port for a Temporal server this test process starts, from the process's own
    range: the SDK's own choice (a free port, released before the server binds it)
    could give two pytest-xdist processes the same port at once, and the second
    process's client would then share the first one's time-skipping server."""
    for port in _next_server_ports:
        if not is_port_busy("127.0.0.1", port):
            return port
    raise RuntimeError("no free port")


@contextlib.asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(SCRIPTS / "temporal-test-server"),
        port=server_port(),
    )
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """One per module: a module that leaves work pending (a timer, a retrying
    activity) holds back time skipping for every test after it on a shared server."""
    async with time_skipping_server() as env:
        yield env


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(SCRIPTS / "temporal"),
        ui=False,
        port=server_port(),
    )
    yield env
    await env.shutdown()


TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_AUTH_TOKEN = "test-auth-token"
LINK_SECRET = "test-link-secret"
ACCOUNT_PASSWORD = "un mot de passe assez long"
NO_GATEWAY = "http://127.0.0.1:9"
"""Where the sandbox's call callbacks go when no gateway listens: refused at once,
on this machine."""


def sms_sender(
    store: Store, sandbox: TwilioSandbox, *, status_callback: str = "", timeout: float = 10.0
) -> SmsActivities:
    """The real SMS activities, pointed at the sandbox."""
    return SmsActivities(
        store,
        TwilioSettings(
            TWILIO_ACCOUNT_SID,
            TWILIO_AUTH_TOKEN,
            sender="+33639989999",
            base_url=sandbox.base_url,
            status_callback=status_callback,
            timeout_seconds=timeout,
        ),
        per_second=1000.0,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def twilio_sandbox() -> AsyncIterator[TwilioSandbox]:
    """The Twilio-compatible server on a free loopback port; its URL is in base_url."""
    sandbox = TwilioSandbox(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, timeout_delay=1.5)
    port = free_port()
    server = AsgiServer(sandbox.app, "127.0.0.1", port)
    serving = await server.start()
    sandbox.base_url = f"http://127.0.0.1:{port}"
    yield sandbox
    server.stop()
    await serving


@pytest.fixture
def mail_sandbox() -> Iterator[MailSandbox]:
    sandbox = MailSandbox(free_port())
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


BOTH_DATABASES = pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)
"""For a test module that must hold on both databases Tocsin runs on."""


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """SQLite in the test's folder; a fresh PostgreSQL database for tests marked
    ``BOTH_DATABASES``."""
    if getattr(request, "param", "sqlite") == "postgresql":
        url = request.getfixturevalue("postgres").new_database()
    else:
        url = f"sqlite:///{tmp_path / 'tocsin.db'}"
    database = Store(url)
    database.upgrade()
    yield database
    database.dispose()


def lille_directory() -> Directory:
    """Lille has a CCAS; its neighbour Villeneuve-d'Ascq has none; Nord has a UD."""
    return Directory(
        organisations=[
            Organisation(id="ccas-59350", kind="ccas", name="CCAS de Lille", insee_code="59350"),
            Organisation(id="ud-59", kind="ud", name="UD du Nord", department_code="59"),
            Organisation(
                id="prefecture-59", kind="prefecture", name="Préfecture", department_code="59"
            ),
        ],
        contacts=[
            Contact(
                id="ccas-59350-direction",
                organisation_id="ccas-59350",
                name="Camille Martin",
                role="director",
                phone="06 39 98 00 01",
                email="direction@example.org",
            )
        ],
    )


@pytest.fixture(scope="session")
def demo() -> Directory:
    return demo_directory(load_territory())


@pytest.fixture
def demo_store(store: Store, demo: Directory) -> Store:
    """The demo directory: every CCAS/CIAS of France, fictional contacts."""
    with store.session() as session:
        replace_directory(session, demo)
        session.commit()
    return store


@pytest.fixture
def store_with_directory(store: Store) -> Store:
    with store.session() as session:
        replace_directory(session, lille_directory())
        session.commit()
    return store


@pytest.fixture(scope="session")
def definitions() -> Definitions:
    return load_definitions()


@pytest.fixture
def task_queue() -> str:
    return f"tocsin-test-{uuid.uuid4()}"


REPRESENTATIVES = ("unccas-representant-1", "unccas-representant-2", "unccas-representant-3")


def _fictional(
    contact_id: str,
    organisation_id: str,
    name: str,
    role: str,
    serial: int,
    rank: int | None = None,
) -> Contact:
    return Contact(
        id=contact_id,
        organisation_id=organisation_id,
        name=name,
        role=role,
        phone=f"+336399801{serial:02d}",
        email=f"{contact_id}@example.org",
        roster_rank=rank,
    )


def network_directory() -> Directory:
    """``lille_directory`` with the national level: a roster of three
    representatives, one on-call staff member, the DIAV; and people to reach at
    the prefecture and the UD."""
    lille = lille_directory()
    organisations = [
        *lille.organisations,
        Organisation(id="unccas", kind="unccas", name="UNCCAS", email="unccas@example.org"),
        Organisation(id="diav", kind="diav", name="DIAV", email="diav@example.org"),
    ]
    names = ("Alix Martin", "Sacha Bernard", "Morgane Dubois")
    contacts = [
        *lille.contacts,
        *(
            _fictional(contact_id, "unccas", name, "representative", serial, rank=serial)
            for serial, (contact_id, name) in enumerate(zip(REPRESENTATIVES, names, strict=True), 1)
        ),
        _fictional("unccas-astreinte-1", "unccas", "Claude Petit", "on_call_staff", 10),
        _fictional("prefecture-59-cabinet", "prefecture-59", "Dominique Roux", "officer", 20),
        _fictional("ud-59-presidence", "ud-59", "Yannick Morel", "president", 30),
    ]
    return Directory(organisations=organisations, contacts=contacts)


ARRAS = "ccas-62041"


def network_and_arras() -> Directory:
    """``network_directory`` and the CCAS of Arras: a centre in a second department
    (the Pas-de-Calais), for what the Nord's UD must not see."""
    network = network_directory()
    arras = Organisation(id=ARRAS, kind="ccas", name="CCAS d'Arras", insee_code="62041")
    director = Contact(
        id="ccas-62041-direction",
        organisation_id=ARRAS,
        name="Noé Garnier",
        role="director",
        phone="+33639980140",
        email="ccas-arras@example.org",
    )
    return Directory(
        organisations=[*network.organisations, arras], contacts=[*network.contacts, director]
    )


@pytest.fixture
def store_with_network(store: Store) -> Store:
    with store.session() as session:
        replace_directory(session, network_directory())
        session.commit()
    return store


@pytest.fixture
def messaging(twilio_sandbox: TwilioSandbox, mail_sandbox: MailSandbox) -> Messaging:
    """The real senders, pointed at the sandboxes; no delivery callbacks (a call's
    progress goes nowhere)."""
    return Messaging(
        twilio=TwilioSettings(
            TWILIO_ACCOUNT_SID,
            TWILIO_AUTH_TOKEN,
            sender="+33639989999",
            base_url=twilio_sandbox.base_url,
        ),
        smtp=SmtpSettings(host="127.0.0.1", port=mail_sandbox.port, mail_from="tocsin@example.org"),
        sms_per_second=50.0,
        answer_links=AnswerLinkSettings(secret=LINK_SECRET, public_url="http://tocsin.test"),
        voice=VoiceSettings(
            TWILIO_ACCOUNT_SID,
            TWILIO_AUTH_TOKEN,
            sender="+33639989999",
            public_url=NO_GATEWAY,
            base_url=twilio_sandbox.base_url,
        ),
        calls_per_second=50.0,
    )


@dataclass
class Phone:
    """Answers by SMS through the gateway's signed webhook, as Twilio posts them."""

    http: httpx.AsyncClient
    public_url: str

    async def reply(self, sender: str, body: str, message_sid: str | None = None) -> str:
        """The gateway's answer (TwiML text), or '' when it stays silent."""
        params = {
            "MessageSid": message_sid or "SM" + uuid.uuid4().hex,
            "From": sender,
            "To": "+33639989999",
            "Body": body,
        }
        response = await self.post("/webhooks/twilio/sms", params)
        assert response.status_code == 200, response.text
        return " ".join(
            node.text or "" for node in ElementTree.fromstring(response.text).iter("Message")
        )

    async def post(self, path: str, params: dict[str, str]) -> httpx.Response:
        signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(
            self.public_url + path, params
        )
        return await self.http.post(path, data=params, headers={"X-Twilio-Signature": signature})


def create_account(
    store: Store,
    login: str,
    role: Role = Role.STAFF,
    contact_id: str | None = None,
    department: str | None = None,
) -> None:
    """An account whose password is ``ACCOUNT_PASSWORD``."""
    request = AccountRequest(
        login=login,
        name=login.capitalize(),
        role=role,
        contact_id=contact_id,
        department=department,
        password=ACCOUNT_PASSWORD,
    )
    with store.session() as session:
        accounts.create_account(session, request, datetime.now(UTC))
        session.commit()


def api_headers(
    store: Store,
    role: Role = Role.STAFF,
    contact_id: str | None = None,
    login: str = "",
    department: str | None = None,
) -> dict[str, str]:
    """The header of a script calling the API with a new account's token."""
    login = login or f"{role.value}-{uuid.uuid4().hex[:8]}"
    create_account(store, login, role, contact_id, department)
    with store.session() as session:
        token, _ = accounts.create_token(session, login, "tests", datetime.now(UTC))
        session.commit()
    return {"Authorization": f"Bearer {token}"}


async def sign_in(client: httpx.AsyncClient, login: str) -> str:
    """Signs the browser in through the console's form; gives the session's CSRF token."""
    response = await client.post("/connexion", data={"login": login, "password": ACCOUNT_PASSWORD})
    assert response.status_code == 303, response.text
    me = await client.get("/api/me")
    assert me.status_code == 200
    return str(me.json()["csrf_token"])


async def workflow_count(env: WorkflowEnvironment, task_queue: str) -> int:
    return (await env.client.count_workflows(f"TaskQueue = '{task_queue}'")).count


@contextlib.asynccontextmanager
async def in_process_gateway(
    client: Client, store: Store, public_url: str, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway called in-process, as Twilio or a script would call it, its
    background tasks running."""
    app = create_app(
        client, store, "unused", twilio_auth_token=TWILIO_AUTH_TOKEN, public_url=public_url
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway", headers=headers
        ) as http,
    ):
        yield http


@contextlib.asynccontextmanager
async def gateway_phone(client: Client, store: Store) -> AsyncIterator[Phone]:
    """The gateway on a loopback port (so the Twilio sandbox can call it back)."""
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    app = create_app(
        client,
        store,
        "unused",
        twilio_auth_token=TWILIO_AUTH_TOKEN,
        public_url=public_url,
        link_secret=LINK_SECRET,
    )
    server = AsgiServer(app, "127.0.0.1", port)
    serving = await server.start()
    async with httpx.AsyncClient(
        base_url=public_url, timeout=10, headers=api_headers(store)
    ) as http:
        yield Phone(http, public_url)
    server.stop()
    await serving


@pytest_asyncio.fixture(loop_scope="session")
async def phone(time_skipping_env: WorkflowEnvironment, store: Store) -> AsyncIterator[Phone]:
    async with gateway_phone(time_skipping_env.client, store) as gateway:
        yield gateway


@pytest_asyncio.fixture(loop_scope="session")
async def live_phone(dev_env: WorkflowEnvironment, store: Store) -> AsyncIterator[Phone]:
    """The same, in front of the real dev server."""
    async with gateway_phone(dev_env.client, store) as gateway:
        yield gateway


async def until_status(
    handle: WorkflowHandle[Any, EventStatus], condition: Callable[[EventStatus], bool]
) -> EventStatus:
    """Polls the event's status in real time: simulated time stands still meanwhile."""
    status = None
    for _ in range(300):
        status = await handle.query(MajorEventWorkflow.status)
        if condition(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition never met; last status: {status}")


async def until_department(
    client: Client,
    event_id: str,
    department: str,
    condition: Callable[[MobilisationStatus], bool],
    attempts: int = 300,
) -> MobilisationStatus:
    """Polls a department's mobilisation in real time until ``condition`` holds."""
    handle = client.get_workflow_handle(mobilisation_workflow_id(event_id, department))
    status = None
    for _ in range(attempts):
        with contextlib.suppress(RPCError):
            status = await handle.query(DepartmentMobilisationWorkflow.status)
            if condition(status):
                return status
        await asyncio.sleep(0.05)
    counts = status.counts if status else None
    raise AssertionError(f"condition never met; last counts: {counts}")


async def idle(env: WorkflowEnvironment, *workflow_ids: str) -> None:
    """No activity nor workflow task pending for these workflows, so that the next
    simulated timer is the one the test means to reach. A workflow not started
    yet counts as idle."""
    for _ in range(200):
        busy = False
        for workflow_id in workflow_ids:
            try:
                described = await env.client.get_workflow_handle(workflow_id).describe()
            except RPCError:
                continue
            raw = described.raw_description
            busy = busy or bool(raw.pending_activities) or raw.HasField("pending_workflow_task")
        if not busy:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_ids} never idle")


async def stand_down(handle: WorkflowHandle[Any, EventStatus]) -> None:
    """Close the event properly (its running children stop at a step boundary),
    without the after-action review that only its own tests follow.
    Terminating instead, with an activity in flight, leaves the time-skipping
    server's clock locked for every later test."""
    with contextlib.suppress(WorkflowUpdateFailedError, RPCError):
        await handle.execute_update(
            CLOSE_UPDATE, CloseRequest(closed_by="fin du test", review=False)
        )


async def start_event(
    client: Client, task_queue: str, declaration: EventDeclaration, event_id: str
) -> WorkflowHandle[MajorEventWorkflow, EventStatus]:
    """Declared by on-call staff. Keep the handle: under the time-skipping server,
    only a handle returned by start_workflow skips time while awaiting the result."""
    return await client.start_workflow(
        MajorEventWorkflow.run,
        EventStart(event_id=event_id, declaration=declaration, declared_by="astreinte"),
        id=event_id,
        task_queue=task_queue,
    )


def candidates_asked(count: int) -> Callable[[EventStatus], bool]:
    """At least ``count`` candidates asked, each request sent (or found impossible)."""

    def condition(status: EventStatus) -> bool:
        designation = status.designation
        return (
            designation is not None
            and len(designation.attempts) >= count
            and all(
                attempt.channels or attempt.answer is not Answer.WAITING
                for attempt in designation.attempts
            )
        )

    return condition


def plain_text(mail: EmailMessage) -> str:
    """The plain-text body of a received email; the test fails if it has none."""
    body = mail.get_body(("plain",))
    assert body is not None, f"no plain-text part in {mail['Subject']!r}"
    text: str = body.get_content()
    return text


def record_event(
    store: Store, event_id: str, declaration: EventDeclaration, at: datetime
) -> DeclarationRecord:
    """The event's row and first crisis-log line, as its workflow writes them: for
    tests of the store, or of a workflow started without its event."""
    record = DeclarationRecord(
        event_id=event_id,
        declaration=declaration,
        declared_by="astreinte",
        declared_at=at,
        entry=CrisisLogEntry(
            entry_key=f"{event_id}/1",
            event_id=event_id,
            at=at,
            actor="astreinte",
            kind=CrisisLogKind.EVENT_DECLARED,
            text="Événement déclaré.",
        ),
    )
    with store.session() as session:
        events.save_event(session, record)
        events.append_entry(session, record.entry)
        session.commit()
    return record
