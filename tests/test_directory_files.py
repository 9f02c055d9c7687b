"""Directory files as people save them: comma or semicolon CSV, UTF-8 with or without
BOM or Windows-1252, and .xlsx workbooks, all read as the same directory; and the
spreadsheet mistakes each refused with its place."""

import codecs
import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from cli.directory import directory_app
from definitions.directory import Directory
from definitions.directory_csv import DirectoryImportError, read_directory
from definitions.territory import load_territory
from store import directory as stored_directory
from store.database import Store
from tests.test_directory import CONTACTS, ORGANISATIONS


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _semicolons(text: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(_rows(text))
    return out.getvalue()


def _workbook(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def _problems(organisations: Path, contacts: Path | None) -> list[str]:
    with pytest.raises(DirectoryImportError) as refused:
        read_directory(organisations, contacts, load_territory())
    return [str(problem) for problem in refused.value.problems]


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> Directory:
    folder = tmp_path_factory.mktemp("utf8")
    (folder / "o.csv").write_text(ORGANISATIONS, encoding="utf-8")
    (folder / "c.csv").write_text(CONTACTS, encoding="utf-8")
    return read_directory(folder / "o.csv", folder / "c.csv", load_territory())


def test_semicolon_windows_1252_csv_reads_as_the_comma_utf8_one(
    tmp_path: Path, expected: Directory
) -> None:
    """With a BOM before the Windows-1252 text (organisations) or without (contacts)."""
    orgs, people = tmp_path / "organisations.csv", tmp_path / "contacts.csv"
    orgs.write_bytes(codecs.BOM_UTF8 + _semicolons(ORGANISATIONS).encode("cp1252"))
    people.write_bytes(_semicolons(CONTACTS).encode("cp1252"))
    assert "Préfecture du Nord" in {o.name for o in expected.organisations}
    assert read_directory(orgs, people, load_territory()) == expected


def test_csv_with_bom_and_loosely_written_column_names_reads_the_same(
    tmp_path: Path, expected: Directory
) -> None:
    header = " ID ;Kind;NAME;Insee Code;epci-SIREN;Department_Code ;E-Mail;Phone;Note"
    body = _semicolons(ORGANISATIONS).split("\r\n", 1)[1].replace("E-Mail", "email")
    orgs, people = tmp_path / "organisations.csv", tmp_path / "contacts.csv"
    orgs.write_bytes(("\ufeff" + header.replace("E-Mail", "Email") + "\r\n" + body).encode())
    people.write_bytes(("\ufeff" + CONTACTS.replace("organisation_id", "Organisation ID")).encode())
    assert read_directory(orgs, people, load_territory()) == expected


def test_one_workbook_with_two_sheets_reads_the_same(tmp_path: Path, expected: Directory) -> None:
    workbook = _workbook(
        tmp_path / "annuaire.xlsx",
        {"Organisations": _rows(ORGANISATIONS), "contacts": _rows(CONTACTS)},
    )
    assert read_directory(workbook, None, load_territory()) == expected


def test_export_as_xlsx_then_import_gives_the_same_directory(
    tmp_path: Path, store: Store, expected: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.session() as session:
        stored_directory.replace_directory(session, expected)
        session.commit()
        before = stored_directory.read_directory(session)
    monkeypatch.setenv("TOCSIN_DATABASE_URL", store.url)
    runner = CliRunner()
    exported = runner.invoke(
        directory_app, ["export", "--output-dir", str(tmp_path), "--format", "xlsx"]
    )
    assert exported.exit_code == 0, exported.output
    sheet = load_workbook(tmp_path / "annuaire.xlsx")["contacts"]
    assert sheet["E2"].value == "+33639980004" and sheet["E2"].number_format == "@"
    imported = runner.invoke(directory_app, ["import", str(tmp_path / "annuaire.xlsx")])
    assert imported.exit_code == 0, imported.output
    with store.session() as session:
        assert stored_directory.read_directory(session) == before


def test_spreadsheet_mistakes_are_each_refused_with_their_place(tmp_path: Path) -> None:
    organisations = _rows(ORGANISATIONS)
    organisations[6][5] = "989"
    contacts = _rows(CONTACTS)
    contacts[1][4] = "6,39998E+08"
    contacts.insert(3, ["", "", "", "", "", "", ""])
    contacts.append(["dir-974", "ccas-59350", "Nadia Hoarau", "director", "0692 12 34 56", "", ""])
    workbook = _workbook(
        tmp_path / "annuaire.xlsx", {"organisations": organisations, "contacts": contacts}
    )
    assert _problems(workbook, None) == [
        "annuaire.xlsx, feuille organisations, ligne 7, colonne department_code : "
        "département inconnu 989",
        "annuaire.xlsx, feuille contacts, ligne 2, colonne phone : numéro en notation "
        "scientifique « 6,39998E+08 » : le tableur l'a pris pour un nombre ; mettez la "
        "colonne au format texte et retapez-le",
        "annuaire.xlsx, feuille contacts, ligne 4 : ligne vide au milieu du tableau : supprimez-la",
        "annuaire.xlsx, feuille contacts, ligne 7, colonne phone : numéro de téléphone "
        "invalide « 0692 12 34 56 » (ex. 06 39 98 00 01)",
    ]


def test_missing_column_and_merged_header_cells_are_refused(tmp_path: Path) -> None:
    organisations = [row[:7] for row in _rows(ORGANISATIONS)]
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in _rows(CONTACTS):
        sheet.append(row)
    sheet.merge_cells("E1:F1")
    workbook.save(tmp_path / "contacts.xlsx")
    orgs = _workbook(tmp_path / "organisations.xlsx", {"Feuil1": organisations})
    assert _problems(orgs, tmp_path / "contacts.xlsx") == [
        "organisations.xlsx, feuille Feuil1, ligne 1 : colonne(s) manquante(s) : phone",
        "contacts.xlsx, feuille Sheet, ligne 1 : cellules d'en-tête fusionnées (E1:F1) : "
        "un nom par colonne",
        "contacts.xlsx, feuille Sheet, ligne 1 : colonne(s) manquante(s) : email",
    ]


def test_an_old_xls_or_a_lone_csv_is_refused_with_what_to_do(tmp_path: Path) -> None:
    old = tmp_path / "annuaire.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    assert _problems(old, None) == [
        "annuaire.xls, ligne 0 : format .xls non lu : enregistrez le classeur au format "
        ".xlsx (Excel 2007 et suivants) ou en CSV"
    ]
    lone = tmp_path / "organisations.csv"
    lone.write_text(ORGANISATIONS, encoding="utf-8")
    assert _problems(lone, None) == [
        "organisations.csv, ligne 0 : un seul fichier : un classeur .xlsx avec les feuilles "
        "organisations et contacts ; sinon donnez les deux fichiers"
    ]
