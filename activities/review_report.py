"""Compiling an event's after-action report: facts from the crisis log and the
answers, figures, HTML and PDF, kept in the database with its lessons and actions
as data for the guide of good practice."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog
from jinja2 import Environment, FileSystemLoader, select_autoescape
from temporalio import activity

from activities.review_facts import ReviewFacts, review_facts
from activities.review_figures import commune_map, mobilisation_chart
from activities.review_report_pdf import report_pdf
from definitions.committee import in_paris
from definitions.competence import resolve_competence
from definitions.review import CompiledReport, ReviewCompilation
from definitions.temporal_names import COMPILE_REVIEW_REPORT
from definitions.territory import load_territory
from definitions.territory.declared_area import affected_communes
from store import centre_supports, directory, events, reviews
from store.database import Store
from store.tables import ReviewReportRow

log = structlog.get_logger(__name__)

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def report_html(
    facts: ReviewFacts, version: int, compiled_at: datetime, chart: str, communes: str
) -> str:
    return TEMPLATES.get_template("review_report.html").render(
        facts=facts,
        version=version,
        declared=in_paris(facts.declared_at),
        compiled=in_paris(compiled_at),
        chart=chart,
        map=communes,
    )


class ReviewReportActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name=COMPILE_REVIEW_REPORT)
    def compile_review_report(self, compilation: ReviewCompilation) -> CompiledReport:
        territory = load_territory()
        communes = affected_communes(compilation.declaration, territory)
        with self._store.session() as session:
            resolution = resolve_competence(communes, directory.organisations(session), territory)
            entries = events.crisis_log(session, compilation.event_id)
            lessons = reviews.lessons(session, compilation.event_id)
            states = centre_supports.states(session, compilation.event_id)
        facts = review_facts(compilation, entries, lessons, resolution, states)
        compiled_at = datetime.now(UTC)
        chart = mobilisation_chart(facts.curves, facts.declared_at)
        map_svg = commune_map(facts.shaded, facts.legend, territory)
        html = report_html(facts, compilation.version, compiled_at, chart, map_svg)
        header = (
            f"{facts.type_label} - déclaré le {in_paris(facts.declared_at)} - référence "
            f"{facts.event_id} - rapport version {compilation.version}, établi le "
            f"{in_paris(compiled_at)}."
        )
        pdf = report_pdf(facts, chart, map_svg, header)
        row = ReviewReportRow(
            event_id=compilation.event_id,
            version=compilation.version,
            event_type=compilation.declaration.type.value,
            title=facts.title,
            exercise=facts.exercise,
            declared_at=facts.declared_at,
            compiled_at=compiled_at,
            html=html,
            pdf=pdf,
            lessons=[
                {"question": group.question, "text": lesson.text, "who": lesson.who}
                for group in facts.lessons
                for lesson in group.lessons
            ],
            actions=[action.model_dump() for action in facts.plan],
        )
        with self._store.session() as session:
            reviews.save_report(session, row)
            session.commit()
        log.info(
            "review.compiled",
            event_id=compilation.event_id,
            lessons=len(row.lessons),
            html_bytes=len(html),
            pdf_bytes=len(pdf),
        )
        return CompiledReport(
            event_id=compilation.event_id,
            version=compilation.version,
            lessons=len(row.lessons),
            html_bytes=len(html),
            pdf_bytes=len(pdf),
        )

    @property
    def all(self) -> list[Callable[..., object]]:
        return [self.compile_review_report]
