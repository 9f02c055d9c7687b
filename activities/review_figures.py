"""The report's two figures as SVG, drawn by hand: the same drawing goes inline in
the HTML and into the PDF (whose embedded font is named first in each label)."""

import math
from datetime import datetime, timedelta
from html import escape

from activities.area_map import MapState, area_map
from activities.centre_map import CAPTION
from activities.review_facts import MobilisationCurve
from definitions.territory import Territory

WIDTH = 640
HEIGHT = 320
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")
FONT = 'font-family="DejaVu, sans-serif" font-size="11" fill="#222222"'
GRID = "#dddddd"
HOUR_STEPS = (0.25, 0.5, 1, 2, 3, 6, 12, 24, 48, 96, 168, 336, 720)
COUNT_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000)


def _svg(width: int, height: int, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>'
        + "".join(body)
        + "</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT}>{escape(text)}</text>'


def _step(top: float, ticks: int, steps: tuple[float, ...]) -> float:
    """The smallest step of ``steps`` that shows ``top`` in at most ``ticks`` ticks."""
    return next((step for step in steps if top / step <= ticks), steps[-1])


def _hours(value: float) -> str:
    return f"{value:g}".replace(".", ",") + " h"


def mobilisation_chart(curves: list[MobilisationCurve], since: datetime) -> str:
    """Cumulative centres mobilised per department against hours since the
    declaration, with both axes graduated and their units said."""
    last = max((curve.moments[-1] for curve in curves if curve.moments), default=since)
    elapsed = max((last - since) / timedelta(hours=1), 0.25)
    hour_step = _step(elapsed, 8, HOUR_STEPS)
    span = hour_step * math.ceil(elapsed / hour_step)
    peak = max((len(curve.moments) for curve in curves), default=1) or 1
    count_step = _step(peak, 6, COUNT_STEPS)
    top = count_step * math.ceil(peak / count_step)
    left, right, upper, lower = 56, WIDTH - 150, 30, HEIGHT - 48

    def x(moment: datetime) -> float:
        return left + (right - left) * ((moment - since) / timedelta(hours=1)) / span

    def y(count: float) -> float:
        return lower - (lower - upper) * count / top

    body = [_text(left - 46, upper - 14, "CCAS/CIAS mobilisés (cumul, nombre de centres)")]
    for tick in range(round(top / count_step) + 1):
        value = tick * count_step
        body.append(
            f'<line x1="{left}" y1="{y(value):.1f}" x2="{right}" y2="{y(value):.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        body.append(_text(left - 6, y(value) + 4, f"{value:g}", "end"))
    for tick in range(round(span / hour_step) + 1):
        hours = tick * hour_step
        px = left + (right - left) * hours / span
        body.append(
            f'<line x1="{px:.1f}" y1="{lower}" x2="{px:.1f}" y2="{lower + 5}" '
            'stroke="#444444" stroke-width="1"/>'
        )
        body.append(_text(px, lower + 17, _hours(hours), "middle"))
    body += [
        f'<line x1="{left}" y1="{lower}" x2="{right}" y2="{lower}" stroke="#444444" '
        'stroke-width="1"/>',
        f'<line x1="{left}" y1="{upper}" x2="{left}" y2="{lower}" stroke="#444444" '
        'stroke-width="1"/>',
        _text(
            (left + right) / 2, HEIGHT - 8, "Temps écoulé depuis la déclaration (heures)", "middle"
        ),
    ]
    for index, curve in enumerate(curves):
        colour = PALETTE[index % len(PALETTE)]
        points = [(x(since), y(0))]
        for count, moment in enumerate(curve.moments, start=1):
            points += [(x(moment), y(count - 1)), (x(moment), y(count))]
        points.append((x(last), y(len(curve.moments))))
        drawn = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        body.append(f'<polyline points="{drawn}" fill="none" stroke="{colour}" stroke-width="2"/>')
        legend_y = upper + 16 * index
        body.append(
            f'<rect x="{WIDTH - 136}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>'
        )
        body.append(_text(WIDTH - 120, legend_y, f"Dépt {curve.department} : {len(curve.moments)}"))
    return _svg(WIDTH, HEIGHT, body)


def commune_map(shaded: dict[str, str], legend: list[MapState], territory: Territory) -> str:
    """The affected communes as shapes, in their centre's state: the console's map."""
    return area_map(shaded, legend, territory, CAPTION)
