"""Store work a gateway repeats while it runs (a gauge refreshed, parked receipts
landed): one task each, started with the app and cancelled with it. A database that
does not answer costs a log line and the next turn, never the gateway."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from sqlalchemy.exc import SQLAlchemyError

log = structlog.get_logger(__name__)


@contextlib.asynccontextmanager
async def repeating(
    turn: Callable[[], Awaitable[None]], every: float, failure_event: str
) -> AsyncIterator[None]:
    """``turn`` now, then ``every`` seconds after each, until the context closes."""

    async def forever() -> None:
        while True:
            try:
                await turn()
            except SQLAlchemyError as error:
                log.warning(failure_event, error=str(error))
            await asyncio.sleep(every)

    running = asyncio.create_task(forever())
    try:
        yield
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
