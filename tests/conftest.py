"""Real parts for tests: Temporal servers from the installed binaries, SQLite files."""

import socket
import sysconfig
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from store.database import Store

SCRIPTS = Path(sysconfig.get_path("scripts"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    database = Store(f"sqlite:///{tmp_path / 'tocsin.db'}")
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def task_queue() -> str:
    return f"tocsin-test-{uuid.uuid4()}"
