"""Real parts for tests: Temporal servers from the installed binaries, SQLite files."""

import sysconfig
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.sms import SmsActivities, TwilioSettings
from definitions.directory import Contact, Directory, Organisation
from definitions.loader import Definitions, load_definitions
from store.database import Store
from store.directory import replace_directory
from worker.asgi_server import AsgiServer
from worker.ports import free_port
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import TwilioSandbox

SCRIPTS = Path(sysconfig.get_path("scripts"))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(SCRIPTS / "temporal-test-server"),
    )
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(SCRIPTS / "temporal"),
        ui=False,
    )
    yield env
    await env.shutdown()


TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_AUTH_TOKEN = "test-auth-token"


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


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    database = Store(f"sqlite:///{tmp_path / 'tocsin.db'}")
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
