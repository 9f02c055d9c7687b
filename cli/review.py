"""``tocsin review`` and ``tocsin guide``: the after-action review of an event and
the network's guide of good practice, from a terminal, and its diffusion."""

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from temporalio.client import Client

from cli.client_command import CLI_ACTOR, run_client_command, run_with_store
from cli.common import (
    EXIT_FAILED,
    EXIT_REFUSED,
    explain,
    finish,
    load_settings,
    read_store,
    refuse,
)
from cli.json_output import JsonOption, print_json
from definitions.committee import in_paris
from definitions.event_type import EventType
from definitions.guide import GuideDiffusionProgress
from definitions.review import PlannedAction, ReviewStatus
from definitions.validation import describe_validation_error
from operations import guide_control, review_control
from store import reviews

review_app = typer.Typer(help="Retour d'expérience d'un événement clos.", no_args_is_help=True)
guide_app = typer.Typer(help="Guide des bonnes pratiques du réseau, et sa diffusion.")

EventArgument = Annotated[str, typer.Argument(help="identifiant de l'événement")]


def render_review(status: ReviewStatus) -> str:
    lines = []
    for progress in status.rounds:
        state = (
            f"clos : {progress.answered} réponse(s) sur {progress.invited}"
            if progress.closed
            else f"envoyé à {progress.invited}, réponses jusqu'au {in_paris(progress.deadline_at)}"
            if progress.sent
            else f"prévu le {in_paris(progress.opens_at)}"
        )
        lines.append(f"  {progress.round.label} : {state}")
    report = (
        f"rapport version {status.report_version} établi le {in_paris(status.compiled_at)}"
        if status.compiled_at
        else "rapport pas encore établi"
    )
    lines.append(f"  {report}")
    for task in status.tasks:
        lines.append(
            f"  {task.task_id} : {task.what} ; {task.assignee.name}, échéance "
            f"{in_paris(task.due_at)} : {task.state.label}"
        )
    return "\n".join(["Retour d'expérience", *lines])


@review_app.command("status")
def status(event_id: EventArgument, as_json: JsonOption = False) -> None:
    """Où en sont le questionnaire, le rapport et le plan d'action."""
    settings = load_settings()

    async def command(client: Client) -> int:
        review = await review_control.status(client, event_id)
        if as_json:
            print_json(review)
        else:
            typer.echo(render_review(review))
        return 0

    run_client_command(settings, command)


@review_app.command("action")
def action(
    event_id: EventArgument,
    what: Annotated[str, typer.Option(help="l'action à mener")],
    owner: Annotated[str, typer.Option(help="pilote : identifiant dans l'annuaire")],
    due: Annotated[str, typer.Option(help="échéance AAAA-MM-JJ")],
) -> None:
    """Ajouter une action au plan ; son pilote est prévenu, elle est suivie jusqu'à FAIT."""
    try:
        planned = PlannedAction(
            what=what, owner_id=owner, due=date.fromisoformat(due), planned_by=CLI_ACTOR
        )
    except ValueError as error:
        problems = (
            describe_validation_error(error)
            if isinstance(error, ValidationError)
            else [f"« {due} » : écrivez AAAA-MM-JJ"]
        )
        refuse("Action refusée :", problems)

    run_with_store(
        load_settings(),
        lambda client, store: review_control.plan_action(client, store, event_id, planned),
        render_review,
    )


@review_app.command("report")
def report(
    event_id: EventArgument,
    output: Annotated[Path, typer.Option(help="fichier .html ou .pdf à écrire")],
) -> None:
    """Écrire le rapport établi (HTML ou PDF selon l'extension)."""
    row = read_store(load_settings(), lambda session: reviews.report(session, event_id))
    if row is None:
        typer.echo(f"Erreur : pas de rapport établi pour {event_id}", err=True)
        finish(EXIT_FAILED)
    if output.suffix == ".pdf":
        output.write_bytes(row.pdf)
    else:
        output.write_text(row.html, encoding="utf-8")
    typer.echo(f"Rapport version {row.version} écrit dans {output}")


@guide_app.callback(invoke_without_command=True)
def guide(
    context: typer.Context,
    event_type: Annotated[EventType | None, typer.Option("--type", help="type d'événement")] = None,
    as_json: JsonOption = False,
) -> None:
    """Le guide des bonnes pratiques d'un type d'événement : enseignements et actions de
    chaque retour d'expérience, du plus récent au plus ancien."""
    if context.invoked_subcommand is not None:
        return
    if event_type is None:
        refuse("Guide :", ["indiquez le type d'événement : tocsin guide --type inondation"])
    settings = load_settings()
    entries = read_store(settings, lambda session: reviews.guide(session, event_type.value))
    if as_json:
        print_json(entries)
        return
    typer.echo(f"Guide des bonnes pratiques : {event_type.label} ({len(entries)} événement(s))")
    for entry in entries:
        drill = " (exercice)" if entry.exercise else ""
        typer.echo(f"\n{entry.title}{drill}, déclaré le {in_paris(entry.declared_at)}")
        typer.echo(f"  rapport : {settings.public_url.rstrip('/')}{entry.report_path}")
        for lesson in entry.lessons:
            typer.echo(f"  - {lesson.question}\n    « {lesson.text} » ({lesson.who})")
        for planned in entry.actions:
            typer.echo(f"  * {planned.what} : {planned.owner}, {planned.due} ({planned.state})")


def _edition_line(progress: GuideDiffusionProgress) -> str:
    edition = progress.edition
    assert edition is not None
    return (
        f"Édition n°{edition.number} du {edition.published_at.strftime('%d/%m/%Y')} "
        f"({edition.events} retour(s) d'expérience)"
    )


@guide_app.command("publish")
def publish(
    event_type: Annotated[EventType, typer.Option("--type", help="type d'événement")],
    department: Annotated[
        str | None, typer.Option(help="seulement les CCAS/CIAS et l'UD de ce département")
    ] = None,
) -> None:
    """Diffuser le guide en PDF (édition numérotée, datée) par email à chaque direction
    de CCAS/CIAS et à chaque UD ; relancé, il n'envoie qu'à ceux qui ne l'ont pas."""
    settings = load_settings()

    def show(progress: GuideDiffusionProgress) -> None:
        typer.echo(f"  {progress.done}/{progress.recipients} destinataire(s) traité(s)")

    async def command(client: Client) -> int:
        try:
            done = await guide_control.publish(
                client, settings.task_queue, event_type, department, show
            )
        except guide_control.UnknownDepartmentError as error:
            explain("Diffusion refusée :", [str(error)])
            return EXIT_REFUSED
        scope = f"département {department}" if department else "tout le réseau"
        typer.echo(f"{_edition_line(done)}, {scope} : {done.recipients} destinataire(s).")
        typer.echo(
            f"{done.sent} envoyé(s), {done.already_sent} l'avaient déjà reçu, "
            f"{done.failed} échec(s)."
        )
        return EXIT_FAILED if done.failed else 0

    run_client_command(settings, command)
