"""``tocsin directory verify|status|schedule|pause|resume``: verification
campaigns of the crisis directory and its freshness, from a terminal."""

from collections.abc import Callable
from typing import Annotated, Any

import typer
from temporalio.client import Client

from cli.client_command import CLI_ACTOR, run_client_command
from cli.common import EXIT_FAILED, EXIT_REFUSED, checked_store, explain, load_settings
from cli.json_output import JsonOption, print_json
from definitions.committee import in_paris
from definitions.directory import OrganisationKind
from definitions.directory_verification import (
    VERIFIED_KINDS,
    CampaignAnswers,
    DepartmentFreshness,
    OrganisationFreshness,
)
from operations import directory_verification

Departments = Annotated[
    list[str] | None, typer.Option("--department", help="code de département (répétable)")
]
Kinds = Annotated[
    list[OrganisationKind] | None,
    typer.Option("--kind", help="ccas, cias, ud ou prefecture (répétable)"),
]
STALE_LISTED = 10


def verify(departments: Departments = None, kinds: Kinds = None) -> None:
    """Lancer une campagne de vérification : SMS (OK + code) et email avec lien
    vers la page de correction, une relance, les silencieux signalés à leur UD."""
    settings = load_settings()
    unknown = [kind.value for kind in kinds or [] if kind not in VERIFIED_KINDS]
    if unknown:
        explain("Campagne refusée :", [f"type non vérifié : {kind}" for kind in unknown])
        raise typer.Exit(EXIT_REFUSED)

    async def command(client: Client) -> int:
        try:
            handle = await directory_verification.start(
                client, settings.task_queue, departments or [], kinds or [], CLI_ACTOR
            )
        except directory_verification.UnknownDepartmentError as error:
            explain("Campagne refusée :", [str(error)])
            return EXIT_REFUSED
        scope = ", ".join(departments) if departments else "toute la France"
        typer.echo(f"Campagne de vérification lancée ({scope}) : {handle.id}")
        return 0

    run_client_command(settings, command)


def render_freshness(table: list[DepartmentFreshness]) -> str:
    lines = ["Fraîcheur de l'annuaire (confirmé depuis moins de six mois), du moins frais :"]
    for row in table:
        lines.append(
            f"  {row.department:>3} : {row.fresh}/{row.organisations} à jour "
            f"({row.share:.0%}), {len(row.stale)} à vérifier"
        )
        lines += _first_few([_stale_line(stale) for stale in row.stale])
        if row.campaign is not None:
            lines += _campaign_lines(row.campaign)
    return "\n".join(lines)


def _campaign_lines(campaign: CampaignAnswers) -> list[str]:
    """The latest campaign that asked the department, and who has not answered it."""
    silent = campaign.unanswered
    lines = [
        f"      sans réponse à la campagne {campaign.campaign_id} : {len(silent)} sur "
        f"{campaign.asked}"
    ]
    return lines + _first_few([f"{o.name} ({o.organisation_id})" for o in silent])


def _stale_line(stale: OrganisationFreshness) -> str:
    since = (
        f"confirmée le {in_paris(stale.confirmed_at)}" if stale.confirmed_at else "jamais confirmée"
    )
    if stale.failing_since:
        since += f", message non remis le {in_paris(stale.failing_since)}"
    return f"{stale.name} ({stale.organisation_id}) : {since}"


def _first_few(items: list[str]) -> list[str]:
    """The first STALE_LISTED items, indented, and how many more there are."""
    shown = [f"        {item}" for item in items[:STALE_LISTED]]
    if len(items) > STALE_LISTED:
        shown.append(f"        … et {len(items) - STALE_LISTED} autre(s)")
    return shown


def status(
    department: Annotated[str | None, typer.Option(help="un seul département")] = None,
    as_json: JsonOption = False,
) -> None:
    """Afficher la fraîcheur de l'annuaire par département, et les structures à vérifier."""
    store = checked_store(load_settings())
    try:
        table = directory_verification.freshness(store, department)
    finally:
        store.dispose()
    if as_json:
        print_json(table)
        return
    if not table:
        typer.echo("Aucune structure dans l'annuaire pour ce périmètre.")
        return
    typer.echo(render_freshness(table))


def schedule(
    departments: Departments = None,
    kinds: Kinds = None,
    cron: Annotated[
        str, typer.Option(help="quand (cron, heure de Paris) ; défaut : chaque trimestre")
    ] = directory_verification.QUARTERLY,
) -> None:
    """Programmer la campagne récurrente (chaque trimestre par défaut) et le point
    quotidien des corrections envoyé aux UD et à l'UNCCAS."""
    settings = load_settings()

    async def command(client: Client) -> int:
        try:
            await directory_verification.schedule(
                client, settings.task_queue, departments or [], kinds or [], cron
            )
        except (
            directory_verification.UnknownDepartmentError,
            directory_verification.ScheduleRefusedError,
        ) as error:
            explain("Programmation refusée :", [str(error)])
            return EXIT_REFUSED
        return await _print_schedule(client)

    run_client_command(settings, command)


async def _print_schedule(client: Client) -> int:
    state = await directory_verification.schedule_state(client)
    if state is None:
        typer.echo("Aucune campagne programmée.")
        return EXIT_FAILED
    paused, upcoming = state
    when = in_paris(upcoming) if upcoming else "—"
    typer.echo(f"Campagne programmée : {'en pause' if paused else 'active'}, prochaine le {when}.")
    return 0


def _pausing(paused: bool) -> Callable[[], None]:
    def command() -> None:
        settings = load_settings()

        async def run(client: Client) -> int:
            try:
                await directory_verification.set_paused(client, paused)
            except directory_verification.ScheduleMissingError as error:
                explain("Impossible :", [str(error)])
                return EXIT_FAILED
            return await _print_schedule(client)

        run_client_command(settings, run)

    command.__doc__ = (
        "Mettre en pause la campagne programmée (une campagne en cours continue)."
        if paused
        else "Reprendre la campagne programmée."
    )
    return command


VERIFICATION_COMMANDS: dict[str, Callable[..., Any]] = {
    "verify": verify,
    "status": status,
    "schedule": schedule,
    "pause": _pausing(True),
    "resume": _pausing(False),
}
