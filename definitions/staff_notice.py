"""On-call staff told of a real event a departmental union declared, so that they
can take it over at once."""

from pydantic import BaseModel

from definitions.event import EventDeclaration


class StaffNoticeStart(BaseModel):
    event_id: str
    declaration: EventDeclaration
    declared_by: str
    """How staff know the UD: its account's name and login."""


def staff_notice_workflow_id(event_id: str) -> str:
    return f"{event_id}/staff-notice"
