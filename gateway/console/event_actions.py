"""What the console's forms do to an event: designate, broadcast, record an alert
level, extend the area, register a meeting, close. Each form goes through the same
control functions as the API; a refusal shows the event's page again with the reason."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Form, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from temporalio.client import Client

from definitions.alert_levels import AlertLevelChange
from definitions.committee import MeetingRegistration
from definitions.designation import RepresentativeChange
from definitions.event import CloseRequest
from definitions.mobilisation import SITUATION_REPORT_MAX_LENGTH, AreaExtension, SituationReport
from definitions.validation import describe_errors
from gateway.access import CallerOf, Guards
from gateway.api_common import EventIdPath
from gateway.console.declaration import split_places
from gateway.console.event_pages import EventPages
from operations import committee_control, event_control
from operations.committee_control import UnknownPeopleError
from store.database import Store

log = structlog.get_logger(__name__)

REFUSALS = (
    event_control.EventConflictError,
    event_control.DeclarationRefusedError,
    event_control.UnknownContactError,
    event_control.UnreachableContactError,
    UnknownPeopleError,
)


class MeetingForm(BaseModel):
    committee_id: str = Field(max_length=100)
    starts_at: datetime = Field(description="heure de Paris")
    place: str = Field(default="", max_length=300)


def event_actions_router(
    client: Client, store: Store, pages: EventPages, guards: Guards
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def act(
        request: Request, event_id: str, done: str, action: Callable[[], Awaitable[object]]
    ) -> Response:
        """Run the action; back to the event's page with what was done, or why not."""
        try:
            await action()
        except ValidationError as error:
            problems = "; ".join(describe_errors(error.errors()))
            return await pages.page(
                request, event_id, error=problems, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
            )
        except REFUSALS as error:
            log.info("console.action_refused", event_id=event_id, action=done, reason=str(error))
            code = (
                status.HTTP_409_CONFLICT
                if isinstance(error, event_control.EventConflictError)
                else status.HTTP_422_UNPROCESSABLE_CONTENT
            )
            return await pages.page(request, event_id, error=str(error), status_code=code)
        log.info("console.action", event_id=event_id, action=done)
        return RedirectResponse(f"/evenements/{event_id}?fait={done}", status.HTTP_303_SEE_OTHER)

    @router.post("/evenements/{event_id}/representant", dependencies=[guards.staff])
    async def designate(
        request: Request,
        event_id: EventIdPath,
        caller: CallerOf,
        contact_id: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        change = RepresentativeChange(contact_id=contact_id or None, requested_by=caller.actor)
        done = "representant" if contact_id else "recherche"
        return await act(
            request,
            event_id,
            done,
            lambda: event_control.change_representative(client, store, event_id, change),
        )

    @router.post("/evenements/{event_id}/point-de-situation", dependencies=[guards.event_actor])
    async def broadcast(
        request: Request,
        event_id: EventIdPath,
        caller: CallerOf,
        text: Annotated[str, Form(max_length=SITUATION_REPORT_MAX_LENGTH * 2)],
    ) -> Response:
        async def send() -> object:
            report = SituationReport(text=text.strip(), author=caller.actor)
            return await event_control.broadcast(client, event_id, report)

        return await act(request, event_id, "point-de-situation", send)

    @router.post("/evenements/{event_id}/niveau-alerte", dependencies=[guards.event_actor])
    async def change_alert_level(
        request: Request,
        event_id: EventIdPath,
        caller: CallerOf,
        level: Annotated[str, Form(max_length=40)],
    ) -> Response:
        async def record() -> object:
            change = AlertLevelChange(level=level, changed_by=caller.actor)
            return await event_control.change_alert_level(client, event_id, change)

        return await act(request, event_id, "niveau-alerte", record)

    @router.post("/evenements/{event_id}/extension", dependencies=[guards.staff])
    async def extend(
        request: Request,
        event_id: EventIdPath,
        caller: CallerOf,
        places: Annotated[str, Form(max_length=4_000)],
    ) -> Response:
        async def grow() -> object:
            communes, departments = split_places(places)
            extension = AreaExtension(
                communes=communes, departments=departments, requested_by=caller.actor
            )
            return await event_control.extend(client, event_id, extension)

        return await act(request, event_id, "extension", grow)

    @router.post("/evenements/{event_id}/reunion", dependencies=[guards.event_actor])
    async def register_meeting(
        request: Request,
        event_id: EventIdPath,
        caller: CallerOf,
        meeting: Annotated[MeetingForm, Form()],
    ) -> Response:
        async def register() -> object:
            registration = MeetingRegistration(
                committee_id=meeting.committee_id,
                starts_at=meeting.starts_at,
                place=meeting.place.strip() or None,
                registered_by=caller.actor,
            )
            return await committee_control.register_meeting(client, store, event_id, registration)

        return await act(request, event_id, "reunion", register)

    @router.post("/evenements/{event_id}/cloture", dependencies=[guards.staff])
    async def close(
        request: Request,
        event_id: EventIdPath,
        caller: CallerOf,
        reason: Annotated[str, Form(max_length=500)] = "",
        review: Annotated[str, Form(max_length=8)] = "",
    ) -> Response:
        closing = CloseRequest(closed_by=caller.actor, reason=reason.strip(), review=bool(review))
        return await act(
            request, event_id, "cloture", lambda: event_control.close(client, event_id, closing)
        )

    return router
