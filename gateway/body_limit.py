"""A ceiling on request bodies: a huge payload gets a 413 and a log line instead of
filling the gateway's memory. A declared Content-Length past the ceiling is refused
at the first read; bodies sent in chunks are counted as they arrive."""

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
"""The largest legitimate body (a declaration naming thousands of communes, a meeting
report) is far smaller."""
TOO_LARGE = f"requête trop volumineuse ({MAX_BODY_BYTES} octets au plus)"


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        declared_too_large = declared is not None and (
            not declared.isdigit() or int(declared) > self._max_bytes
        )
        received = 0

        async def counted_receive() -> Message:
            """The handler reading the body gets the 413, rendered like any refusal."""
            nonlocal received
            if not declared_too_large:
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                if received <= self._max_bytes:
                    return message
            log.warning(
                "http.body_too_large",
                path=scope.get("path"),
                declared=declared.decode("latin-1") if declared else None,
                received=received,
            )
            raise HTTPException(413, TOO_LARGE)

        await self._app(scope, counted_receive, send)
