"""The directory's verification for staff: start a campaign from the API or the
console, and read each department's freshness as data or as the console's page."""

from functools import partial
from typing import Annotated

import structlog
from anyio import to_thread
from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from pydantic import BaseModel, Field
from temporalio.client import Client

from definitions.directory import OrganisationKind
from definitions.directory_verification import VERIFIED_KINDS, DepartmentFreshness
from definitions.territory import load_territory
from gateway.access import Guards
from gateway.console.freshness_map import freshness_map
from gateway.console.pages import render
from operations import directory_verification
from store.database import Store

log = structlog.get_logger(__name__)

DepartmentQuery = Annotated[str | None, Query(max_length=3, pattern=r"^[0-9AB]{2,3}$")]


class CampaignRequest(BaseModel):
    departments: list[str] = Field(default_factory=list, max_length=120)
    kinds: list[OrganisationKind] = Field(default_factory=list)


class CampaignStarted(BaseModel):
    workflow_id: str


def directory_router(client: Client, store: Store, task_queue: str, guards: Guards) -> APIRouter:
    router = APIRouter(tags=["annuaire"])

    async def start(request: CampaignRequest) -> str:
        unverified = [kind.value for kind in request.kinds if kind not in VERIFIED_KINDS]
        if unverified:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"type non vérifié : {', '.join(unverified)}",
            )
        try:
            handle = await directory_verification.start(
                client, task_queue, request.departments, request.kinds, "api"
            )
        except directory_verification.UnknownDepartmentError as error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
        log.info("api.verification_started", workflow_id=handle.id)
        return handle.id

    @router.post(
        "/api/directory/verifications",
        status_code=status.HTTP_202_ACCEPTED,
        dependencies=[guards.staff],
    )
    async def start_campaign(body: CampaignRequest) -> CampaignStarted:
        """Lance une campagne de vérification de l'annuaire (départements et types
        donnés, sinon toute la France et tous les types vérifiés)."""
        return CampaignStarted(workflow_id=await start(body))

    @router.get("/api/directory/freshness", dependencies=[guards.staff])
    async def freshness(department: DepartmentQuery = None) -> list[DepartmentFreshness]:
        """Par département, la part des structures confirmées depuis moins de six
        mois et les structures à vérifier, du moins frais au plus frais."""
        return await to_thread.run_sync(directory_verification.freshness, store, department)

    def page(request: Request, notice: str = "", error: str = "", code: int = 200) -> HTMLResponse:
        table = directory_verification.freshness(store)
        return render(
            request,
            "console/directory.html",
            table=table,
            freshness_map=Markup(freshness_map(table, load_territory())),
            notice=notice,
            error=error,
            status_code=code,
        )

    @router.get("/annuaire", response_class=HTMLResponse, dependencies=[guards.staff])
    async def directory_page(request: Request) -> HTMLResponse:
        return await to_thread.run_sync(page, request)

    @router.post(
        "/annuaire/verification",
        response_class=HTMLResponse,
        dependencies=[guards.staff],
        include_in_schema=False,
    )
    async def start_from_console(
        request: Request, department: Annotated[str, Form(max_length=3)] = ""
    ) -> HTMLResponse:
        scope = [department.strip().upper()] if department.strip() else []
        try:
            workflow_id = await start(CampaignRequest(departments=scope))
        except HTTPException as refused:
            shown = partial(page, request, error=str(refused.detail), code=refused.status_code)
            return await to_thread.run_sync(shown)
        notice = f"Campagne de vérification lancée : {workflow_id}."
        return await to_thread.run_sync(partial(page, request, notice=notice))

    return router
