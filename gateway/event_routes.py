"""The API of events themselves: list, declare, read, designate, close."""

from datetime import datetime
from typing import Annotated

import structlog
from anyio import to_thread
from fastapi import APIRouter, Body, Query, Response, status
from pydantic import BaseModel, Field
from temporalio.client import Client

from definitions.accounts import Account
from definitions.crisis_log import CrisisLogEntry
from definitions.designation import RepresentativeChange
from definitions.event import CloseRequest, EventDeclaration
from definitions.event_status import EventStatus
from gateway.access import CallerOf, ForbiddenError, Guards
from gateway.api_common import EventIdPath, announce_next_page
from operations import event_control, ud_declarations
from operations.crisis_log_export import CSV_TYPE, PDF_TYPE, LogExport
from store import accounts
from store import events as stored_events
from store.database import Store

log = structlog.get_logger(__name__)

PAGE_MAX = 5_000
LIMIT = "lignes par page"
CURSOR = "curseur : l'en-tête X-Next-After de la page précédente"


class EventSummary(BaseModel):
    event_id: str
    type: str
    title: str
    exercise: bool
    phase: str
    declared_at: datetime
    closed_at: datetime | None


class EventCreated(BaseModel):
    event_id: str
    status_url: str


class CloseBody(BaseModel):
    reason: str = Field(default="", max_length=500)
    review: bool = Field(default=True, description="false : sans retour d'expérience")


class RepresentativeBody(BaseModel):
    contact_id: str = Field(min_length=1, max_length=64, description="identifiant dans l'annuaire")


class Me(Account):
    csrf_token: str | None = None


def _crisis_log(
    store: Store,
    event_id: str,
    response: Response,
    limit: int | None,
    after: int,
    *,
    within: str | None,
) -> list[CrisisLogEntry]:
    with store.session() as session:
        if limit is None:
            entries = stored_events.crisis_log(session, event_id, within=within)
            total = len(entries)
        else:
            page = stored_events.crisis_log_page(session, event_id, after, limit, within)
            entries = [entry for _, entry in page]
            total = stored_events.crisis_log_count(session, event_id, within)
            if len(page) == limit:
                path = f"/api/events/{event_id}/crisis-log"
                announce_next_page(response, path, {"limit": str(limit)}, str(page[-1][0]))
    if not total:
        raise event_control.EventNotFoundError(event_id)
    response.headers["X-Total-Count"] = str(total)
    return entries


def _exported(store: Store, event_id: str, within: str | None) -> LogExport:
    export = LogExport.read(store, event_id, within)
    if export is None:
        raise event_control.EventNotFoundError(event_id)
    return export


def _attachment(body: bytes, media_type: str, name: str) -> Response:
    disposition = f'attachment; filename="{name}"'
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


def event_router(client: Client, store: Store, task_queue: str, guards: Guards) -> APIRouter:
    router = APIRouter(tags=["événements"])

    @router.get("/api/me", dependencies=[guards.anyone])
    async def me(caller: CallerOf) -> Me:
        """Who the session or token signs in; a script reads its CSRF token here."""
        return Me(**caller.account.model_dump(), csrf_token=caller.csrf_token)

    @router.get("/api/events", dependencies=[guards.anyone])
    def list_events(caller: CallerOf) -> list[EventSummary]:
        """Active events first, newest first; a representative sees only theirs, a
        departmental union those of its department."""
        with store.session() as session:
            rows = accounts.visible_events(session, caller.account)
        return [EventSummary(event_id=row.id, **row.model_dump(exclude={"id"})) for row in rows]

    @router.post(
        "/api/events", status_code=status.HTTP_201_CREATED, dependencies=[guards.own_department]
    )
    async def declare_event(declaration: EventDeclaration, caller: CallerOf) -> EventCreated:
        """A departmental union declares only within its own department; on-call
        staff are told at once of a real event it declares."""
        refused = await to_thread.run_sync(ud_declarations.refusal, caller.account, declaration)
        if refused:
            raise ForbiddenError(refused)
        event_id = await event_control.activate(client, task_queue, declaration, caller.actor)
        await ud_declarations.declared(client, task_queue, event_id, declaration, caller.account)
        log.info("api.event_declared", event_id=event_id, type=declaration.type.value)
        return EventCreated(event_id=event_id, status_url=f"/api/events/{event_id}")

    @router.get("/api/events/{event_id}", dependencies=[guards.event_member])
    async def event_status(event_id: EventIdPath) -> EventStatus:
        return await event_control.status(client, event_id)

    @router.get("/api/events/{event_id}/crisis-log", dependencies=[guards.event_member])
    def event_crisis_log(
        event_id: EventIdPath,
        response: Response,
        caller: CallerOf,
        limit: Annotated[int | None, Query(ge=1, le=PAGE_MAX, description=LIMIT)] = None,
        after: Annotated[int, Query(ge=0, description=CURSOR)] = 0,
    ) -> list[CrisisLogEntry]:
        """The crisis log, oldest first; with ``limit``, one page of it: the total is
        in X-Total-Count, the next page's cursor in X-Next-After (and a Link). A
        departmental union reads no line about another department or its centres."""
        return _crisis_log(store, event_id, response, limit, after, within=caller.department_scope)

    @router.get(
        "/api/events/{event_id}/crisis-log.csv",
        dependencies=[guards.event_member],
        response_class=Response,
        responses={200: {"content": {"text/csv": {}}}},
    )
    def crisis_log_csv(event_id: EventIdPath, caller: CallerOf) -> Response:
        """The whole crisis log, one row per entry: time in Paris, author, kind, text."""
        export = _exported(store, event_id, caller.department_scope)
        return _attachment(export.csv(), CSV_TYPE, f"main-courante-{event_id}.csv")

    @router.get(
        "/api/events/{event_id}/crisis-log.pdf",
        dependencies=[guards.event_member],
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}},
    )
    def crisis_log_pdf(event_id: EventIdPath, caller: CallerOf) -> Response:
        """The whole crisis log as a paginated PDF, for the préfecture and the DIAV."""
        export = _exported(store, event_id, caller.department_scope)
        return _attachment(export.pdf(), PDF_TYPE, f"main-courante-{event_id}.pdf")

    @router.post("/api/events/{event_id}/close", dependencies=[guards.staff])
    async def close_event(
        event_id: EventIdPath, caller: CallerOf, body: Annotated[CloseBody | None, Body()] = None
    ) -> EventStatus:
        body = body or CloseBody()
        request = CloseRequest(closed_by=caller.actor, reason=body.reason, review=body.review)
        closed = await event_control.close(client, event_id, request)
        log.info("api.event_closed", event_id=event_id)
        return closed

    @router.post("/api/events/{event_id}/representative", dependencies=[guards.staff])
    async def designate_representative(
        event_id: EventIdPath, body: RepresentativeBody, caller: CallerOf
    ) -> EventStatus:
        """Designate this contact: ends a search, or hands over to them."""
        change = RepresentativeChange(contact_id=body.contact_id, requested_by=caller.actor)
        changed = await event_control.change_representative(client, store, event_id, change)
        log.info("api.representative_designated", event_id=event_id)
        return changed

    @router.post("/api/events/{event_id}/representative/search", dependencies=[guards.staff])
    async def search_representative(event_id: EventIdPath, caller: CallerOf) -> EventStatus:
        """Hand over through a new search of the roster."""
        change = RepresentativeChange(requested_by=caller.actor)
        changed = await event_control.change_representative(client, store, event_id, change)
        log.info("api.representative_search", event_id=event_id)
        return changed

    return router
