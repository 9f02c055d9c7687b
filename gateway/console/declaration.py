"""Declaring an event from the console: the form, a confirmation that shows the
territory the codes resolve to (departments, communes, centres that will be asked),
then the start. Places are searched by name, INSEE code, postal code or department."""

import re
from typing import Annotated

import structlog
from anyio import to_thread
from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from temporalio.client import Client

from definitions.competence import resolve_competence
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.territory import load_territory
from definitions.territory.around import AreaError, communes_around, parse_radius, resolve_point
from definitions.territory.declared_area import affected_communes
from definitions.territory.lookup import Territory, name_key
from definitions.validation import describe_errors
from gateway.access import CallerOf, Guards
from gateway.console.pages import render
from operations import event_control, ud_declarations
from store import directory
from store.database import Store

log = structlog.get_logger(__name__)

SUGGESTIONS = 10
PLACES_MAX_LENGTH = 20_000
EXERCISE, REAL = "exercice", "reel"
DEPARTMENT_AS_TYPED = re.compile(r"^(\d{1,3}|2[ABab])$")


def split_places(text: str) -> tuple[list[str], list[str]]:
    """Places as typed, split into departments (their codes) and communes (the rest:
    a commune's name or postal code is then refused with its INSEE code)."""
    places = [place for place in re.split(r"[\s,;]+", text.strip()) if place]
    departments = [place for place in places if DEPARTMENT_AS_TYPED.match(place)]
    return [place for place in places if place not in departments], departments


def search_places(territory: Territory, query: str) -> list[tuple[str, str]]:
    """(code, label) of departments then communes whose code, postal code or name
    starts like the query; names are looked up in the territory's own index."""
    key = name_key(query)
    found = [
        (department.code, f"{department.name} — département {department.code}")
        for department in territory.departments.values()
        if department.code == query.upper() or name_key(department.name).startswith(key)
    ]
    by_code = territory.commune(query.upper())
    by_name = [
        commune
        for name in territory.names()
        if name.startswith(key)
        for commune in territory.communes_named(name)
    ]
    communes = territory.communes_with_postal_code(query) or list(
        {commune.insee_code: commune for commune in [*filter(None, [by_code]), *by_name]}.values()
    )
    communes.sort(key=lambda commune: (-(commune.population or 0), commune.name))
    found += [
        (
            commune.insee_code,
            f"{commune.name} ({commune.insee_code}) — "
            f"{territory.departments[commune.department_code].name}",
        )
        for commune in communes
    ]
    return found[:SUGGESTIONS]


class DeclarationForm(BaseModel):
    """The form as typed; ``declaration`` reads it as the API would take it."""

    event_type: str = Field(alias="type", max_length=32)
    places: str = Field(default="", max_length=PLACES_MAX_LENGTH)
    title: str = Field(max_length=400)
    mode: str = Field(pattern=f"^({EXERCISE}|{REAL})$")
    around: str = Field(default="", max_length=40)
    """A site (``LAT,LON`` or a commune's INSEE code) whose surroundings are affected."""
    radius: str = Field(default="", max_length=20)

    def _around(self) -> list[str]:
        if not self.around.strip():
            return []
        territory = load_territory()
        try:
            lat, lon = resolve_point(self.around, territory)
            kilometres = parse_radius(self.radius or "")
        except AreaError as error:
            raise event_control.DeclarationRefusedError([str(error)]) from error
        return [
            commune.insee_code for commune, _ in communes_around(territory, lat, lon, kilometres)
        ]

    def declaration(self) -> EventDeclaration:
        communes, departments = split_places(self.places)
        communes += [code for code in self._around() if code not in communes]
        declaration = EventDeclaration.model_validate(
            {
                "type": self.event_type,
                "communes": communes,
                "departments": departments,
                "title": self.title,
                "exercise": self.mode != REAL,
            }
        )
        event_control.check_area(declaration)
        return declaration


def declaration_router(client: Client, store: Store, task_queue: str, guards: Guards) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def form(request: Request, status_code: int = 200, **values: object) -> HTMLResponse:
        return render(request, "console/declare.html", status_code, types=list(EventType), **values)

    @router.get("/declarer", dependencies=[guards.own_department])
    async def declaration_form(request: Request) -> HTMLResponse:
        return form(request, values={})

    @router.post("/declarer", dependencies=[guards.own_department])
    def confirm(
        request: Request, caller: CallerOf, declared: Annotated[DeclarationForm, Form()]
    ) -> HTMLResponse:
        """Nothing starts here: the page shows what the codes resolve to."""
        values = declared.model_dump(by_alias=True)
        try:
            declaration = declared.declaration()
        except ValidationError as error:
            return form(
                request,
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                values=values,
                problems=describe_errors(error.errors()),
            )
        except event_control.DeclarationRefusedError as error:
            return form(
                request,
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                values=values,
                problems=error.problems,
            )
        refused = ud_declarations.refusal(caller.account, declaration)
        if refused:
            return form(request, status.HTTP_403_FORBIDDEN, values=values, problems=[refused])
        territory = load_territory()
        with store.session() as session:
            organisations = directory.organisations(session)
        resolution = resolve_competence(
            affected_communes(declaration, territory), organisations, territory
        )
        return render(
            request,
            "console/confirm.html",
            declaration=declaration,
            values=values,
            territory=resolution.summary(),
            communes=[territory.communes[code] for code in declaration.communes],
        )

    @router.post("/declarer/confirmer", dependencies=[guards.own_department])
    async def declare(
        request: Request, caller: CallerOf, declared: Annotated[DeclarationForm, Form()]
    ) -> Response:
        try:
            declaration = await to_thread.run_sync(declared.declaration)
        except (ValidationError, event_control.DeclarationRefusedError):
            return form(
                request,
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                values=declared.model_dump(by_alias=True),
                problems=["la déclaration a changé : vérifiez-la de nouveau"],
            )
        refused = await to_thread.run_sync(ud_declarations.refusal, caller.account, declaration)
        if refused:
            values = declared.model_dump(by_alias=True)
            return form(request, status.HTTP_403_FORBIDDEN, values=values, problems=[refused])
        event_id = await event_control.activate(client, task_queue, declaration, caller.actor)
        await ud_declarations.declared(client, task_queue, event_id, declaration, caller.account)
        log.info("console.event_declared", event_id=event_id, exercise=declaration.exercise)
        return RedirectResponse(f"/evenements/{event_id}", status.HTTP_303_SEE_OTHER)

    @router.get("/territoire", dependencies=[guards.own_department])
    def places(
        request: Request, q: Annotated[str, Query(min_length=1, max_length=100)]
    ) -> HTMLResponse:
        return render(
            request, "console/suggestions.html", places=search_places(load_territory(), q.strip())
        )

    return router
