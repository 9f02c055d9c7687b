"""What a deployment relies on beyond one machine: replicas that start together,
a migration job, and refusals of a bad configuration that say what is wrong."""

import asyncio
import os
import socket

from tests.conftest import SCRIPTS
from tests.postgres_server import PostgresServer


async def _tocsin(*arguments: str, environment: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(SCRIPTS / "tocsin"),
        *arguments,
        env={**os.environ, **environment},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def test_migration_jobs_started_together_upgrade_a_new_postgresql_database_once(
    postgres: PostgresServer,
) -> None:
    """Workers, gateways and the migration job all upgrade the schema when they
    start: started at once on an empty database, one upgrades and the others wait
    for it, then find nothing to do."""
    environment = {"TOCSIN_DATABASE_URL": postgres.new_database()}
    runs = await asyncio.gather(*(_tocsin("migrate", environment=environment) for _ in range(3)))
    assert [code for code, _ in runs] == [0, 0, 0], runs
    outputs = sorted(output for _, output in runs)
    assert [output.startswith("Schéma déjà à jour") for output in outputs] == [True, True, False]
    assert "révision aucune →" in outputs[2]


async def test_a_metrics_port_already_taken_stops_the_worker_with_a_clear_message(
    tmp_path: object,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        code, output = await _tocsin(
            "worker",
            environment={"TOCSIN_STATE_DIR": str(tmp_path), "TOCSIN_METRICS_ADDRESS": address},
        )
    assert code == 1
    assert f"Adresse des métriques inutilisable : {address}" in output
