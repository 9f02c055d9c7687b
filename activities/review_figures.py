"""The report's two figures as SVG, drawn by hand: the same drawing goes inline in
the HTML and into the PDF. Labels stay in Latin-1 so the PDF's fonts have them."""

import math
from datetime import datetime, timedelta
from html import escape

from activities.review_facts import MapPoint, MapStatus, MobilisationCurve

WIDTH = 640
HEIGHT = 320
MAP_SIZE = 480
MARGIN = 40
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")
MAP_COLOURS = {
    MapStatus.MOBILISED: "#2ca02c",
    MapStatus.NEEDS_SUPPORT: "#d62728",
    MapStatus.SILENT: "#ff7f0e",
    MapStatus.UNCOVERED: "#9e9e9e",
}
FONT = 'font-family="Helvetica" font-size="11" fill="#222222"'


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


def mobilisation_chart(curves: list[MobilisationCurve], since: datetime) -> str:
    """Cumulative centres mobilised per department, hours since the declaration."""
    last = max((curve.moments[-1] for curve in curves if curve.moments), default=since)
    span = max((last - since) / timedelta(hours=1), 1.0)
    top = max((len(curve.moments) for curve in curves), default=1)
    plot_w, plot_h = WIDTH - 2 * MARGIN - 110, HEIGHT - 2 * MARGIN

    def x(moment: datetime) -> float:
        return MARGIN + plot_w * ((moment - since) / timedelta(hours=1)) / span

    def y(count: int) -> float:
        return HEIGHT - MARGIN - plot_h * count / top

    body = [
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{MARGIN + plot_w}" '
        f'y2="{HEIGHT - MARGIN}" stroke="#444444" stroke-width="1"/>',
        f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" '
        'stroke="#444444" stroke-width="1"/>',
        _text(MARGIN, MARGIN - 10, "CCAS/CIAS mobilisés (cumul)"),
        _text(MARGIN + plot_w, HEIGHT - 10, f"heures depuis la déclaration ({span:.1f} h)", "end"),
        _text(MARGIN - 6, y(top) + 4, str(top), "end"),
        _text(MARGIN - 6, HEIGHT - MARGIN + 4, "0", "end"),
    ]
    for index, curve in enumerate(curves):
        colour = PALETTE[index % len(PALETTE)]
        points = [(x(since), y(0))]
        for count, moment in enumerate(curve.moments, start=1):
            points += [(x(moment), y(count - 1)), (x(moment), y(count))]
        points.append((x(last), y(len(curve.moments))))
        drawn = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        body.append(f'<polyline points="{drawn}" fill="none" stroke="{colour}" stroke-width="2"/>')
        legend_y = MARGIN + 16 * index
        body.append(
            f'<rect x="{WIDTH - 140}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>'
        )
        body.append(_text(WIDTH - 124, legend_y, f"{curve.department} ({len(curve.moments)})"))
    return _svg(WIDTH, HEIGHT, body)


def commune_map(points: list[MapPoint]) -> str:
    """Town halls of the affected communes, coloured by their centre's answer; the
    projection keeps distances true at the area's mean latitude."""
    legend_h = 20 * len(MapStatus)
    if not points:
        return _svg(MAP_SIZE, 60, [_text(10, 30, "Aucune commune localisée.")])
    mean_lat = math.radians(sum(point.lat for point in points) / len(points))
    xs = [point.lon * math.cos(mean_lat) for point in points]
    ys = [point.lat for point in points]
    extent = max(max(xs) - min(xs), max(ys) - min(ys), 0.05)
    scale = (MAP_SIZE - 2 * MARGIN) / extent
    radius = max(1.5, min(6.0, 300 / math.sqrt(len(points))))
    body = []
    for point, px, py in zip(points, xs, ys, strict=True):
        cx = MARGIN + (px - min(xs)) * scale
        cy = MAP_SIZE - MARGIN - (py - min(ys)) * scale
        body.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius:.1f}" '
            f'fill="{MAP_COLOURS[point.status]}"/>'
        )
    counts = {status: sum(1 for p in points if p.status is status) for status in MapStatus}
    for index, status in enumerate(MapStatus):
        legend_y = MAP_SIZE + 16 + 20 * index
        body.append(
            f'<circle cx="{MARGIN + 5}" cy="{legend_y - 4}" r="5" fill="{MAP_COLOURS[status]}"/>'
        )
        body.append(_text(MARGIN + 16, legend_y, f"{_latin(status.label)} ({counts[status]})"))
    return _svg(MAP_SIZE, MAP_SIZE + legend_h + 10, body)


def _latin(text: str) -> str:
    return text.encode("latin-1", errors="replace").decode("latin-1")
