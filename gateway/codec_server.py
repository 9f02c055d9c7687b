"""Temporal's codec server endpoints, so that the Temporal UI shows authorised
operators the payloads Tocsin encrypts: ``POST /codec/decode`` and
``/codec/encode`` take and give ``{"payloads": [...]}`` in protobuf's JSON form.

Staff only, by API token (the UI's "pass access token") or console session (its
"include cross-origin credentials"); no CSRF token is asked, since these change
nothing and only the configured UI origin may read their answers (CORS)."""

from collections.abc import Awaitable, Callable, Sequence

import structlog
from fastapi import Depends, FastAPI, Request, Response, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from definitions.accounts import Role
from gateway.access import ForbiddenError, NotSignedInError, RoleGuard
from store.database import Store
from worker.payload_codec import PayloadKeyError

log = structlog.get_logger(__name__)

CODEC_PATH = "/codec"
MAX_BODY_BYTES = 4 * 1024 * 1024
"""Twice Temporal's largest payload."""


def _transcoding(
    step: Callable[[Sequence[Payload]], Awaitable[list[Payload]]], what: str
) -> Callable[[Request], Awaitable[Response]]:
    async def transcode(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"detail": "trop de données"}, status.HTTP_413_CONTENT_TOO_LARGE)
        payloads = Payloads()
        try:
            json_format.Parse(body, payloads)
            result = Payloads(payloads=await step(list(payloads.payloads)))
        except (json_format.ParseError, PayloadKeyError) as error:
            return JSONResponse({"detail": str(error)}, status.HTTP_400_BAD_REQUEST)
        caller = request.state.caller
        log.info(f"codec.{what}", login=caller.account.login, payloads=len(payloads.payloads))
        return Response(json_format.MessageToJson(result), media_type="application/json")

    return transcode


def codec_app(store: Store, codec: PayloadCodec, ui_origins: Sequence[str]) -> FastAPI:
    """Mounted at CODEC_PATH; CORS for the Temporal UI's origins only."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    staff = Depends(RoleGuard(store, (Role.STAFF,), own_event=False, csrf=False))
    app.post("/decode", dependencies=[staff])(_transcoding(codec.decode, "decoded"))
    app.post("/encode", dependencies=[staff])(_transcoding(codec.encode, "encoded"))

    @app.exception_handler(NotSignedInError)
    async def _not_signed_in(_: Request, exc: NotSignedInError) -> Response:
        return JSONResponse({"detail": str(exc)}, status.HTTP_401_UNAUTHORIZED)

    @app.exception_handler(ForbiddenError)
    async def _forbidden(_: Request, exc: ForbiddenError) -> Response:
        return JSONResponse({"detail": str(exc)}, status.HTTP_403_FORBIDDEN)

    if ui_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(ui_origins),
            allow_credentials=True,
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
        )
    return app
