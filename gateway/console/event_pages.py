"""The console's reading pages: the events list and an event's page, whose parts
(situation, crisis log, map, the actions its phase allows) refresh themselves
while it stays open."""

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from temporalio.client import Client

from definitions.committee import CommitteeStatus
from definitions.competence import TerritoryResolution, resolve_competence
from definitions.crisis_log import CrisisLogEntry
from definitions.directory import Contact
from definitions.event import EventDeclaration, Phase
from definitions.event_status import EventStatus
from definitions.fiches import FicheLibrary
from definitions.mobilisation import CentreSupport, MobilisationStatus, SupportCounts
from definitions.territory import load_territory
from definitions.territory.declared_area import affected_communes
from gateway.access import CallerOf, Guards, caller_of
from gateway.api_common import EventIdPath
from gateway.console.event_map import live_map
from gateway.console.pages import render
from gateway.console.paging import PageQuery, Paging
from operations import committee_control, event_control
from operations.mobilisation_reads import MobilisationReads
from store import accounts, directory, events
from store.database import Store
from store.tables import EventRow

CENTRES_PER_PAGE = 200
TIMELINE_LINES = 200
LOG_LINES_PER_PAGE = 200
AREA_FIELDS = {"type", "title", "communes", "departments"}
DONE = {
    "representant": "Représentant désigné.",
    "recherche": "Nouvelle recherche du représentant lancée.",
    "point-de-situation": "Point de situation diffusé aux CCAS/CIAS mobilisés.",
    "niveau-alerte": "Niveau d'alerte enregistré : ses consignes partent aux CCAS/CIAS mobilisés.",
    "extension": "Zone étendue : les nouveaux CCAS/CIAS compétents sont sollicités.",
    "reunion": "Réunion enregistrée : les invitations partent.",
    "cloture": "Clôture enregistrée.",
}


@dataclass
class Situation:
    """What the event's page shows of the workflows, read afresh at each refresh."""

    status: EventStatus
    departments: list[MobilisationStatus] = field(default_factory=list)
    committee: CommitteeStatus | None = None
    centre_page: int = 1

    @property
    def total(self) -> SupportCounts:
        return SupportCounts.of([c for d in self.departments for c in d.centres])

    @property
    def centre_paging(self) -> Paging:
        total = sum(len(department.centres) for department in self.departments)
        return Paging(total, CENTRES_PER_PAGE, self.centre_page)

    @property
    def centres_shown(self) -> list[tuple[str, CentreSupport]]:
        """The centres of the page asked for, department by department."""
        rows = [
            (department.department_code, centre)
            for department in self.departments
            for centre in department.centres
        ]
        return self.centre_paging.shown(rows)


@lru_cache(maxsize=16)
def _resolution(store: Store, area: str) -> TerritoryResolution:
    """Which centre serves which affected commune; kept while the area stays the same."""
    territory = load_territory()
    declaration = EventDeclaration.model_validate_json(area)
    with store.session() as session:
        organisations = directory.organisations(session)
    return resolve_competence(affected_communes(declaration, territory), organisations, territory)


class EventPages:
    """What the event's pages show. The store is read in threads: the workflows'
    side is awaited, the store's side must not hold up the event loop."""

    def __init__(
        self, client: Client, store: Store, reads: MobilisationReads, fiches: FicheLibrary
    ) -> None:
        self._client = client
        self._store = store
        self._reads = reads
        self._fiches = fiches

    async def situation(self, event_id: str, within: str | None, centre_page: int = 1) -> Situation:
        """``within``: a departmental union's department, the only one it reads of an
        event that spreads further (and then not the committees, UNCCAS's own);
        ``centre_page``: which page of the centres' table to show."""
        status = await event_control.status(self._client, event_id)
        situation = Situation(status, centre_page=centre_page)
        if status.mobilised_departments:
            situation.departments = await self._reads.departments(event_id, within=within)
        spreads = any(code != within for code in status.mobilised_departments)
        if status.phase is Phase.COMMITTEE and not (within and spreads):
            situation.committee = await committee_control.status(self._client, event_id)
        return situation

    def timeline(
        self, event_id: str, after: int, within: str | None
    ) -> list[tuple[int, CrisisLogEntry]]:
        with self._store.session() as session:
            return events.crisis_log_since(session, event_id, after, TIMELINE_LINES, within)

    async def area_map(self, event_id: str, within: str | None) -> str:
        situation = await self.situation(event_id, within)
        return await to_thread.run_sync(self._drawn_map, situation, within)

    def _drawn_map(self, situation: Situation, within: str | None) -> str:
        """The same centres and states as the situation's table (and, ``within`` a
        department, none of another department's communes without a centre)."""
        status = situation.status
        area = EventDeclaration.model_validate(status.model_dump(include=AREA_FIELDS))
        resolution = _resolution(self._store, area.model_dump_json())
        if within is not None:
            uncovered = [c for c in resolution.uncovered if c.department_code == within]
            resolution = resolution.model_copy(update={"uncovered": uncovered})
        centres = [centre for department in situation.departments for centre in department.centres]
        return live_map(resolution, centres, load_territory())

    def crisis_log_page(
        self, event_id: str, page: int, within: str | None
    ) -> tuple[EventRow | None, Paging, list[CrisisLogEntry]]:
        """One numbered page of the whole crisis log, oldest first, and the event."""
        with self._store.session() as session:
            event = events.event_row(session, event_id)
            total = events.crisis_log_count(session, event_id, within)
            paging = Paging(total, LOG_LINES_PER_PAGE, page)
            lines = events.crisis_log_slice(
                session, event_id, paging.start, LOG_LINES_PER_PAGE, within
            )
        return event, paging, lines

    def roster(self) -> list[Contact]:
        with self._store.session() as session:
            return directory.roster(session)

    def _roster_and_timeline(
        self, event_id: str, within: str | None
    ) -> tuple[list[Contact], list[tuple[int, CrisisLogEntry]]]:
        return self.roster(), self.timeline(event_id, 0, within)

    async def page(
        self,
        request: Request,
        event_id: str,
        *,
        centre_page: int = 1,
        notice: str | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        within = caller_of(request).department_scope
        situation = await self.situation(event_id, within, centre_page)
        roster, timeline = await to_thread.run_sync(self._roster_and_timeline, event_id, within)
        return render(
            request,
            "console/event.html",
            status_code,
            situation=situation,
            timeline=timeline,
            roster=roster,
            fiches=self._fiches.of_type(situation.status.type),
            notice=notice,
            error=error,
        )


def event_pages_router(pages: EventPages, store: Store, guards: Guards) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", dependencies=[guards.anyone])
    def events_list(request: Request, caller: CallerOf) -> HTMLResponse:
        with store.session() as session:
            rows = accounts.visible_events(session, caller.account)
        return render(request, "console/events.html", events=rows)

    @router.get("/evenements/{event_id}", dependencies=[guards.event_member])
    async def event_page(
        request: Request,
        event_id: EventIdPath,
        fait: Annotated[str | None, Query(max_length=32)] = None,
        page: PageQuery = 1,
    ) -> HTMLResponse:
        """``fait`` names what a form of the page just did, to say so; ``page``: the
        page of the centres' table."""
        notice = DONE.get(fait or "")
        return await pages.page(request, event_id, centre_page=page, notice=notice)

    @router.get("/evenements/{event_id}/situation", dependencies=[guards.event_member])
    async def situation_part(
        request: Request, event_id: EventIdPath, caller: CallerOf, page: PageQuery = 1
    ) -> HTMLResponse:
        situation = await pages.situation(event_id, caller.department_scope, page)
        return render(request, "console/situation.html", situation=situation)

    @router.get("/evenements/{event_id}/actions", dependencies=[guards.event_member])
    async def actions_part(
        request: Request, event_id: EventIdPath, caller: CallerOf
    ) -> HTMLResponse:
        """The forms the phase allows, so that they follow it without a reload."""
        situation = await pages.situation(event_id, caller.department_scope)
        roster = await to_thread.run_sync(pages.roster)
        return render(request, "console/actions.html", situation=situation, roster=roster)

    @router.get("/evenements/{event_id}/journal", dependencies=[guards.event_member])
    def timeline_part(
        request: Request,
        event_id: EventIdPath,
        caller: CallerOf,
        apres: Annotated[int, Query(ge=0)] = 0,
    ) -> HTMLResponse:
        timeline = pages.timeline(event_id, apres, caller.department_scope)
        return render(request, "console/timeline.html", timeline=timeline)

    @router.get("/evenements/{event_id}/main-courante", dependencies=[guards.event_member])
    def crisis_log_page(
        request: Request, event_id: EventIdPath, caller: CallerOf, page: PageQuery = 1
    ) -> HTMLResponse:
        """The whole crisis log, page by page, where the event's page shows the last
        lines only."""
        event, paging, lines = pages.crisis_log_page(event_id, page, caller.department_scope)
        if event is None:
            raise event_control.EventNotFoundError(event_id)
        return render(request, "console/crisis_log.html", event=event, paging=paging, lines=lines)

    @router.get("/evenements/{event_id}/carte.svg", dependencies=[guards.event_member])
    async def area_map(event_id: EventIdPath, caller: CallerOf) -> Response:
        drawn = await pages.area_map(event_id, caller.department_scope)
        return Response(drawn, media_type="image/svg+xml")

    return router
