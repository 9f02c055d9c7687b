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
from gateway import committee_control, event_control
from gateway.api_common import API_ACTOR, EventIdPath
from store.database import Store

log = structlog.get_logger(__name__)

MeetingIdPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9\-]+$")]


class CommitteePhaseBody(CommitteePhaseRequest):
    requested_by: str = Field(default=API_ACTOR, min_length=1, max_length=100)


class CommitteeBody(CommitteeRegistration):
    registered_by: str = Field(default=API_ACTOR, min_length=1, max_length=100)


class MeetingBody(MeetingRegistration):
    registered_by: str = Field(default=API_ACTOR, min_length=1, max_length=100)


class MoveBody(BaseModel):
    starts_at: ParisDateTime = Field(description="heure de Paris si sans décalage")
    place: str | None = Field(default=None, max_length=300)
    requested_by: str = Field(default=API_ACTOR, min_length=1, max_length=100)


class CancelBody(BaseModel):
    reason: str = Field(default="", max_length=300)
    requested_by: str = Field(default=API_ACTOR, min_length=1, max_length=100)


class ReportBody(BaseModel):
    summary: str = Field(min_length=1, max_length=SUMMARY_MAX_LENGTH)
    actions: list[ActionItem] = Field(default_factory=list, max_length=MAX_ACTIONS)
    recorded_by: str = Field(default=API_ACTOR, min_length=1, max_length=100)


def committee_router(client: Client, store: Store) -> APIRouter:
    router = APIRouter(prefix="/api/events", tags=["comités"])

    @router.post("/{event_id}/committee-phase")
    async def enter_committee_phase(
        event_id: EventIdPath, body: CommitteePhaseBody | None = None
    ) -> EventStatus:
        """End the acute phase: departments stop asking; the committees' follow-up starts."""
        request = body or CommitteePhaseBody()
        updated = await event_control.enter_committee(client, event_id, request)
        log.info("api.committee_phase", event_id=event_id)
        return updated

    @router.get("/{event_id}/committee")
    async def committee(event_id: EventIdPath) -> CommitteeStatus:
        """Committees, meetings, tasks and points d'étape; 409 outside the committee phase."""
        return await committee_control.status(client, event_id)

    @router.post("/{event_id}/committees", status_code=status.HTTP_201_CREATED)
    async def register_committee(event_id: EventIdPath, body: CommitteeBody) -> CommitteeStatus:
        updated = await committee_control.register_committee(client, store, event_id, body)
        log.info("api.committee_registered", event_id=event_id)
        return updated

    @router.post("/{event_id}/meetings", status_code=status.HTTP_201_CREATED)
    async def register_meeting(event_id: EventIdPath, body: MeetingBody) -> CommitteeStatus:
        """Answers once the invitations (with their .ics) have left."""
        updated = await committee_control.register_meeting(client, store, event_id, body)
        log.info("api.meeting_registered", event_id=event_id)
        return updated

    @router.post("/{event_id}/meetings/{meeting_id}/move")
    async def move_meeting(
        event_id: EventIdPath, meeting_id: MeetingIdPath, body: MoveBody
    ) -> CommitteeStatus:
        move = MeetingMove(meeting_id=meeting_id, **body.model_dump())
        return await committee_control.move_meeting(client, event_id, move)

    @router.post("/{event_id}/meetings/{meeting_id}/cancel")
    async def cancel_meeting(
        event_id: EventIdPath, meeting_id: MeetingIdPath, body: CancelBody | None = None
    ) -> CommitteeStatus:
        cancellation = MeetingCancellation(
            meeting_id=meeting_id, **(body or CancelBody()).model_dump()
        )
        return await committee_control.cancel_meeting(client, event_id, cancellation)

    @router.post("/{event_id}/meetings/{meeting_id}/report")
    async def report_meeting(
        event_id: EventIdPath, meeting_id: MeetingIdPath, body: ReportBody
    ) -> CommitteeStatus:
        """The summary; each action item becomes a task (SMS and email to its assignee)."""
        report = MeetingReport(meeting_id=meeting_id, **body.model_dump())
        return await committee_control.report_meeting(client, store, event_id, report)

    return router
