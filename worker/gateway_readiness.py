"""Waiting for a ``tocsin api`` process to serve: it answers only after seconds of
imports and connecting to Temporal, and a client that starts before gets refused."""

import asyncio
import contextlib

import httpx

from gateway.app import HEALTH_PATH

READY_WAIT_SECONDS = 60.0


async def until_healthy(gateway_url: str, process: asyncio.subprocess.Process) -> None:
    """Until its health check answers; a process that stopped meanwhile is an error."""
    async with httpx.AsyncClient(base_url=gateway_url) as http, asyncio.timeout(READY_WAIT_SECONDS):
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"tocsin api stopped (exit {process.returncode}); see its log")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(HEALTH_PATH)).is_success:
                    return
            await asyncio.sleep(0.1)
