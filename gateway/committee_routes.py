"""The API of the committee phase: entering it, committees, meetings and their reports."""

from typing import Annotated

import structlog
from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field
from temporalio.client import Client

from definitions.committee import (
    MAX_ACTIONS,
    SUMMARY_MAX_LENGTH,
    ActionItem,
    CommitteePhaseRequest,
    CommitteeRegistration,
    CommitteeStatus,
    MeetingCancellation,
    MeetingMove,
    MeetingRegistration,
    MeetingReport,
    ParisDateTime,
)
from definitions.event_status import EventStatus
from gateway.access import CallerOf, Guards
from gateway.api_common import Actor, EventIdPath, acted_by
from operations import committee_control, event_control
from store.database import Store

log = structlog.get_logger(__name__)

MeetingIdPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9\-]+$")]


class CommitteePhaseBody(CommitteePhaseRequest):
    requested_by: Actor = ""


class CommitteeBody(CommitteeRegistration):
    registered_by: Actor = ""


class MeetingBody(MeetingRegistration):
    registered_by: Actor = ""


class MoveBody(BaseModel):
    starts_at: ParisDateTime = Field(description="heure de Paris si sans décalage")
    place: str | None = Field(default=None, max_length=300)
    requested_by: Actor = ""


class CancelBody(BaseModel):
    reason: str = Field(default="", max_length=300)
    requested_by: Actor = ""


class ReportBody(BaseModel):
    summary: str = Field(min_length=1, max_length=SUMMARY_MAX_LENGTH)
    actions: list[ActionItem] = Field(default_factory=list, max_length=MAX_ACTIONS)
    recorded_by: Actor = ""


def committee_router(client: Client, store: Store, guards: Guards) -> APIRouter:
    router = APIRouter(prefix="/api/events", tags=["comités"])

    @router.post("/{event_id}/committee-phase", dependencies=[guards.staff])
    async def enter_committee_phase(
        event_id: EventIdPath, caller: CallerOf, body: CommitteePhaseBody | None = None
    ) -> EventStatus:
        """End the acute phase: departments stop asking; the committees' follow-up starts."""
        request = acted_by(body or CommitteePhaseBody(), "requested_by", caller)
        updated = await event_control.enter_committee(client, event_id, request)
        log.info("api.committee_phase", event_id=event_id)
        return updated

    @router.get("/{event_id}/committee", dependencies=[guards.event_actor])
    async def committee(event_id: EventIdPath) -> CommitteeStatus:
        """Committees, meetings, tasks and points d'étape; 409 outside the committee phase."""
        return await committee_control.status(client, event_id)

    @router.post(
        "/{event_id}/committees",
        status_code=status.HTTP_201_CREATED,
        dependencies=[guards.event_actor],
    )
    async def register_committee(
        event_id: EventIdPath, body: CommitteeBody, caller: CallerOf
    ) -> CommitteeStatus:
        registration = acted_by(body, "registered_by", caller)
        updated = await committee_control.register_committee(client, store, event_id, registration)
        log.info("api.committee_registered", event_id=event_id)
        return updated

    @router.post(
        "/{event_id}/meetings",
        status_code=status.HTTP_201_CREATED,
        dependencies=[guards.event_actor],
    )
    async def register_meeting(
        event_id: EventIdPath, body: MeetingBody, caller: CallerOf
    ) -> CommitteeStatus:
        """Answers once the invitations (with their .ics) have left."""
        registration = acted_by(body, "registered_by", caller)
        updated = await committee_control.register_meeting(client, store, event_id, registration)
        log.info("api.meeting_registered", event_id=event_id)
        return updated

    @router.post("/{event_id}/meetings/{meeting_id}/move", dependencies=[guards.event_actor])
    async def move_meeting(
        event_id: EventIdPath, meeting_id: MeetingIdPath, body: MoveBody, caller: CallerOf
    ) -> CommitteeStatus:
        move = MeetingMove(
            meeting_id=meeting_id, **acted_by(body, "requested_by", caller).model_dump()
        )
        return await committee_control.move_meeting(client, event_id, move)

    @router.post("/{event_id}/meetings/{meeting_id}/cancel", dependencies=[guards.event_actor])
    async def cancel_meeting(
        event_id: EventIdPath,
        meeting_id: MeetingIdPath,
        caller: CallerOf,
        body: CancelBody | None = None,
    ) -> CommitteeStatus:
        cancellation = MeetingCancellation(
            meeting_id=meeting_id,
            **acted_by(body or CancelBody(), "requested_by", caller).model_dump(),
        )
        return await committee_control.cancel_meeting(client, event_id, cancellation)

    @router.post("/{event_id}/meetings/{meeting_id}/report", dependencies=[guards.event_actor])
    async def report_meeting(
        event_id: EventIdPath, meeting_id: MeetingIdPath, body: ReportBody, caller: CallerOf
    ) -> CommitteeStatus:
        """The summary; each action item becomes a task (SMS and email to its assignee)."""
        report = MeetingReport(
            meeting_id=meeting_id, **acted_by(body, "recorded_by", caller).model_dump()
        )
        return await committee_control.report_meeting(client, store, event_id, report)

    return router
