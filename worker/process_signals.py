"""Turning SIGINT and SIGTERM into an asyncio event, so that shutdown is orderly."""

import asyncio
import signal


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_until_stopped(stop: asyncio.Event, *tasks: asyncio.Task[object]) -> None:
    """Wait for a stop signal, or for any task to end (a crash must not go unseen)."""
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({waiter, *tasks}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    for task in done:
        if task is not waiter and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
