"""``tocsin committee``: the committee phase from a terminal. Dates are Paris time
(``2027-03-16 14:30``); actions are written ``quoi|identifiant|AAAA-MM-JJ``."""

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from temporalio.client import Client

from cli.client_command import CLI_ACTOR, run_client_command, run_with_store
from cli.common import load_settings, refuse
from cli.json_output import JsonOption, json_document
from definitions.committee import (
    ActionItem,
    CommitteePhaseRequest,
    CommitteeRegistration,
    CommitteeStatus,
    MeetingCancellation,
    MeetingMove,
    MeetingRegistration,
    MeetingReport,
    in_paris,
)
from definitions.validation import describe_validation_error
from operations import committee_control, event_control
from store.database import Store

committee_app = typer.Typer(
    help="Phase de suivi des comités locaux d'aide aux victimes (CLAV).", no_args_is_help=True
)

EventArgument = Annotated[str, typer.Argument(help="identifiant de l'événement")]
MeetingArgument = Annotated[str, typer.Argument(help="identifiant de la réunion (reunion-1)")]
AtOption = Annotated[str, typer.Option("--at", help="date et heure de Paris : 2027-03-16 14:30")]


def render_committee(status: CommitteeStatus) -> str:
    lines = [
        f"Suivi des comités depuis le {in_paris(status.started_at)} "
        f"(représentant(e) : {status.representative.name})"
    ]
    for committee in status.committees:
        lines.append(
            f"  {committee.committee_id} : {committee.name}, {committee.place} "
            f"({len(committee.members)} membre(s))"
        )
    for meeting in status.meetings:
        state = (
            "annulée"
            if meeting.cancelled_at
            else "tenue"
            if meeting.summary is not None
            else "prévue"
        )
        lines.append(
            f"  {meeting.meeting_id} ({meeting.committee_id}) : {in_paris(meeting.starts_at)}, "
            f"{meeting.place} : {state}"
        )
    for task in status.tasks:
        lines.append(
            f"  {task.task_id} : {task.what} ; {task.assignee.name}, échéance "
            f"{in_paris(task.due_at)} : {task.state.label}"
        )
    for checkpoint in status.checkpoints:
        confirmed = f"confirmé par {checkpoint.confirmed_by}" if checkpoint.confirmed_by else ""
        lines.append(
            f"  point d'étape n°{checkpoint.number} du {in_paris(checkpoint.at)} {confirmed}"
        )
    return "\n".join(lines)


Model = TypeVar("Model", bound=BaseModel)


def _built(headline: str, build: Callable[[], Model]) -> Model:
    try:
        return build()
    except ValidationError as error:
        refuse(headline, describe_validation_error(error))


def _action(text: str) -> ActionItem:
    what, _, rest = text.rpartition("|")
    what, _, assignee = what.rpartition("|")
    try:
        due = date.fromisoformat(rest.strip())
    except ValueError:
        refuse("Action refusée :", [f"« {text} » : écrivez quoi|identifiant|AAAA-MM-JJ"])
    return _built(
        "Action refusée :",
        lambda: ActionItem(what=what.strip(), assignee_id=assignee.strip(), due=due),
    )


def _run(
    command: Callable[[Client, Store], Awaitable[CommitteeStatus]],
    render: Callable[[CommitteeStatus], str] = render_committee,
) -> None:
    run_with_store(load_settings(), command, render)


@committee_app.command("start")
def start(event_id: EventArgument) -> None:
    """Terminer la phase aiguë et ouvrir le suivi des comités."""
    settings = load_settings()

    async def command(client: Client) -> int:
        updated = await event_control.enter_committee(
            client, event_id, CommitteePhaseRequest(requested_by=CLI_ACTOR)
        )
        typer.echo(f"{event_id} : {updated.phase.label}")
        return 0

    run_client_command(settings, command)


@committee_app.command("status")
def status(event_id: EventArgument, as_json: JsonOption = False) -> None:
    """Comités, réunions, actions et points d'étape."""
    render = json_document if as_json else render_committee
    _run(lambda client, _: committee_control.status(client, event_id), render)


@committee_app.command("add")
def add(
    event_id: EventArgument,
    department: Annotated[str, typer.Option(help="code du département (59)")],
    name: Annotated[str, typer.Option(help="nom du comité")],
    place: Annotated[str, typer.Option(help="lieu habituel des réunions")],
    member: Annotated[
        list[str] | None, typer.Option(help="identifiant de l'annuaire (répétable)")
    ] = None,
) -> None:
    """Enregistrer le comité local d'aide aux victimes d'un département."""
    registration = _built(
        "Comité refusé :",
        lambda: CommitteeRegistration(
            department_code=department,
            name=name,
            place=place,
            member_ids=member or [],
            registered_by=CLI_ACTOR,
        ),
    )
    _run(
        lambda client, store: committee_control.register_committee(
            client, store, event_id, registration
        )
    )


@committee_app.command("meeting")
def meeting(
    event_id: EventArgument,
    *,
    committee: Annotated[str, typer.Option(help="identifiant du comité (clav-59)")],
    at: AtOption,
    length: Annotated[str, typer.Option(help="durée (2h, 1h30min)")] = "2h",
    place: Annotated[str | None, typer.Option(help="lieu, si autre que celui du comité")] = None,
    invite: Annotated[
        list[str] | None, typer.Option(help="CCAS, UD ou contact invité (répétable)")
    ] = None,
) -> None:
    """Enregistrer une réunion : invitation par email avec fichier .ics."""
    registration = _built(
        "Réunion refusée :",
        lambda: MeetingRegistration.model_validate(
            {
                "committee_id": committee,
                "starts_at": at,
                "length": length,
                "place": place,
                "invitee_ids": invite or [],
                "registered_by": CLI_ACTOR,
            }
        ),
    )
    _run(
        lambda client, store: committee_control.register_meeting(
            client, store, event_id, registration
        )
    )


@committee_app.command("move")
def move(
    event_id: EventArgument,
    meeting_id: MeetingArgument,
    at: AtOption,
    place: Annotated[str | None, typer.Option(help="nouveau lieu")] = None,
) -> None:
    """Déplacer une réunion : invitation mise à jour."""
    change = _built(
        "Déplacement refusé :",
        lambda: MeetingMove.model_validate(
            {"meeting_id": meeting_id, "starts_at": at, "place": place, "requested_by": CLI_ACTOR}
        ),
    )
    _run(lambda client, _: committee_control.move_meeting(client, event_id, change))


@committee_app.command("cancel")
def cancel(
    event_id: EventArgument,
    meeting_id: MeetingArgument,
    reason: Annotated[str, typer.Option(help="motif")] = "",
) -> None:
    """Annuler une réunion : annulation envoyée aux invités."""
    cancellation = _built(
        "Annulation refusée :",
        lambda: MeetingCancellation(meeting_id=meeting_id, reason=reason, requested_by=CLI_ACTOR),
    )
    _run(lambda client, _: committee_control.cancel_meeting(client, event_id, cancellation))


@committee_app.command("report")
def report(
    event_id: EventArgument,
    meeting_id: MeetingArgument,
    summary: Annotated[str, typer.Option(help="compte rendu court")],
    action: Annotated[
        list[str] | None, typer.Option(help="quoi|identifiant|AAAA-MM-JJ (répétable)")
    ] = None,
) -> None:
    """Compte rendu d'une réunion ; chaque action devient une tâche suivie (FAIT code)."""
    items = [_action(text) for text in action or []]
    meeting_report = _built(
        "Compte rendu refusé :",
        lambda: MeetingReport(
            meeting_id=meeting_id, summary=summary, actions=items, recorded_by=CLI_ACTOR
        ),
    )
    _run(
        lambda client, store: committee_control.report_meeting(
            client, store, event_id, meeting_report
        )
    )
