"""The API of the after-action review (status, action plan, the report in HTML and
PDF) and the guide of good practice per event type, as a page and as data."""

from pathlib import Path
from typing import Annotated

import structlog
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import Field
from temporalio.client import Client

from definitions.committee import in_paris
from definitions.event_type import EventType
from definitions.review import GuideEntry, PlannedAction, ReviewStatus
from gateway import event_control, review_control
from gateway.api_common import API_ACTOR, EventIdPath
from store import reviews
from store.database import Store
from store.tables import ReviewReportRow

log = structlog.get_logger(__name__)

PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
NO_REPORT = "le rapport de retour d'expérience n'est pas encore établi"


class PlannedActionBody(PlannedAction):
    planned_by: str = Field(default=API_ACTOR, min_length=1, max_length=100)


def guide_page(event_type: EventType, entries: list[GuideEntry]) -> str:
    return PAGES.get_template("guide.html").render(
        type_label=event_type.label, types=list(EventType), entries=entries, when=in_paris
    )


def review_router(client: Client, store: Store) -> APIRouter:
    router = APIRouter(tags=["retour d'expérience"])

    def stored_report(event_id: str) -> ReviewReportRow:
        with store.session() as session:
            report = reviews.report(session, event_id)
        if report is None:
            raise event_control.EventConflictError(NO_REPORT)
        return report

    @router.get("/api/events/{event_id}/review")
    async def review_status(event_id: EventIdPath) -> ReviewStatus:
        return await review_control.status(client, event_id)

    @router.post("/api/events/{event_id}/review/actions")
    async def plan_action(event_id: EventIdPath, body: PlannedActionBody) -> ReviewStatus:
        planned = await review_control.plan_action(client, store, event_id, body)
        log.info("api.action_planned", event_id=event_id)
        return planned

    @router.get("/api/events/{event_id}/review/report.html", response_class=HTMLResponse)
    async def report_html(event_id: EventIdPath) -> HTMLResponse:
        return HTMLResponse(stored_report(event_id).html)

    @router.get("/api/events/{event_id}/review/report.pdf")
    async def report_pdf(event_id: EventIdPath) -> Response:
        return Response(
            stored_report(event_id).pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="retex-{event_id}.pdf"'},
        )

    @router.get("/api/guide/{event_type}")
    async def guide_data(event_type: EventType) -> list[GuideEntry]:
        with store.session() as session:
            return reviews.guide(session, event_type.value)

    @router.get("/guide", response_class=HTMLResponse)
    async def guide(
        event_type: Annotated[EventType, Query(alias="type")] = EventType.ATTENTAT,
    ) -> HTMLResponse:
        with store.session() as session:
            entries = reviews.guide(session, event_type.value)
        return HTMLResponse(guide_page(event_type, entries))

    return router
