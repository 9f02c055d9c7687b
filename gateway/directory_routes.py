"""The directory's verification: staff start a campaign from the API or the
console; staff, and a departmental union for its own department, read each
department's freshness and who has not answered the latest campaign, as data or
as the console's page."""

import re
from collections.abc import Callable, Sequence
from functools import partial
from typing import Annotated

import structlog
from anyio import to_thread
from fastapi import APIRouter, Form, HTTPException, Path, Query, Request, status
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from pydantic import BaseModel, Field, ValidationError
from temporalio.client import Client

from definitions.directory import OrganisationKind
from definitions.directory_verification import VERIFIED_KINDS, DepartmentFreshness
from definitions.event import DEPARTMENT_CODE
from definitions.territory import load_territory
from gateway.access import Caller, CallerOf, ForbiddenError, Guards, caller_of
from gateway.console.freshness_map import freshness_map
from gateway.console.pages import render
from gateway.console.paging import PageQuery, Paging
from operations import directory_verification
from store.database import Store

log = structlog.get_logger(__name__)

DepartmentQuery = Annotated[str | None, Query(max_length=3, pattern=DEPARTMENT_CODE.pattern)]
DepartmentPath = Annotated[str, Path(max_length=3, pattern=DEPARTMENT_CODE.pattern)]
ROWS_PER_PAGE = 100
KIND_LABELS = {
    OrganisationKind.CCAS: "CCAS",
    OrganisationKind.CIAS: "CIAS",
    OrganisationKind.UD: "unions départementales (UD)",
    OrganisationKind.PREFECTURE: "préfectures",
}
UNANSWERED_SHOWN = 20


class CampaignRequest(BaseModel):
    departments: list[str] = Field(default_factory=list, max_length=120)
    kinds: list[OrganisationKind] = Field(default_factory=list)


class CampaignStarted(BaseModel):
    workflow_id: str


def _stale(row: DepartmentFreshness) -> Sequence[BaseModel]:
    return row.stale


def _silent(row: DepartmentFreshness) -> Sequence[BaseModel]:
    return row.campaign.unanswered if row.campaign else []


def _within(caller: Caller, department: str | None) -> str | None:
    """The department to read: a UD's own (and no other), else the one asked, if any."""
    own = caller.department_scope
    if own is not None and department not in (None, own):
        raise ForbiddenError("ce département n'est pas le vôtre")
    return department or own


def _campaign_request(departments: str, kinds: list[str]) -> CampaignRequest:
    """The console's form: department codes separated by spaces or commas, and the
    kinds ticked (none: every kind verified)."""
    known = {kind.value for kind in OrganisationKind}
    unknown = [kind for kind in kinds if kind not in known]
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"type inconnu : {', '.join(unknown)}"
        )
    codes = [code for code in re.split(r"[\s,;]+", departments.upper()) if code]
    try:
        return CampaignRequest(departments=codes, kinds=[OrganisationKind(kind) for kind in kinds])
    except ValidationError as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "trop de départements : 120 au plus"
        ) from error


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

    @router.get("/api/directory/freshness", dependencies=[guards.own_department])
    async def freshness(
        caller: CallerOf, department: DepartmentQuery = None
    ) -> list[DepartmentFreshness]:
        """Par département, la part des structures confirmées depuis moins de six
        mois, les structures à vérifier, du moins frais au plus frais, et celles qui
        n'ont pas répondu à la dernière campagne (une union départementale : son
        département seulement)."""
        within = _within(caller, department)
        return await to_thread.run_sync(directory_verification.freshness, store, within)

    def page(request: Request, notice: str = "", error: str = "", code: int = 200) -> HTMLResponse:
        within = _within(caller_of(request), None)
        table = directory_verification.freshness(store, within)
        return render(
            request,
            "console/directory.html",
            table=table,
            freshness_map=Markup(freshness_map(table, load_territory(), within)),
            within=within,
            kinds=KIND_LABELS,
            unanswered_shown=UNANSWERED_SHOWN,
            notice=notice,
            error=error,
            status_code=code,
        )

    @router.get("/annuaire", response_class=HTMLResponse, dependencies=[guards.own_department])
    async def directory_page(request: Request) -> HTMLResponse:
        return await to_thread.run_sync(page, request)

    def department_row(caller: Caller, department: str) -> tuple[DepartmentFreshness, str]:
        """One department's freshness, and its name; 404 without any organisation."""
        rows = directory_verification.freshness(store, _within(caller, department))
        if not rows:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"aucune structure du département {department}"
            )
        known = load_territory().department(department)
        return rows[0], known.name if known else department

    async def department_list(
        request: Request,
        caller: Caller,
        department: str,
        page: int,
        *,
        template: str,
        listed: Callable[[DepartmentFreshness], Sequence[BaseModel]],
    ) -> HTMLResponse:
        """One page of a department's organisations to verify, or silent ones."""
        row, name = await to_thread.run_sync(department_row, caller, department)
        rows = listed(row)
        paging = Paging(len(rows), ROWS_PER_PAGE, page)
        return render(
            request, template, row=row, name=name, paging=paging, shown=paging.shown(rows)
        )

    @router.get(
        "/annuaire/departements/{department}",
        response_class=HTMLResponse,
        dependencies=[guards.own_department],
        include_in_schema=False,
    )
    async def stale_page(
        request: Request, department: DepartmentPath, caller: CallerOf, page: PageQuery = 1
    ) -> HTMLResponse:
        """Every organisation of a department to verify, where /annuaire names the
        first few."""
        return await department_list(
            request,
            caller,
            department,
            page,
            template="console/directory_stale.html",
            listed=_stale,
        )

    @router.get(
        "/annuaire/departements/{department}/sans-reponse",
        response_class=HTMLResponse,
        dependencies=[guards.own_department],
        include_in_schema=False,
    )
    async def silent_page(
        request: Request, department: DepartmentPath, caller: CallerOf, page: PageQuery = 1
    ) -> HTMLResponse:
        """Every organisation of a department silent to the latest campaign there."""
        return await department_list(
            request,
            caller,
            department,
            page,
            template="console/directory_silent.html",
            listed=_silent,
        )

    @router.post(
        "/annuaire/verification",
        response_class=HTMLResponse,
        dependencies=[guards.staff],
        include_in_schema=False,
    )
    async def start_from_console(
        request: Request,
        departments: Annotated[str, Form(max_length=500)] = "",
        kinds: Annotated[list[str] | None, Form()] = None,
    ) -> HTMLResponse:
        try:
            workflow_id = await start(_campaign_request(departments, kinds or []))
        except HTTPException as refused:
            shown = partial(page, request, error=str(refused.detail), code=refused.status_code)
            return await to_thread.run_sync(shown)
        notice = f"Campagne de vérification lancée : {workflow_id}."
        return await to_thread.run_sync(partial(page, request, notice=notice))

    return router
