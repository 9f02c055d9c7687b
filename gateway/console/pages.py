"""How the console renders: one Jinja2 environment over ``gateway/templates``,
labels and Paris times for the templates, and who is signed in on every page."""

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from definitions.committee import in_paris
from definitions.event import Phase
from definitions.event_type import EventType
from definitions.mobilisation import SupportState

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def _label(kind: type[Phase] | type[EventType] | type[SupportState]) -> Any:
    return lambda value: kind(value).label


def _time(moment: datetime | None) -> str:
    return "" if moment is None else in_paris(moment)


TEMPLATES.globals.update(
    when=_time,
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
