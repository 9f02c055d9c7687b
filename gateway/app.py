"""The HTTP gateway's application: the REST API over events, the console, the
signed links and webhooks, and a health check."""

import html
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, nullcontext
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlencode

import structlog
from anyio import to_thread
from fastapi import APIRouter, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy import text
from temporalio.client import Client

from definitions.fiches import load_fiches
from definitions.loader import DefinitionsError
from definitions.territory import load_territory
from definitions.validation import describe_errors
from gateway.access import (
    ForbiddenError,
    Guards,
    NotSignedInError,
    document_roles,
    trust_proxies,
)
from gateway.answer_pages import answer_router, page
from gateway.body_limit import BodyLimit
from gateway.codec_server import CODEC_PATH, codec_app
from gateway.committee_routes import committee_router
from gateway.console.declaration import declaration_router
from gateway.console.event_actions import event_actions_router
from gateway.console.event_pages import EventPages, event_pages_router
from gateway.console.login import LOGIN_PATH, login_router
from gateway.console.phone_simulator import phone_simulator_router
from gateway.directory_pages import directory_router
from gateway.directory_routes import directory_router as verification_router
from gateway.event_routes import event_router
from gateway.fiche_pages import fiche_router
from gateway.metrics import (
    client_metrics,
    refreshing_directory_freshness,
    refreshing_open_events,
)
from gateway.mobilisation_routes import mobilisation_router
from gateway.questionnaire_pages import questionnaire_router
from gateway.review_routes import review_router
from gateway.security_headers import SecurityHeaders
from gateway.twilio_voice import VoiceWebhooks, voice_router
from gateway.twilio_webhooks import TwilioWebhooks, twilio_router
from operations import event_control
from operations.committee_control import UnknownPeopleError
from operations.mobilisation_reads import DepartmentNotMobilisedError, MobilisationReads
from store.database import Store

log = structlog.get_logger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
ICON_PATH = "/favicon.ico"
"""Where browsers look for a site's icon when a page names none, and where ours name it."""
HEALTH_PATH = "/healthz"
"""Ready when Temporal and the database answer: probes and health checks call it."""
UNREACHABLE = "injoignable"
API_DESCRIPTION = """API de Tocsin. Authentification : un jeton d'API (`tocsin token create`)
dans l'en-tête `Authorization: Bearer …`, ou la session de la console (cookie), auquel
cas toute requête qui modifie quelque chose porte aussi l'en-tête `X-CSRF-Token`
(valeur donnée par `GET /api/me`). Chaque opération indique les rôles qui y ont accès
(`x-roles`) : `staff` (permanence UNCCAS, tout), `representative` (représentant, ses
propres événements) et `ud` (union départementale, les événements de son département).
Les directeurs de CCAS/CIAS n'ont pas de compte : ils répondent
par SMS ou par les liens signés qu'ils reçoivent."""


class Health(BaseModel):
    status: str
    temporal: str
    database: str


def _install_error_handlers(app: FastAPI) -> None:
    """Every refusal as French JSON: 422 lists the problems, 404 and 409 say why."""

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = describe_errors(exc.errors())
        log.info("api.request_refused", path=request.url.path, problems=problems)
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": "requête refusée", "errors": problems},
        )

    @app.exception_handler(NotSignedInError)
    async def _not_signed_in(request: Request, exc: NotSignedInError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                status_code=status.HTTP_401_UNAUTHORIZED,
                content={"detail": str(exc)},
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            f"{LOGIN_PATH}?{urlencode({'next': target})}", status.HTTP_303_SEE_OTHER
        )

    @app.exception_handler(ForbiddenError)
    async def _forbidden(request: Request, exc: ForbiddenError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(status_code=status.HTTP_403_FORBIDDEN, content={"detail": str(exc)})
        return page("Accès refusé", f"<p>{html.escape(str(exc))}</p>", status.HTTP_403_FORBIDDEN)

    @app.exception_handler(event_control.DeclarationRefusedError)
    async def _refused(
        request: Request, exc: event_control.DeclarationRefusedError
    ) -> JSONResponse:
        log.info("api.declaration_refused", problems=exc.problems)
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": "requête refusée", "errors": exc.problems},
        )

    @app.exception_handler(event_control.EventNotFoundError)
    @app.exception_handler(DepartmentNotMobilisedError)
    async def _not_found(_: Request, exc: LookupError) -> JSONResponse:
        return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": str(exc)})

    @app.exception_handler(event_control.EventConflictError)
    async def _conflict(_: Request, exc: event_control.EventConflictError) -> JSONResponse:
        return JSONResponse(status_code=status.HTTP_409_CONFLICT, content={"detail": str(exc)})

    @app.exception_handler(event_control.UnknownContactError)
    @app.exception_handler(event_control.UnreachableContactError)
    @app.exception_handler(UnknownPeopleError)
    async def _bad_contact(_: Request, exc: Exception) -> JSONResponse:
        log.info("api.contact_refused", problem=str(exc))
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": "requête refusée", "errors": [str(exc)]},
        )


def create_app(
    client: Client,
    store: Store,
    task_queue: str,
    *,
    twilio_auth_token: str = "",
    public_url: str = "",
    link_secret: str = "",
    phone_simulator_sender: str | None = None,
    phone_simulator_carrier: str = "",
    definitions_dir: Path | None = None,
    trusted_proxies: Sequence[str] = (),
    temporal_ui_origins: Sequence[str] = (),
) -> FastAPI:
    """The gateway holds no state of its own: Temporal and the store are handed in.
    Twilio's webhooks are served only when an auth token can check their signature,
    answer links only when a secret can check theirs; the console's phone simulator
    only in the local sandbox, where its SMS come from ``phone_simulator_sender`` and
    its calls ring through the sandbox at ``phone_simulator_carrier``.
    A fiche with a problem stops it (``DefinitionsError``), as it stops a worker."""
    metrics = client_metrics(client)
    webhooks = (
        TwilioWebhooks(store, client, metrics, twilio_auth_token, public_url)
        if twilio_auth_token
        else None
    )

    fiches = load_fiches(definitions_dir)
    if fiches.problems:
        raise DefinitionsError(fiches.problems)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """The territory (35,000 communes) is loaded here, in a thread, so that no
        request loads it on the event loop."""
        await to_thread.run_sync(load_territory)
        async with (
            refreshing_open_events(store, metrics),
            refreshing_directory_freshness(store, metrics),
            webhooks.landing_parked_receipts() if webhooks else nullcontext(),
        ):
            yield

    app = FastAPI(
        title="Tocsin",
        summary="Coordination de crise du réseau UNCCAS",
        description=API_DESCRIPTION,
        version=version("tocsin"),
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    _install_error_handlers(app)
    guards = Guards.over(store)
    reads = MobilisationReads(client, store)
    pages = EventPages(client, store, reads, fiches)
    routers = [
        event_router(client, store, task_queue, guards),
        mobilisation_router(client, reads, guards),
        committee_router(client, store, guards),
        review_router(client, store, task_queue, guards),
        health_router(client, store),
        icon_router(),
        login_router(store, guards, secure_cookie=public_url.startswith("https://")),
        event_pages_router(pages, store, guards),
        event_actions_router(client, store, pages, guards),
        declaration_router(client, store, task_queue, guards),
        verification_router(client, store, task_queue, guards),
        fiche_router(fiches),
    ]
    if webhooks:
        routers.append(twilio_router(webhooks))
        routers.append(voice_router(VoiceWebhooks(store, webhooks, metrics, public_url)))
    app.state.phone_simulator = bool(twilio_auth_token) and phone_simulator_sender is not None
    if app.state.phone_simulator:
        routers.append(
            phone_simulator_router(
                store,
                guards,
                auth_token=twilio_auth_token,
                public_url=public_url,
                sender_id=phone_simulator_sender or "",
                carrier_url=phone_simulator_carrier,
            )
        )
    if link_secret:
        routers.append(answer_router(store, client, reads, metrics, link_secret))
        routers.append(questionnaire_router(store, client, link_secret))
        routers.append(directory_router(store, link_secret))
    for router in routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if (codec := client.data_converter.payload_codec) is not None:
        app.mount(CODEC_PATH, codec_app(store, codec, temporal_ui_origins))
    document_roles(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, https=public_url.startswith("https://"))
    trust_proxies(app, trusted_proxies)
    return app


def icon_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get(ICON_PATH)
    async def icon() -> FileResponse:
        """Open to all: the console's pages and the link pages show it."""
        return FileResponse(
            STATIC_DIR / "favicon.ico",
            media_type="image/x-icon",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return router


def _database_answers(store: Store) -> None:
    with store.session() as session:
        session.connection().execute(text("SELECT 1"))


def health_router(client: Client, store: Store) -> APIRouter:
    router = APIRouter(tags=["santé"])

    @router.get(HEALTH_PATH)
    async def health() -> JSONResponse:
        """Open to all, for load balancers and probes: which part fails, never why
        (a driver's message names addresses and users); the log says why."""
        temporal = "ok"
        try:
            await client.service_client.check_health()
        except Exception as error:
            log.warning("health.part_unreachable", part="temporal", error=str(error))
            temporal = UNREACHABLE
        database = "ok"
        try:
            await to_thread.run_sync(_database_answers, store)
        except Exception as error:
            log.warning("health.part_unreachable", part="database", error=str(error))
            database = UNREACHABLE
        healthy = temporal == "ok" and database == "ok"
        body = Health(status="ok" if healthy else "dégradé", temporal=temporal, database=database)
        code = status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE
        return JSONResponse(status_code=code, content=body.model_dump())

    return router
