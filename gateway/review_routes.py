"""The API of the after-action review (status, action plan, the report in HTML and
PDF) and the guide of good practice per event type, as a page and as data."""

from typing import Annotated

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from temporalio.client import Client

from definitions.event_type import EventType
from definitions.review import GuideEntry, PlannedAction, ReviewStatus
from gateway.access import CallerOf, Guards
from gateway.api_common import Actor, EventIdPath, acted_by
from gateway.console.pages import render
from operations import event_control, review_control
from store import guide_editions, reviews
from store.database import Store
from store.tables import ReviewReportRow

log = structlog.get_logger(__name__)

REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
NO_REPORT = "le rapport de retour d'expérience n'est pas encore établi"


class PlannedActionBody(PlannedAction):
    planned_by: Actor = ""


def review_router(client: Client, store: Store, guards: Guards) -> APIRouter:
    router = APIRouter(tags=["retour d'expérience"])

    def stored_report(event_id: str) -> ReviewReportRow:
        with store.session() as session:
            report = reviews.report(session, event_id)
        if report is None:
            raise event_control.EventConflictError(NO_REPORT)
        return report

    @router.get("/api/events/{event_id}/review", dependencies=[guards.event_member])
    async def review_status(event_id: EventIdPath) -> ReviewStatus:
        return await review_control.status(client, event_id)

    @router.post("/api/events/{event_id}/review/actions", dependencies=[guards.event_member])
    async def plan_action(
        event_id: EventIdPath, body: PlannedActionBody, caller: CallerOf
    ) -> ReviewStatus:
        action = acted_by(body, "planned_by", caller)
        planned = await review_control.plan_action(client, store, event_id, action)
        log.info("api.action_planned", event_id=event_id)
        return planned

    @router.get(
        "/api/events/{event_id}/review/report.html",
        response_class=HTMLResponse,
        dependencies=[guards.event_member],
    )
    def report_html(event_id: EventIdPath) -> HTMLResponse:
        """Served with its own policy: the stored report carries its styles inline."""
        return HTMLResponse(
            stored_report(event_id).html, headers={"Content-Security-Policy": REPORT_POLICY}
        )

    @router.get("/api/events/{event_id}/review/report.pdf", dependencies=[guards.event_member])
    def report_pdf(event_id: EventIdPath) -> Response:
        return Response(
            stored_report(event_id).pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="retex-{event_id}.pdf"'},
        )

    @router.get("/api/guide/{event_type}", dependencies=[guards.anyone])
    def guide_data(event_type: EventType) -> list[GuideEntry]:
        with store.session() as session:
            return reviews.guide(session, event_type.value)

    @router.get("/guide", response_class=HTMLResponse, dependencies=[guards.anyone])
    def guide(
        request: Request,
        event_type: Annotated[EventType, Query(alias="type")] = EventType.ATTENTAT,
    ) -> HTMLResponse:
        with store.session() as session:
            entries = reviews.guide(session, event_type.value)
            editions = guide_editions.editions(session, event_type)
        return render(
            request,
            "guide.html",
            type_label=event_type.label,
            type_value=event_type.value,
            types=list(EventType),
            entries=entries,
            editions=editions,
        )

    @router.get("/guide/editions/{event_type}/{number}.pdf", dependencies=[guards.anyone])
    def edition_pdf(event_type: EventType, number: int) -> Response:
        """Un numéro diffusé du guide, tel qu'il a été envoyé."""
        with store.session() as session:
            pdf = guide_editions.pdf(session, event_type, number)
        if pdf is None:
            raise LookupError(f"pas d'édition n°{number} du guide {event_type.label}")
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": (
                    f'inline; filename="guide-{event_type.value}-edition-{number}.pdf"'
                )
            },
        )

    return router
