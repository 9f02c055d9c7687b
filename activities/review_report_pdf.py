"""The after-action report as a PDF (fpdf2, its core fonts in Windows-1252: French
is covered; a character outside it, say an emoji in an answer, prints as ?)."""

import io

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from activities.review_facts import ReviewFacts

ENCODING = "windows-1252"
LINE = 5.0


def _clean(text: str) -> str:
    return text.encode(ENCODING, errors="replace").decode(ENCODING)


class _ReportPdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.core_fonts_encoding = ENCODING
        self.set_title(_clean(title))
        self.set_author("UNCCAS - Tocsin")
        self.set_auto_page_break(auto=True, margin=15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, f"Retour d'expérience - page {self.page_no()}/{{nb}}", align="C")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("Helvetica", style="B", size=13)
        self.multi_cell(0, 7, _clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("Helvetica", size=9)

    def paragraph(self, text: str, size: int = 9, style: str = "") -> None:
        self.set_font("Helvetica", style=style, size=size)
        self.multi_cell(0, LINE, _clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def rows(self, header: list[str], rows: list[list[str]], widths: list[int]) -> None:
        self.set_font("Helvetica", size=8)
        with self.table(col_widths=widths, text_align="LEFT", line_height=4.5) as table:
            table.row([_clean(cell) for cell in header])
            for values in rows:
                table.row([_clean(cell) for cell in values])
        self.set_font("Helvetica", size=9)

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
            "Réponses",
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
    pdf.heading("Communes touchées, selon la réponse de leur CCAS/CIAS")
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
    pdf.heading("Chronologie")
    pdf.rows(
        ["Quand", "Qui", "Quoi"],
        [[line.when, line.actor, line.text] for line in facts.chronology],
        [32, 28, 120],
    )
    if facts.chronology_left_out:
        pdf.paragraph(
            f"... et {facts.chronology_left_out} autre(s) ligne(s) : voir la main courante."
        )
    return bytes(pdf.output())
