"""An event's status as on-call staff read it in a terminal, in French."""

from datetime import datetime
from zoneinfo import ZoneInfo

from definitions.crisis_log import CrisisLogEntry
from definitions.event import EventStatus, describe_area

PARIS = ZoneInfo("Europe/Paris")


def local_time(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S")


def render_status(status: EventStatus, entries: list[CrisisLogEntry]) -> str:
    drill = "  [EXERCICE]" if status.exercise else ""
    since = status.phases[-1].at
    lines = [
        f"Événement {status.event_id}{drill}",
        f"  {status.type.label} « {status.title} »",
        f"  Phase : {status.phase.label} (depuis le {local_time(since)})",
        f"  Déclaré le {local_time(status.declared_at)} par {status.declared_by}",
        f"  Zone déclarée : {describe_area(status.communes, status.departments)}",
        "  Phases :",
        *(f"    {local_time(change.at)}  {change.phase.label}" for change in status.phases),
        f"  Main courante : {status.counters.crisis_log_entries} entrée(s)",
        *(f"    {local_time(entry.at)}  [{entry.actor}] {entry.text}" for entry in entries),
    ]
    if status.closed_at:
        lines.append(f"  Clos le {local_time(status.closed_at)}")
    return "\n".join(lines)
