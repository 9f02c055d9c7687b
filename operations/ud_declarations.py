"""A departmental union's declarations, from the API and the console alike: only
within its department; for a real one, on-call staff are told by a workflow of its
own, started beside the event's, so that the event's history is unchanged."""

from temporalio.client import Client

from definitions.accounts import Account, Role
from definitions.department_scope import declaration_within
from definitions.event import EventDeclaration
from definitions.staff_notice import StaffNoticeStart, staff_notice_workflow_id
from definitions.temporal_names import STAFF_NOTICE_WORKFLOW
from definitions.territory import load_territory


def refusal(account: Account, declaration: EventDeclaration) -> str | None:
    """Why this account may not declare this area, or None when it may."""
    if account.role is not Role.UD or declaration_within(
        declaration, account.department or "", load_territory()
    ):
        return None
    return f"une union départementale ne déclare que dans son département ({account.department})"


async def declared(
    client: Client, task_queue: str, event_id: str, declaration: EventDeclaration, account: Account
) -> None:
    """What follows a declaration by this account: staff told of a UD's real event."""
    if account.role is Role.UD and not declaration.exercise:
        await tell_staff(client, task_queue, event_id, declaration, account)


async def tell_staff(
    client: Client,
    task_queue: str,
    event_id: str,
    declaration: EventDeclaration,
    account: Account,
) -> None:
    await client.start_workflow(
        STAFF_NOTICE_WORKFLOW,
        StaffNoticeStart(
            event_id=event_id,
            declaration=declaration,
            declared_by=f"{account.name} ({account.login})",
        ),
        id=staff_notice_workflow_id(event_id),
        task_queue=task_queue,
    )
