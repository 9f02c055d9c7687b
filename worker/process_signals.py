"""Turning SIGINT and SIGTERM into an asyncio event, so that shutdown is orderly."""

import asyncio
import signal

import structlog

log = structlog.get_logger(__name__)


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stop_requested(received: signal.Signals) -> None:
        log.warning("process.stop_requested", signal=received.name)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_requested, sig)
    return stop


async def run_until_stopped(stop: asyncio.Event, *tasks: asyncio.Task[object]) -> None:
    """Wait for a stop signal, or for any task to end (a crash must not go unseen)."""
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({waiter, *tasks}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    for task in done:
        if task is not waiter and not task.cancelled() and (error := task.exception()) is not None:
            raise error
        if task is not waiter:
            log.warning("process.task_ended", task=task.get_name())
