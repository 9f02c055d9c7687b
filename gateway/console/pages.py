"""How the console renders: one Jinja2 environment over ``gateway/templates``,
labels and Paris times for the templates (with the local time beside them for an
overseas event), and who is signed in on every page."""

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from definitions.committee import in_paris
from definitions.event import Phase
from definitions.event_status import EventStatus
from definitions.event_type import EventType
from definitions.local_time import PARIS_ZONE, ZONE_NAMES, ZONE_OF_DEPARTMENT, zone_info
from definitions.mobilisation import SupportState

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def _label(kind: type[Phase] | type[EventType] | type[SupportState]) -> Any:
    return lambda value: kind(value).label


def _time(moment: datetime | None, zone: str = PARIS_ZONE) -> str:
    """Paris time, and the event's local time beside it when it is elsewhere."""
    if moment is None:
        return ""
    if zone == PARIS_ZONE:
        return in_paris(moment)
    local = moment.astimezone(zone_info(zone))
    return f"{in_paris(moment)} ({local:%H}h{local:%M} {ZONE_NAMES.get(zone, zone)})"


def _event_zone(status: EventStatus) -> str:
    """The zone of the event's first department (Paris until its territory is known)."""
    codes = [d.code for d in status.territory.departments] if status.territory else []
    return ZONE_OF_DEPARTMENT.get(codes[0], PARIS_ZONE) if codes else PARIS_ZONE


TEMPLATES.globals.update(
    when=_time,
    event_zone=_event_zone,
    phase_label=_label(Phase),
    type_label=_label(EventType),
    state_label=_label(SupportState),
)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page with the signed-in caller (if any) and whether the phone simulator runs."""
    body = TEMPLATES.get_template(template).render(
        caller=getattr(request.state, "caller", None),
        phone_simulator=getattr(request.app.state, "phone_simulator", False),
        **context,
    )
    return HTMLResponse(body, status_code=status_code)
