"""``tocsin directory``: import, export and the demo crisis directory."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.common import checked_store, load_settings, read_store, refuse
from cli.directory_verification import VERIFICATION_COMMANDS
from definitions.directory import Directory
from definitions.directory_csv import (
    DirectoryImportError,
    read_directory,
    write_directory,
    write_workbook,
)
from definitions.phone_numbers import accepts_sms
from definitions.territory import load_territory
from store import directory as stored_directory
from worker.demo_directory import demo_directory
from worker.settings import Settings

ORGANISATIONS_FILE = "organisations.csv"
CONTACTS_FILE = "contacts.csv"
WORKBOOK_FILE = "annuaire.xlsx"


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


directory_app = typer.Typer(help="Annuaire de crise : import, export, démo.", no_args_is_help=True)


def import_files(settings: Settings, organisations: Path, contacts: Path | None) -> Directory:
    """All or nothing: raises DirectoryImportError with every problem found, and
    the directory in the database is replaced only when there is none."""
    directory = read_directory(organisations, contacts, load_territory())
    store = checked_store(settings)
    try:
        with store.session() as session:
            stored_directory.replace_directory(session, directory)
            session.commit()
    finally:
        store.dispose()
    return directory


def _import_or_refuse(settings: Settings, organisations: Path, contacts: Path | None) -> None:
    try:
        directory = import_files(settings, organisations, contacts)
    except DirectoryImportError as error:
        refuse(
            f"Import refusé, annuaire inchangé ({error}) :",
            [str(problem) for problem in error.problems],
        )
    typer.echo(f"Annuaire importé : {stored_directory.directory_summary(directory)}.")
    fixed = [c.id for c in directory.contacts if c.phone and not accepts_sms(c.phone)]
    if fixed:
        typer.echo(
            f"{len(fixed)} contact(s) sur ligne fixe, pas de SMS (joints par email) : "
            + ", ".join(fixed)
        )


def _readable(path: Path) -> Path:
    if not path.is_file():
        refuse("Import refusé, annuaire inchangé :", [f"{path} : fichier introuvable"])
    return path


@directory_app.command("import")
def import_command(
    organisations: Annotated[
        Path,
        typer.Argument(
            help="organisations (CSV ou .xlsx), ou un classeur .xlsx aux feuilles "
            "organisations et contacts"
        ),
    ],
    contacts: Annotated[
        Path | None, typer.Argument(help="contacts (CSV ou .xlsx), sauf classeur unique")
    ] = None,
) -> None:
    """Remplacer l'annuaire par ces fichiers (tout ou rien)."""
    _import_or_refuse(
        load_settings(), _readable(organisations), _readable(contacts) if contacts else None
    )


@directory_app.command("export")
def export_command(
    output_dir: Annotated[Path, typer.Option(help="dossier où écrire l'annuaire")] = Path(),
    format_: Annotated[
        ExportFormat,
        typer.Option("--format", help="csv : deux fichiers ; xlsx : un classeur, deux feuilles"),
    ] = ExportFormat.CSV,
) -> None:
    """Écrire l'annuaire en organisations.csv et contacts.csv, ou en annuaire.xlsx."""
    directory = read_store(load_settings(), stored_directory.read_directory)
    output_dir.mkdir(parents=True, exist_ok=True)
    if format_ is ExportFormat.XLSX:
        write_workbook(directory, output_dir / WORKBOOK_FILE)
    else:
        write_directory(directory, output_dir / ORGANISATIONS_FILE, output_dir / CONTACTS_FILE)
    typer.echo(
        f"Annuaire exporté dans {output_dir} : {stored_directory.directory_summary(directory)}."
    )


def write_and_import_demo(settings: Settings, output_dir: Path) -> Directory:
    output_dir.mkdir(parents=True, exist_ok=True)
    organisations, contacts = output_dir / ORGANISATIONS_FILE, output_dir / CONTACTS_FILE
    write_directory(demo_directory(load_territory()), organisations, contacts)
    return import_files(settings, organisations, contacts)


@directory_app.command("demo")
def demo_command(
    output_dir: Annotated[
        Path | None, typer.Option(help="dossier des CSV (défaut : STATE_DIR/demo-directory)")
    ] = None,
) -> None:
    """Écrire et importer l'annuaire fictif national de démonstration."""
    settings = load_settings()
    target = output_dir or settings.state_dir / "demo-directory"
    directory = write_and_import_demo(settings, target)
    typer.echo(
        f"Annuaire de démonstration écrit dans {target} et importé : "
        f"{stored_directory.directory_summary(directory)}."
    )


for _name, _command in VERIFICATION_COMMANDS.items():
    directory_app.command(_name)(_command)
