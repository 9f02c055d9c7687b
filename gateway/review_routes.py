"""The API of the after-action review (status, action plan, the report in HTML and
PDF) and the guide of good practice per event type, as a page and as data, with its
diffused editions and the console's form that diffuses a new one."""

from functools import partial
from typing import Annotated

import structlog
from anyio import to_thread
from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from temporalio.client import Client

from definitions.event_type import EventType
from definitions.review import GuideEntry, PlannedAction, ReviewStatus
from gateway.access import CallerOf, Guards
from gateway.api_common import Actor, EventIdPath, acted_by
from gateway.console.pages import render
from operations import event_control, guide_control, review_control
from store import guide_editions, reviews
from store.database import Store
from store.tables import ReviewReportRow

log = structlog.get_logger(__name__)

REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
NO_REPORT = "le rapport de retour d'expérience n'est pas encore établi"


class PlannedActionBody(PlannedAction):
    planned_by: Actor = ""


def review_router(client: Client, store: Store, task_queue: str, guards: Guards) -> APIRouter:
    router = APIRouter(tags=["retour d'expérience"])

    def stored_report(event_id: str) -> ReviewReportRow:
        with store.session() as session:
            report = reviews.report(session, event_id)
        if report is None:
            raise event_control.EventConflictError(NO_REPORT)
        return report

    @router.get("/api/events/{event_id}/review", dependencies=[guards.event_actor])
    async def review_status(event_id: EventIdPath) -> ReviewStatus:
        return await review_control.status(client, event_id)

    @router.post("/api/events/{event_id}/review/actions", dependencies=[guards.event_actor])
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
        dependencies=[guards.event_actor],
    )
    def report_html(event_id: EventIdPath) -> HTMLResponse:
        """Served with its own policy: the stored report carries its styles inline."""
        return HTMLResponse(
            stored_report(event_id).html, headers={"Content-Security-Policy": REPORT_POLICY}
        )

    @router.get("/api/events/{event_id}/review/report.pdf", dependencies=[guards.event_actor])
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

    def guide_page(
        request: Request,
        event_type: EventType,
        notice: str = "",
        error: str = "",
        status_code: int = status.HTTP_200_OK,
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
            notice=notice,
            error=error,
            status_code=status_code,
        )

    @router.get("/guide", response_class=HTMLResponse, dependencies=[guards.anyone])
    def guide(
        request: Request,
        event_type: Annotated[EventType, Query(alias="type")] = EventType.ATTENTAT,
    ) -> HTMLResponse:
        return guide_page(request, event_type)

    @router.post(
        "/guide/diffusion",
        response_class=HTMLResponse,
        dependencies=[guards.staff],
        include_in_schema=False,
    )
    async def diffuse(
        request: Request,
        event_type: Annotated[EventType, Form(alias="type")],
        department: Annotated[str, Form(max_length=3)] = "",
    ) -> HTMLResponse:
        """Started, not awaited: the editions list shows it once made."""
        scope = department.strip().upper() or None
        try:
            await guide_control.start(client, task_queue, event_type, scope)
        except guide_control.UnknownDepartmentError as error:
            return await to_thread.run_sync(
                partial(
                    guide_page,
                    request,
                    event_type,
                    error=str(error),
                    status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                )
            )
        reach = f"du département {scope}" if scope else "de tout le réseau"
        log.info("console.guide_diffusion", event_type=event_type.value, department=scope)
        notice = f"Diffusion du guide lancée vers les CCAS/CIAS et l'UD {reach}."
        return await to_thread.run_sync(partial(guide_page, request, event_type, notice=notice))

    @router.get("/guide/editions/{event_type}/{number}.pdf", dependencies=[guards.anyone])
    def edition_pdf(event_type: EventType, number: int) -> Response:
        """Un numéro diffusé du guide, tel qu'il a été envoyé."""
        with store.session() as session:
            pdf = guide_editions.pdf(session, event_type, number)
        if pdf is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"pas d'édition n°{number} du guide {event_type.label}"
            )
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
