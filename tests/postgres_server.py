"""A throwaway PostgreSQL cluster on loopback, from Debian's ``postgresql`` binaries
(``make test`` installs them when missing). initdb refuses to run as root: a root
test run starts the cluster as the ``postgres`` user the package creates."""

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from worker.ports import free_port

SUPERUSER = "tocsin"


def _binaries() -> Path:
    """The newest installed version's folder, where Debian keeps initdb and pg_ctl."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name),
    )
    if not versions:
        raise RuntimeError("PostgreSQL introuvable : installez le paquet Debian postgresql")
    return versions[-1].parent


class PostgresServer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self._bin = _binaries()
        self._as_postgres = os.geteuid() == 0

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        subprocess.run(
            [*prefix, str(self._bin / command[0]), *command[1:]],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        if self._as_postgres:
            shutil.chown(self.folder, "postgres")
        data = str(self.folder / "data")
        self._run("initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder} -F"
        log = str(self.folder / "postgres.log")
        self._run("pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")

    def new_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        name = f"tocsin_{uuid.uuid4().hex[:12]}"
        admin = f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{name}"


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """In a folder of its own under /tmp: the postgres user cannot enter pytest's."""
    folder = Path(tempfile.mkdtemp(prefix="tocsin-postgres-"))
    server = PostgresServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
