"""An edition of the guide of good practice as a PDF: each reviewed event's lessons
and corrective actions, newest first, in the report's embedded font."""

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from activities.review_report_pdf import FONT, FONTS, LINE
from definitions.committee import in_paris
from definitions.guide import GuideEdition
from definitions.review import GuideEntry


class _GuidePdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_title(title)
        self.set_author("UNCCAS - Tocsin")
        self.set_auto_page_break(auto=True, margin=15)
        self._footer_text = title

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 5, f"{self._footer_text} – page {self.page_no()}/{{nb}}", align="C")

    def line_of(self, text: str, size: int = 9, style: str = "") -> None:
        self.set_font(FONT, style=style, size=size)
        self.multi_cell(0, LINE, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def guide_pdf(edition: GuideEdition, entries: list[GuideEntry]) -> bytes:
    label = edition.event_type.label
    title = f"Guide des bonnes pratiques - {label} - édition n°{edition.number}"
    pdf = _GuidePdf(title)
    pdf.add_page()
    pdf.line_of(f"Guide des bonnes pratiques : {label}", size=16, style="B")
    pdf.line_of(
        f"Édition n°{edition.number} du {edition.published_at.strftime('%d/%m/%Y')}, "
        f"diffusée par l'UNCCAS aux CCAS, CIAS et unions départementales "
        f"(convention État-UNCCAS, article 3). {len(entries)} retour(s) d'expérience."
    )
    if not entries:
        pdf.ln(4)
        pdf.line_of("Aucun retour d'expérience établi pour ce type d'événement à cette date.")
    for entry in entries:
        pdf.ln(4)
        drill = " (exercice)" if entry.exercise else ""
        pdf.line_of(f"{entry.title}{drill}", size=13, style="B")
        pdf.line_of(f"Déclaré le {in_paris(entry.declared_at)}", size=8)
        pdf.line_of("Enseignements", size=11, style="B")
        for lesson in entry.lessons or []:
            pdf.line_of(f"{lesson.question}", style="B")
            pdf.line_of(f"« {lesson.text} » ({lesson.who})")
        if not entry.lessons:
            pdf.line_of("Aucune réponse au questionnaire.")
        pdf.line_of("Plan d'action", size=11, style="B")
        for action in entry.actions:
            pdf.line_of(f"- {action.what} : {action.owner}, échéance {action.due} ({action.state})")
        if not entry.actions:
            pdf.line_of("Aucune action.")
    return bytes(pdf.output())
