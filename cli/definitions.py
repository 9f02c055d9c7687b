"""``tocsin definitions check``: protocols, templates and fiches, as the worker will
load them."""

import typer

from cli.common import EXIT_FAILED, load_settings
from cli.json_output import JsonOption, print_json
from definitions.definitions_check import check_definitions
from definitions.loader import DefinitionsError, load_definitions

definitions_app = typer.Typer(
    help="Protocoles, modèles de messages et fiches pratiques.", no_args_is_help=True
)


@definitions_app.command("check")
def check_command(as_json: JsonOption = False) -> None:
    """Vérifier protocoles, modèles et fiches ; encodage et segments de chaque SMS."""
    settings = load_settings()
    source = settings.definitions_dir or "définitions livrées"
    try:
        definitions = load_definitions(settings.definitions_dir)
    except DefinitionsError as error:
        typer.echo(f"Définitions invalides ({source}) :", err=True)
        for problem in error.problems:
            typer.echo(f"  - {problem}", err=True)
        raise typer.Exit(EXIT_FAILED) from error
    report = check_definitions(definitions)
    if as_json:
        print_json(report)
        raise typer.Exit(EXIT_FAILED if report.problems else 0)
    typer.echo(f"Définitions : {source}")
    typer.echo(f"{'type':<20} {'étape':<24} {'encodage':<8} {'segments':>8} {'caractères':>10}")
    for sms in report.sms:
        typer.echo(
            f"{sms.event_type.value:<20} {sms.step.value:<24} {sms.encoding.value:<8} "
            f"{sms.segments:>5}/{sms.limit:<2} {sms.characters:>10}"
        )
    typer.echo(
        f"{len(report.sms)} SMS vérifiés (exercice, valeurs les plus longues), "
        f"{len(report.problems)} problème(s)."
    )
    typer.echo(f"{report.fiches} fiche(s) pratique(s), {len(report.warnings)} à relire.")
    for warning in report.warnings:
        typer.echo(f"  ! {warning}")
    for problem in report.problems:
        typer.echo(f"  - {problem}", err=True)
    if report.problems:
        raise typer.Exit(EXIT_FAILED)
