"""The HTTP gateway's application: the REST API over events and a health check."""

from typing import Annotated

import structlog
from fastapi import APIRouter, Body, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from temporalio.client import Client

from definitions.crisis_log import CrisisLogEntry
from definitions.designation import RepresentativeChange
from definitions.event import CloseRequest, EventDeclaration
from definitions.event_status import EventStatus
from definitions.validation import describe_errors
from gateway import event_control
from gateway.answer_pages import answer_router
from gateway.api_common import API_ACTOR, EventIdPath
from gateway.committee_control import UnknownPeopleError
from gateway.committee_routes import committee_router
from gateway.mobilisation_reads import DepartmentNotMobilisedError, MobilisationReads
from gateway.mobilisation_routes import mobilisation_router
from gateway.questionnaire_pages import questionnaire_router
from gateway.review_routes import review_router
from gateway.twilio_webhooks import twilio_router
from store import events as stored_events
from store.database import Store

log = structlog.get_logger(__name__)


class EventCreated(BaseModel):
    event_id: str
    status_url: str


class CloseBody(BaseModel):
    reason: str = Field(default="", max_length=500)
    review: bool = Field(default=True, description="false : sans retour d'expérience")


class RepresentativeBody(BaseModel):
    contact_id: str = Field(min_length=1, max_length=64, description="identifiant dans l'annuaire")


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
) -> FastAPI:
    """The gateway holds no state of its own: Temporal and the store are handed in.
    Twilio's webhooks are served only when an auth token can check their signature,
    answer links only when a secret can check theirs."""
    app = FastAPI(
        title="Tocsin",
        summary="Coordination de crise du réseau UNCCAS",
        version="0.1.0",
    )

    _install_error_handlers(app)

    @app.post("/api/events", status_code=status.HTTP_201_CREATED)
    async def declare_event(declaration: EventDeclaration) -> EventCreated:
        event_id = await event_control.activate(client, task_queue, declaration, API_ACTOR)
        log.info("api.event_declared", event_id=event_id, type=declaration.type.value)
        return EventCreated(event_id=event_id, status_url=f"/api/events/{event_id}")

    @app.get("/api/events/{event_id}")
    async def event_status(event_id: EventIdPath) -> EventStatus:
        return await event_control.status(client, event_id)

    @app.get("/api/events/{event_id}/crisis-log")
    async def event_crisis_log(event_id: EventIdPath) -> list[CrisisLogEntry]:
        with store.session() as session:
            entries = stored_events.crisis_log(session, event_id)
        if not entries:
            raise event_control.EventNotFoundError(event_id)
        return entries

    @app.post("/api/events/{event_id}/close")
    async def close_event(
        event_id: EventIdPath, body: Annotated[CloseBody | None, Body()] = None
    ) -> EventStatus:
        body = body or CloseBody()
        request = CloseRequest(closed_by=API_ACTOR, reason=body.reason, review=body.review)
        closed = await event_control.close(client, event_id, request)
        log.info("api.event_closed", event_id=event_id)
        return closed

    @app.post("/api/events/{event_id}/representative")
    async def designate_representative(
        event_id: EventIdPath, body: RepresentativeBody
    ) -> EventStatus:
        """Designate this contact: ends a search, or hands over to them."""
        change = RepresentativeChange(contact_id=body.contact_id, requested_by=API_ACTOR)
        changed = await event_control.change_representative(client, store, event_id, change)
        log.info("api.representative_designated", event_id=event_id)
        return changed

    @app.post("/api/events/{event_id}/representative/search")
    async def search_representative(event_id: EventIdPath) -> EventStatus:
        """Hand over through a new search of the roster."""
        change = RepresentativeChange(requested_by=API_ACTOR)
        changed = await event_control.change_representative(client, store, event_id, change)
        log.info("api.representative_search", event_id=event_id)
        return changed

    @app.get("/healthz")
    async def health() -> JSONResponse:
        temporal = "ok"
        try:
            await client.service_client.check_health()
        except Exception as error:
            temporal = f"injoignable : {error}"
        database = "ok"
        try:
            with store.session() as session:
                session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        except Exception as error:
            database = f"injoignable : {error}"
        healthy = temporal == "ok" and database == "ok"
        body = Health(status="ok" if healthy else "dégradé", temporal=temporal, database=database)
        code = status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE
        return JSONResponse(status_code=code, content=body.model_dump())

    for router in _phase_routers(client, store, twilio_auth_token, public_url, link_secret):
        app.include_router(router)
    return app


def _phase_routers(
    client: Client, store: Store, twilio_auth_token: str, public_url: str, link_secret: str
) -> list[APIRouter]:
    reads = MobilisationReads(client)
    routers = [
        mobilisation_router(client, reads),
        committee_router(client, store),
        review_router(client, store),
    ]
    if twilio_auth_token:
        routers.append(twilio_router(store, client, twilio_auth_token, public_url))
    if link_secret:
        routers.append(answer_router(store, client, reads, link_secret))
        routers.append(questionnaire_router(store, client, link_secret))
    return routers
