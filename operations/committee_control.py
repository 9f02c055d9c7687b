"""What staff and the representative do in the committee phase (committees, meetings,
reports), for the API and the CLI alike. People are checked against the directory
here, in a thread; the workflow looks them up itself."""

from anyio import to_thread
from pydantic import BaseModel
from temporalio.client import Client

from definitions.committee import (
    CommitteeRegistration,
    CommitteeStatus,
    MeetingCancellation,
    MeetingMove,
    MeetingRegistration,
    MeetingReport,
)
from definitions.temporal_names import (
    CANCEL_MEETING_UPDATE,
    MOVE_MEETING_UPDATE,
    REGISTER_COMMITTEE_UPDATE,
    REGISTER_MEETING_UPDATE,
    REPORT_MEETING_UPDATE,
    committee_workflow_id,
)
from operations import event_control
from store import directory
from store.database import Store

NOT_IN_COMMITTEE_PHASE = (
    "l'événement n'est pas en phase de suivi des comités (tocsin committee start EVENT)"
)


class UnknownPeopleError(LookupError):
    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"inconnu(s) dans l'annuaire : {', '.join(ids)}")
        self.ids = ids


def check_people(store: Store, ids: list[str]) -> None:
    with store.session() as session:
        unknown = directory.unknown_ids(session, ids)
    if unknown:
        raise UnknownPeopleError(unknown)


async def _update(client: Client, event_id: str, name: str, argument: BaseModel) -> CommitteeStatus:
    return await event_control.update_workflow(
        client,
        committee_workflow_id(event_id),
        name,
        argument,
        event_id=event_id,
        result_type=CommitteeStatus,
        not_running=NOT_IN_COMMITTEE_PHASE,
    )


async def status(client: Client, event_id: str) -> CommitteeStatus:
    return await event_control.query_status(
        client,
        committee_workflow_id(event_id),
        event_id=event_id,
        result_type=CommitteeStatus,
        not_running=NOT_IN_COMMITTEE_PHASE,
    )


async def register_committee(
    client: Client, store: Store, event_id: str, registration: CommitteeRegistration
) -> CommitteeStatus:
    await to_thread.run_sync(check_people, store, registration.member_ids)
    return await _update(client, event_id, REGISTER_COMMITTEE_UPDATE, registration)


async def register_meeting(
    client: Client, store: Store, event_id: str, registration: MeetingRegistration
) -> CommitteeStatus:
    """Answers once every invitation has left."""
    await to_thread.run_sync(check_people, store, registration.invitee_ids)
    return await _update(client, event_id, REGISTER_MEETING_UPDATE, registration)


async def move_meeting(client: Client, event_id: str, move: MeetingMove) -> CommitteeStatus:
    return await _update(client, event_id, MOVE_MEETING_UPDATE, move)


async def cancel_meeting(
    client: Client, event_id: str, cancellation: MeetingCancellation
) -> CommitteeStatus:
    return await _update(client, event_id, CANCEL_MEETING_UPDATE, cancellation)


async def report_meeting(
    client: Client, store: Store, event_id: str, report: MeetingReport
) -> CommitteeStatus:
    """The summary, and each action item becomes a task its assignee is told of."""
    assignees = [item.assignee_id for item in report.actions]
    await to_thread.run_sync(check_people, store, assignees)
    return await _update(client, event_id, REPORT_MEETING_UPDATE, report)
