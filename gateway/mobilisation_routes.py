"""The API of an event's mobilisation: every centre's state, overall counts,
situation reports, alert levels and extensions of the area."""

from typing import Annotated

import structlog
from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, Field
from temporalio.client import Client

from definitions.alert_levels import AlertLevelChange
from definitions.event import DEPARTMENT_CODE
from definitions.event_status import EventStatus
from definitions.mobilisation import (
    SITUATION_REPORT_MAX_LENGTH,
    AreaExtension,
    CentreSupport,
    MobilisationOverview,
    MobilisationStatus,
    SituationReport,
)
from gateway.access import CallerOf, ForbiddenError, Guards
from gateway.api_common import EventIdPath, announce_next_page
from operations import event_control
from operations.mobilisation_reads import MobilisationReads

log = structlog.get_logger(__name__)

DepartmentPath = Annotated[str, Path(pattern=DEPARTMENT_CODE.pattern)]
OrganisationIdPath = Annotated[str, Path(min_length=1, max_length=64)]
DEPARTMENTS_MAX = 200
LIMIT = "départements par page"
CURSOR = "curseur : l'en-tête X-Next-After de la page précédente (un code de département)"


class BroadcastBody(BaseModel):
    text: str = Field(
        min_length=1, max_length=SITUATION_REPORT_MAX_LENGTH, description="le point de situation"
    )


class AlertLevelBody(BaseModel):
    level: str = Field(
        pattern=r"^[a-z_]+$", max_length=40, description="un niveau du protocole, ex. alerte_rouge"
    )


class AreaBody(BaseModel):
    communes: list[str] = Field(default_factory=list, max_length=40_000)
    departments: list[str] = Field(default_factory=list, max_length=120)


def mobilisation_router(client: Client, reads: MobilisationReads, guards: Guards) -> APIRouter:
    router = APIRouter(prefix="/api/events", tags=["mobilisation"])

    @router.get("/{event_id}/mobilisation", dependencies=[guards.event_member])
    async def event_mobilisation(
        event_id: EventIdPath,
        response: Response,
        caller: CallerOf,
        *,
        department: str | None = None,
        limit: Annotated[int | None, Query(ge=1, le=DEPARTMENTS_MAX, description=LIMIT)] = None,
        after: Annotated[
            str | None, Query(pattern=DEPARTMENT_CODE.pattern, description=CURSOR)
        ] = None,
    ) -> list[MobilisationStatus]:
        """Every centre's support request and answer, per department (a departmental
        union's own only); with ``limit``, one page of departments: their number in
        X-Total-Count, the next page's cursor in X-Next-After (and a Link)."""
        within = caller.department_scope
        if limit is None:
            departments = await reads.departments(event_id, department, within=within)
            response.headers["X-Total-Count"] = str(len(departments))
            return departments
        page = await reads.department_page(event_id, after, limit, department, within=within)
        response.headers["X-Total-Count"] = str(page.total)
        if page.next_after is not None:
            query = {"limit": str(limit)} | ({"department": department} if department else {})
            path = f"/api/events/{event_id}/mobilisation"
            announce_next_page(response, path, query, page.next_after)
        return page.departments

    @router.get("/{event_id}/mobilisation/counts", dependencies=[guards.event_member])
    async def event_mobilisation_counts(
        event_id: EventIdPath, caller: CallerOf
    ) -> MobilisationOverview:
        return await reads.overview(event_id, within=caller.department_scope)

    @router.get(
        "/{event_id}/mobilisation/{department}/centres/{organisation_id}",
        dependencies=[guards.event_member],
    )
    async def event_centre(
        event_id: EventIdPath,
        department: DepartmentPath,
        organisation_id: OrganisationIdPath,
        caller: CallerOf,
    ) -> CentreSupport:
        """One centre's support request and answer, as its department holds it now."""
        if caller.department_scope not in (None, department):
            raise ForbiddenError("ce département n'est pas le vôtre")
        centre = await reads.event_centre(event_id, department, organisation_id)
        if centre is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                f"aucune demande de soutien pour {organisation_id} dans le département "
                f"{department}",
            )
        return centre

    @router.post("/{event_id}/broadcast", dependencies=[guards.event_actor])
    async def broadcast(
        event_id: EventIdPath, body: BroadcastBody, caller: CallerOf
    ) -> EventStatus:
        """A point de situation by SMS to every mobilised CCAS/CIAS of the event."""
        report = SituationReport(text=body.text, author=caller.actor)
        updated = await event_control.broadcast(client, event_id, report)
        log.info("api.broadcast", event_id=event_id, length=len(body.text))
        return updated

    @router.post("/{event_id}/alert-level", dependencies=[guards.event_actor])
    async def change_alert_level(
        event_id: EventIdPath, body: AlertLevelBody, caller: CallerOf
    ) -> EventStatus:
        """The alert level the prefecture announced (a cyclone): its instructions go by
        SMS to every mobilised CCAS/CIAS of the event."""
        change = AlertLevelChange(level=body.level, changed_by=caller.actor)
        updated = await event_control.change_alert_level(client, event_id, change)
        log.info("api.alert_level_changed", event_id=event_id, level=body.level)
        return updated

    @router.post("/{event_id}/area", dependencies=[guards.staff])
    async def extend_area(event_id: EventIdPath, body: AreaBody, caller: CallerOf) -> EventStatus:
        """Add communes or departments; only the newly competent centres are mobilised."""
        extension = AreaExtension(
            communes=body.communes, departments=body.departments, requested_by=caller.actor
        )
        updated = await event_control.extend(client, event_id, extension)
        log.info("api.area_extended", event_id=event_id)
        return updated

    return router
