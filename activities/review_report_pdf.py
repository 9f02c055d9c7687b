"""The after-action report as a PDF (fpdf2). It embeds DejaVu Sans, shipped in
``activities/fonts`` with its licence, so that what people wrote (« Œuvre », ’, €,
an emoji) prints as written; fpdf2 keeps only the glyphs used."""

import io
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from activities.centre_map import CAPTION
from activities.review_facts import ReviewFacts

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVu"
LINE = 5.0


class _ReportPdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_title(title)
        self.set_author("UNCCAS - Tocsin")
        self.set_auto_page_break(auto=True, margin=15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 5, f"Retour d'expérience – page {self.page_no()}/{{nb}}", align="C")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font(FONT, style="B", size=13)
        self.multi_cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, size=9)

    def paragraph(self, text: str, size: int = 9, style: str = "") -> None:
        self.set_font(FONT, style=style, size=size)
        self.multi_cell(0, LINE, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def rows(self, header: list[str], rows: list[list[str]], widths: list[int]) -> None:
        self.set_font(FONT, size=8)
        with self.table(col_widths=widths, text_align="LEFT", line_height=4.5) as table:
            table.row(header)
            for values in rows:
                table.row(values)
        self.set_font(FONT, size=9)

    def svg(self, drawing: str, width: float) -> None:
        self.image(io.BytesIO(drawing.encode()), x=self.l_margin, w=width)


def report_pdf(facts: ReviewFacts, chart: str, commune_map: str, header: str) -> bytes:
    pdf = _ReportPdf(f"Retour d'expérience - {facts.title}")
    pdf.add_page()
    if facts.exercise:
        pdf.paragraph("EXERCICE - ce rapport porte sur un exercice.", size=11, style="B")
    pdf.paragraph(f"Retour d'expérience : {facts.title}", size=16, style="B")
    pdf.paragraph(header)
    pdf.paragraph(
        "Réponses au questionnaire : "
        + " ; ".join(f"{name} : {text}" for name, text in facts.answers.items())
    )
    pdf.heading("Délais clés (depuis la déclaration)")
    pdf.rows(["Étape", "Délai"], [[d.label, d.text] for d in facts.delays], [70, 110])
    pdf.heading("Portée de la mobilisation")
    pdf.rows(
        [
            "Département",
            "Centres",
            "Remises",
            "Reçues",
            "Rép.",
            "Soutien",
            "Sans rép.",
            "Injoign.",
            "Actions",
            "Renforts",
        ],
        [
            [
                f"{d.name} ({d.code})",
                *(
                    str(v)
                    for v in (
                        d.centres,
                        d.requested,
                        d.delivered,
                        d.answered,
                        d.needs_support,
                        d.unanswered,
                        d.unreachable,
                        d.support_actions,
                        d.reinforcement_offers,
                    )
                ),
            ]
            for d in facts.reach
        ]
        or [["Aucun département mobilisé", *([""] * 9)]],
        [36, 16, 16, 16, 16, 16, 16, 16, 16, 16],
    )
    pdf.heading("Mobilisation au fil du temps")
    pdf.svg(chart, 170)
    pdf.add_page()
    pdf.heading(f"{CAPTION} à la fin de la mobilisation")
    pdf.svg(commune_map, 130)
    pdf.heading("Actions de soutien et renforts")
    for line in facts.support or []:
        pdf.paragraph(f"{line.when} - {line.text}")
    if not facts.support:
        pdf.paragraph("Aucune action de soutien.")
    pdf.heading("Enseignements")
    for group in facts.lessons:
        pdf.paragraph(group.question, style="B")
        for lesson in group.lessons:
            pdf.paragraph(f"« {lesson.text} » - {lesson.who}, {lesson.round}")
        if not group.lessons:
            pdf.paragraph("Pas de réponse.")
    pdf.heading("Plan d'action")
    pdf.rows(
        ["Action", "Pilote", "Échéance", "État"],
        [[a.what, a.owner, a.due, a.state] for a in facts.plan]
        or [["Aucune action enregistrée.", "", "", ""]],
        [80, 40, 35, 25],
    )
    pdf.heading(f"Chronologie ({len(facts.chronology)} lignes)")
    pdf.rows(
        ["Quand", "Qui", "Quoi"],
        [[line.when, line.actor, line.text] for line in facts.chronology],
        [32, 28, 120],
    )
    return bytes(pdf.output())
