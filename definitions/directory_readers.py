"""Directory files as people save them, read into plain tables of text: CSV with ``,``
or ``;`` in UTF-8 (with or without BOM) or Windows-1252 as French Excel writes it, and
``.xlsx`` workbooks. Checking the rows is definitions.directory_csv's business."""

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zipfile import BadZipFile

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

MAX_FILE_BYTES = 20 * 1024 * 1024
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
OLD_FORMATS = (".xls", ".ods")
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
_SEPARATORS = re.compile(r"[\s_\-]+")


@dataclass(frozen=True)
class ImportProblem:
    file: str
    """The file, and for a workbook its sheet: ``annuaire.xlsx, feuille contacts``."""
    line: int
    column: str | None
    why: str

    def __str__(self) -> str:
        where = f"{self.file}, ligne {self.line}"
        if self.column:
            where += f", colonne {self.column}"
        return f"{where} : {self.why}"


@dataclass
class Table:
    """One sheet or CSV file: its header as written and its rows by line number."""

    source: str
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)


def column_key(name: str) -> str:
    """``  Département_Code`` and ``department code`` alike: no case, accents,
    surrounding spaces; inner spaces, hyphens and underscores are one separator."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub("_", letters)


def is_workbook(path: Path) -> bool:
    return path.suffix.lower() in WORKBOOK_SUFFIXES


def _too_big(path: Path) -> ImportProblem | None:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        why = f"fichier trop gros ({size} octets, {MAX_FILE_BYTES} au plus)"
        return ImportProblem(path.name, 0, None, why)
    if path.suffix.lower() in OLD_FORMATS:
        why = (
            f"format {path.suffix.lower()} non lu : enregistrez le classeur au format "
            ".xlsx (Excel 2007 et suivants) ou en CSV"
        )
        return ImportProblem(path.name, 0, None, why)
    return None


def _decode(path: Path, data: bytes) -> str | ImportProblem:
    """UTF-8 first; a file without a single UTF-8 accented letter that is not UTF-8 is
    Windows-1252 (whatever BOM a tool put before it). One that mixes both is damaged,
    and refused where it breaks."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        broken = ImportProblem(path.name, line, None, "fichier non UTF-8 (caractère illisible)")
        body = data.removeprefix(codecs.BOM_UTF8)
        if _UTF8_SEQUENCE.search(body):
            return broken
    try:
        return body.decode("cp1252")
    except UnicodeDecodeError:
        return broken


def _delimiter(text: str) -> str:
    """French Excel separates with ``;`` (the comma being its decimal point)."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def read_csv(path: Path) -> Table:
    problem = _too_big(path)
    if problem is not None:
        return Table(path.name, [], problems=[problem])
    text = _decode(path, path.read_bytes())
    if isinstance(text, ImportProblem):
        return Table(path.name, [], problems=[text])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    table = Table(path.name, [])
    try:
        for index, cells in enumerate(reader):
            if index == 0:
                table.header = cells
            else:
                table.rows.append((reader.line_num, cells))
    except csv.Error as error:
        table.problems.append(
            ImportProblem(path.name, reader.line_num, None, f"CSV illisible : {error}")
        )
    return table


def _cell_text(value: object) -> str:
    """A cell as its text: integers without ``.0``, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _sheet_table(source: str, sheet: Worksheet) -> Table:
    rows = sheet.iter_rows(values_only=True)
    header = [_cell_text(value) for value in next(rows, ())]
    table = Table(source, header)
    for number, values in enumerate(rows, start=2):
        table.rows.append((number, [_cell_text(value) for value in values]))
    merged = [str(cells.coord) for cells in sheet.merged_cells.ranges if cells.min_row == 1]
    if merged:
        why = f"cellules d'en-tête fusionnées ({', '.join(merged)}) : un nom par colonne"
        table.problems.append(ImportProblem(source, 1, None, why))
    return table


def read_workbook(path: Path, sheet_names: tuple[str, ...]) -> list[Table]:
    """The sheets named ``sheet_names`` (any case) if the workbook has them all, else
    its first sheet alone."""
    problem = _too_big(path)
    if problem is not None:
        return [Table(path.name, [], problems=[problem])]
    try:
        workbook = load_workbook(path, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError) as error:
        why = f"classeur .xlsx illisible ({type(error).__name__})"
        return [Table(path.name, [], problems=[ImportProblem(path.name, 0, None, why)])]
    try:
        by_key = {column_key(sheet.title): sheet for sheet in workbook.worksheets}
        if sheet_names and all(column_key(name) in by_key for name in sheet_names):
            sheets = [by_key[column_key(name)] for name in sheet_names]
        else:
            sheets = workbook.worksheets[:1]
        return [_sheet_table(f"{path.name}, feuille {sheet.title}", sheet) for sheet in sheets]
    finally:
        workbook.close()
