"""Reading and writing the crisis directory as two CSV files.

Reading is all or nothing: every problem of both files is collected (file, line,
column, why) and the directory is only returned when there is none.
"""

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from definitions.directory import (
    PHONE_REGION,
    Contact,
    ContactRole,
    Directory,
    Organisation,
    OrganisationKind,
)
from definitions.phone_numbers import phone_region
from definitions.territory import Territory
from definitions.validation import describe_error

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
MAX_FILE_BYTES = 20 * 1024 * 1024

Row = TypeVar("Row", bound=BaseModel)


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int
    column: str | None
    why: str

    def __str__(self) -> str:
        where = f"{self.file}, ligne {self.line}"
        if self.column:
            where += f", colonne {self.column}"
        return f"{where} : {self.why}"


class DirectoryImportError(ValueError):
    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__(f"{len(problems)} problème(s) dans l'annuaire")
        self.problems = problems


@dataclass
class _Parsed(Generic[Row]):
    rows: list[tuple[int, Row]]
    problems: list[ImportProblem]
    ids: set[str] | None
    """Every id in the file, valid row or not, so that a contact of an organisation
    whose row has a typo is not reported as an orphan too; None when the file
    could not be read at all."""


def _decode(path: Path) -> str | ImportProblem:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        return ImportProblem(
            path.name, 0, None, f"fichier trop gros ({size} octets, {MAX_FILE_BYTES} au plus)"
        )
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return ImportProblem(path.name, line, None, "fichier non UTF-8 (caractère illisible)")


Context = Callable[[Mapping[str, str]], dict[str, str]]


def _parse(
    path: Path, columns: tuple[str, ...], model: type[Row], context: Context
) -> _Parsed[Row]:
    text = _decode(path)
    if isinstance(text, ImportProblem):
        return _Parsed([], [text], None)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in columns if column not in header]
    if missing:
        why = f"colonne(s) manquante(s) : {', '.join(missing)}" if header else "fichier vide"
        return _Parsed([], [ImportProblem(path.name, 1, None, why)], None)
    reader.fieldnames = header
    ids: set[str] = set()
    parsed: _Parsed[Row] = _Parsed([], [], ids)
    try:
        for raw in reader:
            values = {column: (raw.get(column) or "") for column in columns}
            if not any(value.strip() for value in values.values()):
                continue
            ids.add(values["id"].strip())
            try:
                row = model.model_validate(values, context=context(values))
                parsed.rows.append((reader.line_num, row))
            except ValidationError as error:
                parsed.problems += [
                    ImportProblem(
                        path.name, reader.line_num, str(detail["loc"][0]), describe_error(detail)
                    )
                    for detail in error.errors()
                ]
    except csv.Error as error:
        parsed.problems.append(
            ImportProblem(path.name, reader.line_num, None, f"CSV illisible : {error}")
        )
    return parsed


def _duplicates(
    file: str, rows: Iterable[tuple[int, str]], column: str, what: str
) -> list[ImportProblem]:
    seen: dict[str, int] = {}
    problems = []
    for line, key in rows:
        if key in seen:
            problems.append(
                ImportProblem(file, line, column, f"{what} déjà présent ligne {seen[key]}")
            )
        else:
            seen[key] = line
    return problems


_REQUIRED_CODE = {
    OrganisationKind.CCAS: "insee_code",
    OrganisationKind.CIAS: "epci_siren",
    OrganisationKind.UD: "department_code",
    OrganisationKind.PREFECTURE: "department_code",
}
_ONE_PER_CODE = {
    OrganisationKind.CCAS: "CCAS de cette commune",
    OrganisationKind.CIAS: "CIAS de cet EPCI",
    OrganisationKind.UD: "UD de ce département",
    OrganisationKind.PREFECTURE: "préfecture de ce département",
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


def read_directory(
    organisations_path: Path, contacts_path: Path, territory: Territory
) -> Directory:
    """Both files, checked together; raises DirectoryImportError listing every problem.
    A national phone number is read in the region of its organisation's department."""
    departments: dict[str, str | None] = {}

    def organisation_context(values: Mapping[str, str]) -> dict[str, str]:
        department = _organisation_department(values, territory)
        departments[values["id"].strip()] = department
        return {PHONE_REGION: phone_region(department)}

    def contact_context(values: Mapping[str, str]) -> dict[str, str]:
        department = departments.get(values["organisation_id"].strip())
        return {PHONE_REGION: phone_region(department)}

    organisations = _parse(
        organisations_path, ORGANISATION_COLUMNS, Organisation, organisation_context
    )
    contacts = _parse(contacts_path, CONTACT_COLUMNS, Contact, contact_context)
    problems = organisations.problems + contacts.problems
    problems += _organisation_problems(organisations_path.name, organisations.rows, territory)
    problems += _contact_problems(contacts_path.name, contacts.rows, organisations.ids)
    if problems:
        files = [organisations_path.name, contacts_path.name]
        raise DirectoryImportError(
            sorted(problems, key=lambda problem: (files.index(problem.file), problem.line))
        )
    return Directory(
        organisations=[_with_department(org, territory) for _, org in organisations.rows],
        contacts=[contact for _, contact in contacts.rows],
    )


def _write(path: Path, columns: tuple[str, ...], rows: Iterable[BaseModel]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            values = row.model_dump(mode="json", include=set(columns))
            writer.writerow({key: "" if value is None else value for key, value in values.items()})


def write_directory(directory: Directory, organisations_path: Path, contacts_path: Path) -> None:
    _write(organisations_path, ORGANISATION_COLUMNS, directory.organisations)
    _write(contacts_path, CONTACT_COLUMNS, directory.contacts)
