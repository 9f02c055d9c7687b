"""Reading and writing the crisis directory: two CSV files, two workbooks, or one
workbook with the sheets ``organisations`` and ``contacts``.

Reading is all or nothing: every problem of both tables is collected (file or sheet,
line, column, why) and the directory is only returned when there is none.
"""

import csv
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from openpyxl import Workbook
from pydantic import BaseModel, ValidationError

from definitions.directory import (
    PHONE_REGION,
    Contact,
    ContactRole,
    Directory,
    Organisation,
    OrganisationKind,
)
from definitions.directory_readers import (
    MAX_FILE_BYTES,
    ImportProblem,
    Table,
    column_key,
    is_workbook,
    read_csv,
    read_workbook,
)
from definitions.phone_numbers import phone_region
from definitions.territory import Territory
from definitions.validation import describe_error

__all__ = [
    "MAX_FILE_BYTES",
    "DirectoryImportError",
    "ImportProblem",
    "read_directory",
    "write_directory",
    "write_workbook",
]

ORGANISATION_COLUMNS = (
    "id",
    "kind",
    "name",
    "insee_code",
    "epci_siren",
    "department_code",
    "email",
    "phone",
)
CONTACT_COLUMNS = ("id", "organisation_id", "name", "role", "phone", "email", "roster_rank")
SHEETS = ("organisations", "contacts")

Row = TypeVar("Row", bound=BaseModel)


class DirectoryImportError(ValueError):
    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__(f"{len(problems)} problème(s) dans l'annuaire")
        self.problems = problems


@dataclass
class _Parsed(Generic[Row]):
    rows: list[tuple[int, Row]]
    problems: list[ImportProblem]
    ids: set[str] | None
    """Every id in the table, valid row or not, so that a contact of an organisation
    whose row has a typo is not reported as an orphan too; None when the table
    could not be read at all."""


Context = Callable[[Mapping[str, str]], dict[str, str]]


def _positions(table: Table, columns: tuple[str, ...]) -> dict[str, int] | ImportProblem:
    """Where each wanted column is, its name matched without case, accents or spaces."""
    keys = [column_key(name) for name in table.header]
    missing = [column for column in columns if column not in keys]
    if missing:
        empty = not any(name.strip() for name in table.header)
        why = "fichier vide" if empty else f"colonne(s) manquante(s) : {', '.join(missing)}"
        return ImportProblem(table.source, 1, None, why)
    return {column: keys.index(column) for column in columns}


def _parse(
    table: Table, columns: tuple[str, ...], model: type[Row], context: Context
) -> _Parsed[Row]:
    if table.problems and not table.header:
        return _Parsed([], table.problems, None)
    positions = _positions(table, columns)
    if isinstance(positions, ImportProblem):
        return _Parsed([], [*table.problems, positions], None)
    ids: set[str] = set()
    parsed: _Parsed[Row] = _Parsed([], list(table.problems), ids)
    blank_since: int | None = None
    for line, cells in table.rows:
        if not any(cell.strip() for cell in cells):
            blank_since = blank_since or line
            continue
        if blank_since is not None:
            why = "ligne vide au milieu du tableau : supprimez-la"
            parsed.problems.append(ImportProblem(table.source, blank_since, None, why))
            blank_since = None
        values = {
            column: cells[index] if index < len(cells) else ""
            for column, index in positions.items()
        }
        ids.add(values["id"].strip())
        try:
            parsed.rows.append((line, model.model_validate(values, context=context(values))))
        except ValidationError as error:
            parsed.problems += [
                ImportProblem(table.source, line, str(detail["loc"][0]), describe_error(detail))
                for detail in error.errors()
            ]
    return parsed


def _duplicates(
    source: str, rows: Iterable[tuple[int, str]], column: str, what: str
) -> list[ImportProblem]:
    seen: dict[str, int] = {}
    problems = []
    for line, key in rows:
        if key in seen:
            problems.append(
                ImportProblem(source, line, column, f"{what} déjà présent ligne {seen[key]}")
            )
        else:
            seen[key] = line
    return problems


_REQUIRED_CODE = {
    OrganisationKind.CCAS: "insee_code",
    OrganisationKind.CIAS: "epci_siren",
    OrganisationKind.UD: "department_code",
    OrganisationKind.PREFECTURE: "department_code",
    OrganisationKind.DEPARTEMENT: "department_code",
}
_ONE_PER_CODE = {
    OrganisationKind.CCAS: "CCAS de cette commune",
    OrganisationKind.CIAS: "CIAS de cet EPCI",
    OrganisationKind.UD: "UD de ce département",
    OrganisationKind.PREFECTURE: "préfecture de ce département",
    OrganisationKind.DEPARTEMENT: "conseil départemental de ce département",
}


def _unknown_codes(organisation: Organisation, territory: Territory) -> list[tuple[str, str]]:
    checks = (
        ("insee_code", territory.commune, "commune inconnue"),
        ("epci_siren", territory.epci, "EPCI inconnu"),
        ("department_code", territory.department, "département inconnu"),
    )
    return [
        (column, f"{why} {getattr(organisation, column)}")
        for column, lookup, why in checks
        if getattr(organisation, column) and lookup(getattr(organisation, column)) is None
    ]


def _organisation_problems(
    file: str, rows: list[tuple[int, Organisation]], territory: Territory
) -> list[ImportProblem]:
    problems = []
    for line, organisation in rows:
        needed = _REQUIRED_CODE.get(organisation.kind)
        if needed and getattr(organisation, needed) is None:
            why = f"obligatoire pour un(e) {organisation.kind.value}"
            problems.append(ImportProblem(file, line, needed, why))
        problems += [
            ImportProblem(file, line, column, why)
            for column, why in _unknown_codes(organisation, territory)
        ]
    problems += _duplicates(file, ((line, org.id) for line, org in rows), "id", "identifiant")
    for kind, what in _ONE_PER_CODE.items():
        column = _REQUIRED_CODE[kind]
        keyed = ((line, getattr(org, column)) for line, org in rows if org.kind is kind)
        problems += _duplicates(file, ((line, key) for line, key in keyed if key), column, what)
    return problems


def _contact_problems(
    file: str, rows: list[tuple[int, Contact]], organisation_ids: set[str] | None
) -> list[ImportProblem]:
    problems = []
    for line, contact in rows:
        if organisation_ids is not None and contact.organisation_id not in organisation_ids:
            problems.append(
                ImportProblem(
                    file,
                    line,
                    "organisation_id",
                    f"organisation inconnue {contact.organisation_id}",
                )
            )
        if contact.phone is None and contact.email is None:
            problems.append(
                ImportProblem(file, line, "phone", "ni téléphone ni email : injoignable")
            )
        if contact.roster_rank is not None and contact.role is not ContactRole.REPRESENTATIVE:
            problems.append(
                ImportProblem(
                    file, line, "roster_rank", "réservé aux contacts de rôle representative"
                )
            )
    problems += _duplicates(
        file, ((line, contact.id) for line, contact in rows), "id", "identifiant"
    )
    problems += _duplicates(
        file,
        (
            (line, str(contact.roster_rank))
            for line, contact in rows
            if contact.roster_rank is not None
        ),
        "roster_rank",
        "rang d'astreinte",
    )
    return problems


def department_of(
    department_code: str | None,
    insee_code: str | None,
    epci_siren: str | None,
    territory: Territory,
) -> str | None:
    """An organisation's department: its own code, its commune's, or its EPCI's."""
    if department_code:
        return department_code.strip().upper()
    commune = territory.commune(insee_code.strip().upper()) if insee_code else None
    if commune is not None:
        return commune.department_code
    members = territory.communes_of_epci(epci_siren.strip()) if epci_siren else []
    return members[0].department_code if members else None


def _organisation_department(values: Mapping[str, str], territory: Territory) -> str | None:
    return department_of(
        values.get("department_code"), values.get("insee_code"), values.get("epci_siren"), territory
    )


def _with_department(organisation: Organisation, territory: Territory) -> Organisation:
    """The department filled in from the commune or EPCI, for its numbers and time zone."""
    department = department_of(
        organisation.department_code, organisation.insee_code, organisation.epci_siren, territory
    )
    if department is None or territory.department(department) is None:
        return organisation
    return organisation.model_copy(update={"department_code": department})


def _table(path: Path) -> Table:
    return read_workbook(path, ())[0] if is_workbook(path) else read_csv(path)


def read_tables(organisations_path: Path, contacts_path: Path | None) -> tuple[Table, Table]:
    """Two files (CSV or workbooks, first sheet), or one workbook with both sheets."""
    if contacts_path is not None:
        return _table(organisations_path), _table(contacts_path)
    if is_workbook(organisations_path):
        tables = read_workbook(organisations_path, SHEETS)
    else:
        tables = [read_csv(organisations_path)]
    if len(tables) == len(SHEETS):
        return tables[0], tables[1]
    if tables[0].problems and not tables[0].header:
        return tables[0], Table(tables[0].source, [])
    why = (
        "un seul fichier : un classeur .xlsx avec les feuilles organisations et contacts ; "
        "sinon donnez les deux fichiers"
    )
    lone = Table(
        organisations_path.name, [], problems=[ImportProblem(organisations_path.name, 0, None, why)]
    )
    return lone, Table(organisations_path.name, [])


def read_directory(
    organisations_path: Path, contacts_path: Path | None, territory: Territory
) -> Directory:
    """Both tables, checked together; raises DirectoryImportError listing every problem.
    A national phone number is read in the region of its organisation's department."""
    departments: dict[str, str | None] = {}

    def organisation_context(values: Mapping[str, str]) -> dict[str, str]:
        department = _organisation_department(values, territory)
        departments[values["id"].strip()] = department
        return {PHONE_REGION: phone_region(department)}

    def contact_context(values: Mapping[str, str]) -> dict[str, str]:
        department = departments.get(values["organisation_id"].strip())
        return {PHONE_REGION: phone_region(department)}

    organisations_table, contacts_table = read_tables(organisations_path, contacts_path)
    organisations = _parse(
        organisations_table, ORGANISATION_COLUMNS, Organisation, organisation_context
    )
    if organisations.ids is None and contacts_path is None:
        raise DirectoryImportError(organisations.problems)
    contacts = _parse(contacts_table, CONTACT_COLUMNS, Contact, contact_context)
    problems = organisations.problems + contacts.problems
    problems += _organisation_problems(organisations_table.source, organisations.rows, territory)
    problems += _contact_problems(contacts_table.source, contacts.rows, organisations.ids)
    if problems:
        sources = [organisations_table.source, contacts_table.source]
        raise DirectoryImportError(
            sorted(problems, key=lambda problem: (sources.index(problem.file), problem.line))
        )
    return Directory(
        organisations=[_with_department(org, territory) for _, org in organisations.rows],
        contacts=[contact for _, contact in contacts.rows],
    )


def _cells(row: BaseModel, columns: tuple[str, ...]) -> list[str]:
    values = row.model_dump(mode="json", include=set(columns))
    return ["" if values[column] is None else str(values[column]) for column in columns]


def _write(path: Path, columns: tuple[str, ...], rows: Iterable[BaseModel]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(_cells(row, columns) for row in rows)


def write_directory(directory: Directory, organisations_path: Path, contacts_path: Path) -> None:
    _write(organisations_path, ORGANISATION_COLUMNS, directory.organisations)
    _write(contacts_path, CONTACT_COLUMNS, directory.contacts)


def _sheet(
    workbook: Workbook, name: str, columns: tuple[str, ...], rows: Iterable[BaseModel]
) -> None:
    sheet = workbook.create_sheet(name)
    sheet.append(columns)
    for row in rows:
        sheet.append(_cells(row, columns))
    for cells in sheet.iter_rows():
        for cell in cells:
            cell.number_format = "@"


def write_workbook(directory: Directory, path: Path) -> None:
    """One workbook, sheets ``organisations`` and ``contacts``, every cell text (so
    that a spreadsheet keeps the leading 0 of codes and the + of phones)."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    _sheet(workbook, "organisations", ORGANISATION_COLUMNS, directory.organisations)
    _sheet(workbook, "contacts", CONTACT_COLUMNS, directory.contacts)
    workbook.save(path)
