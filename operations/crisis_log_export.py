"""An event's whole crisis log, for the préfecture and the DIAV: CSV (one row per
entry: time in Paris, author, kind, text; semicolons and a BOM, as spreadsheets
in France open it) and PDF (the same lines, paginated, in the report's embedded
Unicode font). The console, the API and ``tocsin log export`` share it."""

import csv
import io
import textwrap
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from activities.review_report_pdf import FONT, FONTS
from definitions.committee import in_paris
from definitions.crisis_log import CrisisLogEntry
from store import events
from store.database import Store
from store.tables import EventRow

HEADER = ("heure (Paris)", "auteur", "type", "texte")
CSV_TYPE = "text/csv; charset=utf-8"
PDF_TYPE = "application/pdf"
WRAP_COLUMNS = 120
LINE_HEIGHT = 4.0


class UnknownExportFormatError(ValueError):
    """Only .csv and .pdf are written."""


class LogExport:
    """An event's title and every line of its crisis log, oldest first."""

    def __init__(self, event_id: str, title: str, entries: list[CrisisLogEntry]) -> None:
        self.event_id = event_id
        self.title = title
        self.entries = entries

    @classmethod
    def read(cls, store: Store, event_id: str, within: str | None = None) -> "LogExport | None":
        """None for an event the store does not know; ``within``: a departmental
        union's department, as ``events.crisis_log`` reads it."""
        with store.session() as session:
            event = session.get(EventRow, event_id)
            if event is None:
                return None
            return cls(event_id, event.title, events.crisis_log(session, event_id, within=within))

    def csv(self) -> bytes:
        return crisis_log_csv(self.entries)

    def pdf(self) -> bytes:
        return crisis_log_pdf(f"{self.title} ({self.event_id})", self.entries)

    def write(self, path: Path) -> None:
        """The export in the format the file's name says."""
        suffix = path.suffix.lower()
        if suffix == ".csv":
            path.write_bytes(self.csv())
        elif suffix == ".pdf":
            path.write_bytes(self.pdf())
        else:
            raise UnknownExportFormatError(suffix)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _as_text(cell: str) -> str:
    """A cell a spreadsheet would run as a formula is kept as text: the export is
    opened in Excel at the préfecture, and centres' names come from imported files."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def _row(entry: CrisisLogEntry) -> tuple[str, str, str, str]:
    return in_paris(entry.at), _as_text(entry.actor), entry.kind.value, _as_text(entry.text)


def crisis_log_csv(entries: list[CrisisLogEntry]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(_row(entry) for entry in entries)
    return buffer.getvalue().encode("utf-8-sig")


class _LogPdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_title(title)
        self.set_author("UNCCAS - Tocsin")
        self.set_auto_page_break(auto=True, margin=15)
        self.log_title = title

    def header(self) -> None:
        self.set_font(FONT, "B", 8)
        self.cell(0, 5, self.log_title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=7)
        self.cell(0, 5, f"Main courante – page {self.page_no()}/{{nb}}", align="C")


def _wrapped(pdf: FPDF, text: str, width: float) -> list[str]:
    """``text`` in lines that fit ``width``: wrapped by characters first (fast), and
    narrower where a line of wide characters would still overflow."""
    for columns in range(WRAP_COLUMNS, 20, -10):
        lines = textwrap.wrap(text, columns, break_on_hyphens=False) or [""]
        if all(pdf.get_string_width(line) <= width for line in lines):
            return lines
    return lines


def crisis_log_pdf(title: str, entries: list[CrisisLogEntry]) -> bytes:
    """One line per entry (time, author, kind, then the text, wrapped; an entry
    never split across pages): cells and a wrapping of its own, for fpdf2's
    ``multi_cell`` takes seconds per thousand lines and a national event has
    thousands."""
    pdf = _LogPdf(f"Main courante – {title}")
    pdf.add_page()
    pdf.set_font(FONT, size=8)
    pdf.cell(0, 5, f"{len(entries)} entrée(s), dans l'ordre.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    width = pdf.epw
    for entry in entries:
        lines = _wrapped(pdf, " – ".join(_row(entry)), width)
        if pdf.will_page_break(LINE_HEIGHT * len(lines)):
            pdf.add_page()
        for line in lines:
            pdf.cell(0, LINE_HEIGHT, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    return bytes(pdf.output())
