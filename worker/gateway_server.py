"""uvicorn serving the gateway inside a process that owns its own signals."""

from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI


class GatewayServer(uvicorn.Server):
    """Leaves SIGINT/SIGTERM to the caller, who stops every part in order."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        super().__init__(
            uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
        )

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def stop(self) -> None:
        self.should_exit = True
