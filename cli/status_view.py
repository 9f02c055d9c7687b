"""An event's status as on-call staff read it in a terminal, in French."""

from datetime import datetime
from zoneinfo import ZoneInfo

from definitions.competence import TerritorySummary
from definitions.crisis_log import CrisisLogEntry
from definitions.designation import DesignationMode
from definitions.durations import format_duration
from definitions.event import describe_area
from definitions.event_status import EventStatus
from definitions.mobilisation import MobilisationOverview, MobilisationStatus, SupportCounts
from definitions.protocol import Protocol

PARIS = ZoneInfo("Europe/Paris")


def local_time(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S")


def _territory_lines(territory: TerritorySummary) -> list[str]:
    lines = [
        f"  Territoire : {territory.affected_communes} commune(s), "
        f"{territory.competent_ccas} CCAS et {territory.competent_cias} CIAS compétents, "
        f"{territory.uncovered_communes} sans CCAS ni CIAS"
    ]
    for department in territory.departments:
        ud = department.ud_name or "pas d'UD"
        prefecture = f"préfecture à {department.prefecture_commune}"
        if department.prefecture_id is None:
            prefecture += " (absente de l'annuaire)"
        lines.append(
            f"    {department.name} ({department.code}) : {prefecture} ; {ud} ; "
            f"{department.affected_communes} commune(s), {department.competent_ccas} CCAS, "
            f"{department.competent_cias} CIAS, {department.uncovered_communes} non couverte(s)"
        )
    if territory.uncovered_sample:
        shown = ", ".join(f"{c.name} ({c.insee_code})" for c in territory.uncovered_sample)
        more = territory.uncovered_communes - len(territory.uncovered_sample)
        lines.append(f"    Sans CCAS ni CIAS : {shown}" + (f" et {more} autre(s)" if more else ""))
    return lines


def _protocol_line(protocol: Protocol) -> str:
    designation, mobilisation = protocol.designation, protocol.mobilisation
    return (
        f"  Délais : réponse d'un candidat {format_duration(designation.answer_deadline)}, "
        f"relance CCAS {format_duration(mobilisation.reminder_after)}, "
        f"escalade {format_duration(mobilisation.escalation_after)}"
    )


def _designation_lines(status: EventStatus) -> list[str]:
    lines = []
    representative = status.representative
    if representative is not None:
        how = (
            "a accepté par SMS"
            if representative.mode is DesignationMode.ROSTER
            else f"désigné(e) par {representative.designated_by}"
        )
        lines.append(
            f"  Représentant(e) : {representative.person.name} ({how}, le "
            f"{local_time(representative.designated_at)})"
        )
    designation = status.designation
    if designation is not None and designation.attempts:
        state = "recherche en cours" if designation.searching else "terminée"
        lines.append(f"  Désignation : tour {designation.round}, {state}")
        for attempt in designation.attempts:
            channels = "+".join(channel.value.upper() for channel in attempt.channels) or "-"
            answered = f" le {local_time(attempt.answered_at)}" if attempt.answered_at else ""
            lines.append(
                f"    {local_time(attempt.asked_at)}  {attempt.name} (tour {attempt.round}, "
                f"code {attempt.code}, {channels}) : {attempt.answer.label}{answered}"
            )
    return lines


def _counts(counts: SupportCounts) -> str:
    return (
        f"{counts.centres} centre(s) : {counts.requested} sollicité(s), {counts.delivered} "
        f"remis, {counts.mobilised} mobilisé(s), {counts.needs_support} besoin de soutien, "
        f"{counts.unanswered} sans réponse, {counts.unreachable} injoignable(s)"
    )


def _mobilisation_lines(overview: MobilisationOverview) -> list[str]:
    return [
        f"  Mobilisation : {_counts(overview.total)}",
        *(f"    {code} : {_counts(counts)}" for code, counts in overview.departments.items()),
    ]


def render_centres(department: MobilisationStatus) -> str:
    """Every centre of one department, with its state and code."""
    lines = [
        f"{department.department_name} ({department.department_code}) : "
        + _counts(department.counts)
    ]
    for centre in sorted(department.centres, key=lambda centre: centre.name):
        channels = "+".join(channel.value.upper() for channel in centre.channels) or "-"
        answered = f" ({centre.answered_by})" if centre.answered_by else ""
        lines.append(
            f"  {centre.name} [{centre.organisation_id}] code {centre.code or '-'}, {channels} : "
            f"{centre.state.label}{answered}"
        )
    for action in department.actions:
        offers = ", ".join(offer.name for offer in action.offers) or "aucune offre"
        state = "close" if action.closed else "en cours"
        lines.append(f"  Action de soutien {action.name} ({state}) : renforts {offers}")
    return "\n".join(lines)


def render_status(
    status: EventStatus,
    entries: list[CrisisLogEntry],
    total_entries: int,
    overview: MobilisationOverview | None = None,
) -> str:
    """``entries`` are the latest of the ``total_entries`` in the crisis log."""
    drill = "  [EXERCICE]" if status.exercise else ""
    since = status.phases[-1].at
    lines = [
        f"Événement {status.event_id}{drill}",
        f"  {status.type.label} « {status.title} »",
        f"  Phase : {status.phase.label} (depuis le {local_time(since)})",
        f"  Déclaré le {local_time(status.declared_at)} par {status.declared_by}",
        f"  Zone déclarée : {describe_area(status.communes, status.departments)}",
    ]
    if status.territory:
        lines += _territory_lines(status.territory)
    if status.protocol:
        lines.append(_protocol_line(status.protocol))
    lines += _designation_lines(status)
    if overview is not None and overview.departments:
        lines += _mobilisation_lines(overview)
    lines += [
        "  Phases :",
        *(f"    {local_time(change.at)}  {change.phase.label}" for change in status.phases),
        f"  Main courante : {total_entries} entrée(s), les {len(entries)} dernières :",
        *(f"    {local_time(entry.at)}  [{entry.actor}] {entry.text}" for entry in entries),
    ]
    if status.closed_at:
        lines.append(f"  Clos le {local_time(status.closed_at)}")
    return "\n".join(lines)
