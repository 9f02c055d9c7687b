"""uvicorn serving an ASGI app (the gateway, a sandbox) inside a process that owns
its signals and stops every part in order."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

START_TIMEOUT_SECONDS = 10.0


class AsgiServerError(RuntimeError):
    pass


class AsgiServer(uvicorn.Server):
    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        super().__init__(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_config=None,
                access_log=False,
                # The gateway decides which proxies it trusts (TOCSIN_TRUSTED_PROXIES).
                proxy_headers=False,
            )
        )

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM are left to the caller."""
        yield

    async def start(self) -> asyncio.Task[None]:
        """Serve in the background; returns once the socket listens."""
        serving = asyncio.create_task(self.serve())
        async with asyncio.timeout(START_TIMEOUT_SECONDS):
            while not self.started:
                if serving.done():
                    raise AsgiServerError(f"le serveur HTTP n'a pas démarré ({self.config.port})")
                await asyncio.sleep(0.02)
        return serving

    def stop(self) -> None:
        self.should_exit = True
