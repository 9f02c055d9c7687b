"""The after-action report read back as a person would read it: what people wrote
prints as written in the PDF, whatever its characters, no chronology line is cut,
and its map is the console's, its legend counting as its reach table."""

import re
from datetime import UTC, datetime, timedelta

import pypdfium2

from activities.area_map import MapState
from activities.review_facts import (
    ChronologyLine,
    DepartmentReach,
    KeyDelay,
    LessonLine,
    MobilisationCurve,
    QuestionLessons,
    ReviewFacts,
    review_facts,
)
from activities.review_figures import commune_map, mobilisation_chart
from activities.review_report import report_html
from activities.review_report_pdf import report_pdf
from definitions.competence import (
    CompetentOrganisation,
    DepartmentTerritory,
    TerritoryResolution,
    UncoveredCommune,
)
from definitions.crisis_log import SYSTEM_ACTOR, CrisisLogEntry, CrisisLogKind
from definitions.directory import OrganisationKind
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.mobilisation import SupportState
from definitions.review import ReviewCompilation
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
        shaded={"35001": "mobilised", "35006": "needs_support"},
        legend=[
            MapState("mobilised", "mobilisé", 1),
            MapState("needs_support", "besoin de soutien", 1),
            MapState("unanswered", "sans réponse (signalé)", 0),
            MapState("uncovered", "commune sans CCAS ni CIAS", 0),
        ],
    )


def test_the_pdf_prints_every_character_and_every_chronology_line() -> None:
    facts = _facts()
    chart = mobilisation_chart(facts.curves, facts.declared_at)
    drawn = commune_map(facts.shaded, facts.legend, load_territory())
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
    assert "Communes touchées, selon l'état de leur CCAS/CIAS" in flat, "the map is there"
    assert "mobilisé : 1" in flat and "besoin de soutien : 1" in flat


def _centre(
    organisation_id: str, kind: OrganisationKind, communes: list[str]
) -> CompetentOrganisation:
    return CompetentOrganisation(
        organisation_id=organisation_id,
        kind=kind,
        name=organisation_id,
        department_code="35",
        communes=communes,
    )


def _ended_mobilisation() -> ReviewFacts:
    """Five centres of Ille-et-Vilaine, a CIAS serving two communes among them, as
    their workflow left them, and its summary line with the same counts."""
    states = {
        "ccas-acigne": SupportState.MOBILISED,
        "cias-rennes-sud": SupportState.NEEDS_SUPPORT,
        "ccas-betton": SupportState.UNREACHABLE,
        "ccas-bruz": SupportState.UNANSWERED,
        "ccas-cesson": SupportState.DELIVERED,
    }
    resolution = TerritoryResolution(
        departments=[
            DepartmentTerritory(
                code="35",
                name="Ille-et-Vilaine",
                prefecture_commune="35238",
                prefecture_id=None,
                ud_id=None,
                ud_name=None,
                affected_communes=7,
                competent_ccas=4,
                competent_cias=1,
                uncovered_communes=1,
            )
        ],
        competent=[
            _centre("ccas-acigne", OrganisationKind.CCAS, ["35001"]),
            _centre("cias-rennes-sud", OrganisationKind.CIAS, ["35055", "35066"]),
            _centre("ccas-betton", OrganisationKind.CCAS, ["35024"]),
            _centre("ccas-bruz", OrganisationKind.CCAS, ["35047"]),
            _centre("ccas-cesson", OrganisationKind.CCAS, ["35051"]),
        ],
        uncovered=[
            UncoveredCommune(insee_code="35006", name="Argentré-du-Plessis", department_code="35")
        ],
    )
    event_id = "inondation-2026-03-14-vilaine"
    figures = {
        "centres": 5,
        "requested": 4,
        "delivered": 3,
        "mobilised": 1,
        "needs_support": 1,
        "unanswered": 1,
        "unreachable": 1,
        "support_actions": 1,
        "reinforcement_offers": 0,
    }
    entries = [
        CrisisLogEntry(
            entry_key=f"{event_id}/0",
            event_id=event_id,
            at=DECLARED,
            actor="permanence",
            kind=CrisisLogKind.EVENT_DECLARED,
            text="Événement déclaré.",
        ),
        CrisisLogEntry(
            entry_key=f"{event_id}/mobilisation-35/9",
            event_id=event_id,
            at=DECLARED + timedelta(hours=6),
            actor=SYSTEM_ACTOR,
            kind=CrisisLogKind.MOBILISATION_SUMMARY,
            text="Bilan de la mobilisation Ille-et-Vilaine (35).",
            subject="35",
            figures=figures,
        ),
    ]
    compilation = ReviewCompilation(
        event_id=event_id,
        declaration=EventDeclaration(type=EventType.INONDATION, departments=["35"], title="Crue"),
        questions=[],
        version=1,
        rounds=[],
        actions=[],
    )
    return review_facts(compilation, entries, [], resolution, states)


def test_the_report_map_is_the_consoles_and_its_legend_counts_as_the_reach_table() -> None:
    facts = _ended_mobilisation()
    drawn = commune_map(facts.shaded, facts.legend, load_territory())
    html = report_html(facts, 1, DECLARED + timedelta(days=20), "<svg></svg>", drawn)

    legend = {
        state: int(count)
        for state, count in re.findall(
            r'<g class="legend" data-state="(\w+)" data-count="(\d+)">', html
        )
    }
    assert list(legend) == [*(state.value for state in SupportState), "uncovered"], (
        "the console's states, in its order"
    )
    row = re.search(r'<tr data-department="35">(.*?)</tr>', html, re.S)
    assert row is not None
    centres, _, _, answered, needs_support, unanswered, unreachable, _, _ = (
        int(n) for n in re.findall(r'<td class="n">(\d+)</td>', row.group(1))
    )
    assert legend["mobilised"] + legend["needs_support"] == answered
    assert legend["needs_support"] == needs_support
    assert legend["unanswered"] == unanswered
    assert legend["unreachable"] == unreachable == 1
    assert sum(legend[state.value] for state in SupportState) == centres, "centres, not communes"
    assert legend["uncovered"] == 1
    unreachable_line = re.search(r'<g class="legend" data-state="unreachable".*?</g>', html)
    assert unreachable_line is not None and "injoignable : 1" in unreachable_line.group(0)

    shapes = dict(re.findall(r'<path class="state" data-state="(\w+)" data-communes="(\d+)"', html))
    assert shapes == {
        "mobilised": "1",
        "needs_support": "2",
        "unreachable": "1",
        "unanswered": "1",
        "delivered": "1",
        "uncovered": "1",
    }, "Betton, unreachable, is drawn so; the CIAS's two communes in its state"

    pdf = report_pdf(facts, mobilisation_chart(facts.curves, facts.declared_at), drawn, "Crue")
    text = " ".join(
        " ".join(page.get_textpage().get_text_range().split())
        for page in pypdfium2.PdfDocument(pdf)
    )
    for line in ("mobilisé : 1", "besoin de soutien : 1", "injoignable : 1", "demande remise : 1"):
        assert line in text, line
    assert "commune sans CCAS ni CIAS : 1" in text
