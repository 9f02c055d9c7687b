"""A ceiling on request bodies, before any handler reads one: a huge payload gets a 413
and a log line instead of filling the gateway's memory. Bodies sent in chunks, with no
Content-Length, are counted as they arrive."""

import json

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
"""The largest legitimate body (a declaration naming thousands of communes, a meeting
report) is far smaller."""
TOO_LARGE = f"requête trop volumineuse ({MAX_BODY_BYTES} octets au plus)"


async def _refuse(scope: Scope, send: Send, length: int | None) -> None:
    log.warning("http.body_too_large", path=scope.get("path"), length=length)
    body = json.dumps({"detail": TOO_LARGE}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._max_bytes):
            await _refuse(scope, send, int(declared) if declared.isdigit() else None)
            return
        received = 0

        async def counted_receive() -> Message:
            """A chunked body past the ceiling ends its request with the same 413."""
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_bytes:
                    log.warning("http.body_too_large", path=scope.get("path"), length=received)
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self._app(scope, counted_receive, send)
