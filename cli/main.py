"""The ``tocsin`` command. Messages are French: they are read by on-call staff.

``dev``, ``worker`` and ``api`` import the workers and the gateway only when called:
every other command (``status``, ``broadcast``…) then starts in 2.5 s instead of 4."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from temporalio.client import Client

from cli.accounts import token_app, user_app
from cli.client_command import CLI_ACTOR, run_client_command
from cli.committee import committee_app
from cli.common import (
    EXIT_FAILED,
    EXIT_REFUSED,
    explain,
    finish,
    load_settings,
    open_store,
    refuse,
)
from cli.crisis_log import log_app
from cli.definitions import definitions_app
from cli.directory import directory_app
from cli.json_output import JsonOption, json_document, print_json
from cli.messaging import outbox_command, sms_reply_command
from cli.review import guide_app, review_app
from cli.status_view import render_centres, render_status
from definitions.alert_levels import AlertLevelChange
from definitions.designation import RepresentativeChange
from definitions.event import CloseRequest, EventDeclaration
from definitions.mobilisation import AreaExtension, SituationReport
from definitions.territory import load_territory
from definitions.territory.around import AreaError, communes_around, parse_point, parse_radius
from definitions.validation import describe_validation_error
from operations import event_control
from operations.mobilisation_reads import MobilisationReads
from store import events as stored_events
from store.database import SchemaMismatchError, Store

STATUS_LOG_LINES = 12

app = typer.Typer(
    help="Tocsin : coordination de crise du réseau UNCCAS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(directory_app, name="directory")
app.add_typer(definitions_app, name="definitions")
app.add_typer(committee_app, name="committee")
app.add_typer(review_app, name="review")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(guide_app, name="guide")
app.add_typer(log_app, name="log")
app.command("outbox")(outbox_command)
app.command("sms-reply")(sms_reply_command)


def _communes_around(point: str, radius: str | None, confirmed: bool) -> list[str]:
    """The communes within the radius, listed on stderr (stdout keeps the event id)
    and confirmed before anything starts."""
    if radius is None:
        refuse("Déclaration refusée :", ["--around demande --radius (ex. --radius 10km)"])
    try:
        lat, lon = parse_point(point)
        kilometres = parse_radius(radius)
    except AreaError as error:
        refuse("Déclaration refusée :", [str(error)])
    found = communes_around(load_territory(), lat, lon, kilometres)
    if not found:
        refuse("Déclaration refusée :", [f"aucune mairie à moins de {kilometres:g} km"])
    typer.echo(f"{len(found)} commune(s) à moins de {kilometres:g} km de {point} :", err=True)
    for commune, distance in found:
        typer.echo(f"  {commune.insee_code} {commune.name} ({distance:.1f} km)", err=True)
    answer = (
        "oui"
        if confirmed
        else str(typer.prompt("Déclarer sur ces communes ? (oui/non)", default="non", err=True))
    )
    if answer.strip().lower() not in {"o", "oui"}:
        refuse("Déclaration abandonnée :", ["rien n'a été lancé"])
    return [commune.insee_code for commune, _ in found]


@app.command()
def activate(
    event_type: Annotated[str, typer.Option("--type", help="type d'événement (ex. inondation)")],
    *,
    title: Annotated[str, typer.Option(help="titre court de l'événement")],
    commune: Annotated[
        list[str] | None, typer.Option(help="code INSEE d'une commune touchée (répétable)")
    ] = None,
    department: Annotated[
        list[str] | None, typer.Option(help="code d'un département touché en entier (répétable)")
    ] = None,
    exercise: Annotated[bool, typer.Option("--exercise", help="exercice, pas réel")] = False,
    around: Annotated[
        str | None,
        typer.Option(help="LAT,LON d'un site (accident industriel, nuage) : les communes autour"),
    ] = None,
    radius: Annotated[str | None, typer.Option(help="rayon autour de --around (ex. 10km)")] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="déclarer sans demander confirmation des communes")
    ] = False,
) -> None:
    """Déclarer un événement majeur ; affiche son identifiant."""
    settings = load_settings()
    communes = list(commune or [])
    if around is not None:
        communes += _communes_around(around, radius, yes)
    try:
        declaration = EventDeclaration(
            type=event_type,
            communes=communes,
            departments=department or [],
            title=title,
            exercise=exercise,
        )
    except ValidationError as error:
        refuse("Déclaration refusée :", describe_validation_error(error))
    try:
        event_control.check_area(declaration)
    except event_control.DeclarationRefusedError as error:
        refuse("Déclaration refusée :", error.problems)

    async def command(client: Client) -> int:
        event_id = await event_control.activate(client, settings.task_queue, declaration, CLI_ACTOR)
        typer.echo(event_id)
        return 0

    run_client_command(settings, command)


@app.command()
def status(
    event_id: Annotated[str, typer.Argument(help="identifiant de l'événement")],
    as_json: JsonOption = False,
    department: Annotated[
        str | None, typer.Option(help="lister chaque CCAS/CIAS de ce département")
    ] = None,
) -> None:
    """Afficher l'état d'un événement (ou de chaque centre d'un département)."""
    settings = load_settings()

    async def show(client: Client, store: Store) -> int:
        reads = MobilisationReads(client, store)
        if department is not None:
            departments = await reads.departments(event_id, department)
            if not departments:
                explain("Centres :", [f"aucune mobilisation dans le département {department}"])
                return EXIT_REFUSED
            shown = departments[0]
            typer.echo(json_document(shown) if as_json else render_centres(shown))
            return 0
        event_status = await event_control.status(client, event_id)
        if as_json:
            print_json(event_status)
            return 0
        overview = await reads.overview(event_id)
        with store.session() as session:
            entries = stored_events.crisis_log(session, event_id, limit=STATUS_LOG_LINES)
            total = stored_events.crisis_log_count(session, event_id)
        typer.echo(render_status(event_status, entries, total, overview))
        return 0

    async def command(client: Client) -> int:
        store = open_store(settings)
        try:
            return await show(client, store)
        finally:
            store.dispose()

    run_client_command(settings, command)


@app.command()
def close(
    event_id: Annotated[str, typer.Argument(help="identifiant de l'événement")],
    reason: Annotated[str, typer.Option(help="motif de la levée du dispositif")] = "",
    no_review: Annotated[
        bool, typer.Option("--no-review", help="sans retour d'expérience (déclaré par erreur)")
    ] = False,
) -> None:
    """Lever le dispositif : retour d'expérience, puis clôture quand son rapport est établi."""
    settings = load_settings()
    try:
        request = CloseRequest(closed_by=CLI_ACTOR, reason=reason, review=not no_review)
    except ValidationError as error:
        refuse("Clôture refusée :", describe_validation_error(error))

    async def command(client: Client) -> int:
        closed = await event_control.close(client, event_id, request)
        typer.echo(f"{event_id} : {closed.phase.label}")
        return 0

    run_client_command(settings, command)


@app.command()
def broadcast(
    event_id: Annotated[str, typer.Argument(help="identifiant de l'événement")],
    text: Annotated[str, typer.Argument(help="le point de situation")],
    author: Annotated[str, typer.Option(help="qui signe le point")] = CLI_ACTOR,
) -> None:
    """Envoyer un point de situation par SMS à chaque CCAS/CIAS mobilisé."""
    settings = load_settings()
    try:
        report = SituationReport(text=text, author=author)
    except ValidationError as error:
        refuse("Point de situation refusé :", describe_validation_error(error))

    async def command(client: Client) -> int:
        updated = await event_control.broadcast(client, event_id, report)
        typer.echo(
            f"{event_id} : point de situation transmis à "
            f"{len(updated.mobilised_departments)} département(s)"
        )
        return 0

    run_client_command(settings, command)


@app.command("alert-level")
def alert_level(
    event_id: Annotated[str, typer.Argument(help="identifiant de l'événement")],
    level: Annotated[str, typer.Argument(help="niveau annoncé, ex. alerte_rouge")],
    author: Annotated[str, typer.Option(help="qui l'annonce")] = CLI_ACTOR,
) -> None:
    """Enregistrer le niveau d'alerte annoncé (cyclone) ; ses consignes partent par SMS
    à chaque CCAS/CIAS mobilisé."""
    settings = load_settings()
    try:
        change = AlertLevelChange(level=level, changed_by=author)
    except ValidationError as error:
        refuse("Niveau d'alerte refusé :", describe_validation_error(error))

    async def command(client: Client) -> int:
        updated = await event_control.change_alert_level(client, event_id, change)
        current = updated.alert_levels[-1]
        typer.echo(
            f"{event_id} : {current.label} ({current.zone}), annoncé à "
            f"{len(updated.mobilised_departments)} département(s)"
        )
        return 0

    run_client_command(settings, command)


@app.command()
def extend(
    event_id: Annotated[str, typer.Argument(help="identifiant de l'événement")],
    commune: Annotated[list[str] | None, typer.Option(help="code INSEE (répétable)")] = None,
    department_code: Annotated[
        list[str] | None, typer.Option("--department", help="code de département (répétable)")
    ] = None,
) -> None:
    """Étendre la zone touchée : seuls les centres nouvellement compétents sont sollicités."""
    settings = load_settings()
    try:
        extension = AreaExtension(
            communes=commune or [], departments=department_code or [], requested_by=CLI_ACTOR
        )
    except ValidationError as error:
        refuse("Extension refusée :", describe_validation_error(error))

    async def command(client: Client) -> int:
        try:
            updated = await event_control.extend(client, event_id, extension)
        except event_control.DeclarationRefusedError as error:
            explain("Extension refusée :", error.problems)
            return EXIT_REFUSED
        territory = updated.territory
        area = territory.area() if territory else ""
        typer.echo(f"{event_id} : zone étendue, {area}")
        return 0

    run_client_command(settings, command)


def _change_representative(event_id: str, contact_id: str | None) -> None:
    settings = load_settings()
    change = RepresentativeChange(contact_id=contact_id, requested_by=CLI_ACTOR)

    async def command(client: Client) -> int:
        store = open_store(settings)
        try:
            changed = await event_control.change_representative(client, store, event_id, change)
        except (event_control.UnknownContactError, event_control.UnreachableContactError) as error:
            explain("Désignation refusée :", [str(error)])
            return EXIT_REFUSED
        finally:
            store.dispose()
        representative = changed.representative
        name = representative.person.name if representative else "personne"
        typer.echo(f"{event_id} : représentant(e) {name}")
        return 0

    run_client_command(settings, command)


@app.command()
def designate(
    event_id: Annotated[str, typer.Argument(help="identifiant de l'événement")],
    contact: Annotated[str, typer.Option(help="identifiant du contact dans l'annuaire")],
) -> None:
    """Désigner le/la représentant(e) à la main (met fin à la recherche)."""
    _change_representative(event_id, contact)


@app.command()
def handover(
    event_id: Annotated[str, typer.Argument(help="identifiant de l'événement")],
    to: Annotated[str | None, typer.Option(help="contact qui prend le relais")] = None,
    search: Annotated[bool, typer.Option("--search", help="nouvelle recherche")] = False,
) -> None:
    """Passer le relais à un autre représentant, désigné ou recherché dans l'astreinte."""
    if (to is None) == (not search):
        refuse("Relais refusé :", ["indiquez soit --to CONTACT, soit --search"])
    _change_representative(event_id, to)


@app.command()
def dev(
    http_port: Annotated[int | None, typer.Option(help="port de la passerelle HTTP")] = None,
    temporal_port: Annotated[int | None, typer.Option(help="port gRPC de Temporal")] = None,
    temporal_ui_port: Annotated[int | None, typer.Option(help="port de Temporal UI")] = None,
    state_dir: Annotated[Path | None, typer.Option(help="dossier d'état local")] = None,
    *,
    demo: Annotated[bool, typer.Option("--demo", help="dérouler un événement de démo")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="afficher aussi les journaux (sinon : dev.log)")
    ] = False,
) -> None:
    """Tout en un pour essayer Tocsin : serveur Temporal, worker et passerelle."""
    settings = load_settings(
        http_port=http_port,
        temporal_port=temporal_port,
        temporal_ui_port=temporal_ui_port,
        state_dir=state_dir,
    )
    from worker.dev_stack import run_dev_stack

    finish(asyncio.run(run_dev_stack(settings, demo, verbose=verbose)))


@app.command()
def migrate() -> None:
    """Mettre le schéma de la base à jour (tâche de déploiement, avant workers et passerelle)."""
    settings = load_settings()
    store = Store(settings.database_url)
    try:
        before, after = store.upgrade()
    except SchemaMismatchError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(EXIT_FAILED) from error
    except SQLAlchemyError as error:
        explain("Base de données inaccessible :", [str(error).splitlines()[0]])
        raise typer.Exit(EXIT_FAILED) from error
    finally:
        store.dispose()
    if before == after:
        typer.echo(f"Schéma déjà à jour (révision {after}).")
    else:
        typer.echo(f"Schéma mis à jour : révision {before or 'aucune'} → {after}.")


@app.command("worker")
def worker_command() -> None:
    """Lancer un worker Temporal (toutes les workflows et activités)."""
    from worker.processes import run_worker

    finish(asyncio.run(run_worker(load_settings())))


@app.command("api")
def api_command() -> None:
    """Lancer la passerelle HTTP."""
    from worker.processes import run_gateway

    finish(asyncio.run(run_gateway(load_settings())))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
