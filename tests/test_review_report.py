"""The after-action report's PDF read back as a person would read it: what people
wrote prints as written, whatever its characters, and no chronology line is cut."""

from datetime import UTC, datetime, timedelta

import pypdfium2

from activities.review_facts import (
    ChronologyLine,
    DepartmentReach,
    KeyDelay,
    LessonLine,
    MapLegendLine,
    MapPoint,
    MapStatus,
    MobilisationCurve,
    QuestionLessons,
    ReviewFacts,
)
from activities.review_figures import commune_map, mobilisation_chart
from activities.review_report_pdf import report_pdf
from definitions.territory import load_territory

DECLARED = datetime(2026, 3, 14, 8, 0, tzinfo=UTC)
CHRONOLOGY_LINES = 650
WRITTEN = "Œuvre de la Croix’Rouge : 1 200 € de dons 😀"


def _facts() -> ReviewFacts:
    return ReviewFacts(
        event_id="inondation-2026-03-14-vilaine",
        title="Crue de la Vilaine – Œuvre commune",
        type_label="Inondation",
        exercise=True,
        declared_at=DECLARED,
        delays=[KeyDelay(label="Premier CCAS/CIAS mobilisé", at=None, after=None)],
        reach=[
            DepartmentReach(
                code="35",
                name="Ille-et-Vilaine",
                centres=3,
                requested=3,
                delivered=3,
                answered=2,
                mobilised=1,
                needs_support=1,
                unanswered=1,
                unreachable=0,
                support_actions=1,
                reinforcement_offers=0,
            )
        ],
        chronology=[
            ChronologyLine(
                at=DECLARED + timedelta(minutes=index),
                actor="permanence",
                text=f"Ligne de main courante n° {index:04d} ’",
            )
            for index in range(CHRONOLOGY_LINES)
        ],
        support=[],
        lessons=[
            QuestionLessons(
                question="Qu’avez-vous appris ?",
                lessons=[LessonLine(round="à chaud", who="CCAS d’Acigné (35)", text=WRITTEN)],
            )
        ],
        answers={"à chaud": "1 réponse(s) sur 4"},
        plan=[],
        curves=[
            MobilisationCurve(
                department="35",
                moments=[DECLARED + timedelta(minutes=40), DECLARED + timedelta(hours=2)],
            )
        ],
        points=[
            MapPoint(insee_code="35001", name="Acigné", status=MapStatus.MOBILISED),
            MapPoint(insee_code="35006", name="Argentré", status=MapStatus.NEEDS_SUPPORT),
        ],
        legend=[
            MapLegendLine(status=MapStatus.MOBILISED, count=1),
            MapLegendLine(status=MapStatus.NEEDS_SUPPORT, count=1),
            MapLegendLine(status=MapStatus.SILENT, count=0),
            MapLegendLine(status=MapStatus.UNCOVERED, count=0),
        ],
    )


def test_the_pdf_prints_every_character_and_every_chronology_line() -> None:
    facts = _facts()
    chart = mobilisation_chart(facts.curves, facts.declared_at)
    drawn = commune_map(facts.points, facts.legend, load_territory())
    pdf = report_pdf(facts, chart, drawn, "Inondation – version 1")
    document = pypdfium2.PdfDocument(pdf)
    text = "\n".join(page.get_textpage().get_text_range() for page in document)
    flat = " ".join(text.split())

    assert WRITTEN in flat, "Œ, ’, € and an emoji come out as written, not as ?"
    assert "Crue de la Vilaine – Œuvre commune" in flat
    for index in range(CHRONOLOGY_LINES):
        assert f"Ligne de main courante n° {index:04d} ’" in flat
    assert len(document) > 10, "the chronology runs over as many pages as it needs"
    assert "Temps écoulé depuis la déclaration (heures)" in flat, "the chart's axis says its unit"
    for tick in ("0 h", "0,5 h", "1 h", "1,5 h", "2 h"):
        assert tick in flat
    assert "CCAS/CIAS mobilisés (cumul, nombre de centres)" in flat
    assert "Communes touchées, selon la réponse de leur CCAS/CIAS" in flat, "the map is there"
    assert "CCAS/CIAS mobilisé : 1" in flat and "a demandé du soutien : 1" in flat
