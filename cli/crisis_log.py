"""``tocsin log``: an event's whole crisis log, exported for the préfecture and the
DIAV (the store is read directly: no Temporal server needed). The PDF library is
imported only by the command that writes, not by every ``tocsin`` start."""

from pathlib import Path
from typing import Annotated

import typer

from cli.common import EXIT_FAILED, checked_store, load_settings, refuse

log_app = typer.Typer(help="Main courante d'un événement.", no_args_is_help=True)


@log_app.command("export")
def export(
    event_id: Annotated[str, typer.Argument(help="identifiant de l'événement")],
    output: Annotated[Path, typer.Option(help="fichier .csv ou .pdf à écrire")],
) -> None:
    """Toute la main courante, une ligne par entrée : heure, auteur, type, texte."""
    from operations.crisis_log_export import LogExport, UnknownExportFormatError  # noqa: PLC0415

    if output.suffix.lower() not in {".csv", ".pdf"}:
        refuse("Export refusé :", [f"{output} : le fichier doit finir par .csv ou .pdf"])
    store = checked_store(load_settings())
    try:
        exported = LogExport.read(store, event_id)
    finally:
        store.dispose()
    if exported is None:
        typer.echo(f"Événement inconnu : {event_id}", err=True)
        raise typer.Exit(EXIT_FAILED)
    try:
        exported.write(output)
    except (OSError, UnknownExportFormatError) as error:
        typer.echo(f"Écriture impossible : {error}", err=True)
        raise typer.Exit(EXIT_FAILED) from error
    typer.echo(f"{len(exported.entries)} entrée(s) de la main courante écrites dans {output}.")
