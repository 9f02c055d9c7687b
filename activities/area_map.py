"""The affected area as an SVG map drawn from the commune shapes: each affected
commune filled with its state's colour (Okabe-Ito, told apart by colour-blind
readers) and hatched with the state's own pattern (a second cue, for print in grey
too), the communes around them in pale grey, department outlines on top, and a
legend whose counts are the caller's (those of the table beside the map). Overseas
departments are insets beside metropolitan France. The same drawing goes into the
console, the report's HTML and its PDF (plain paths and text: what fpdf2 reads)."""

import math
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from html import escape
from itertools import pairwise

from activities.map_geometry import METROPOLE, NO_NEIGHBOUR, Cell, cells_of
from definitions.territory import Territory

WIDTH = 640
MAIN_HEIGHT = 520
INSET = 118
GAP = 10
LEGEND_LINE = 20
HATCH_SPACING = 6.0
CONTEXT = "#eeeeee"
OUTLINE = "#333333"
FONT = 'font-family="DejaVu, sans-serif" font-size="12" fill="#222222"'
SURROUNDINGS_KM = 15.0
SURROUNDINGS_SHARE = 0.25
DETAILED = 4_000
"""Up to this many communes drawn, each gets a thin white border and a dot at its
town hall."""


class Cue(StrEnum):
    """The hatching that tells a state apart without its colour."""

    PLAIN = "plain"
    RISING = "rising"
    FALLING = "falling"
    CROSSED = "crossed"
    LEVEL = "level"
    UPRIGHT = "upright"
    GRID = "grid"


STYLES = {
    "mobilised": ("#009E73", Cue.PLAIN),
    "needs_support": ("#D55E00", Cue.CROSSED),
    "unreachable": ("#CC79A7", Cue.FALLING),
    "unanswered": ("#E69F00", Cue.RISING),
    "delivered": ("#56B4E9", Cue.LEVEL),
    "requested": ("#0072B2", Cue.UPRIGHT),
    "pending": ("#F0E442", Cue.GRID),
    "uncovered": ("#AAAAAA", Cue.PLAIN),
}
"""Colour and hatching of each state a commune's centre can be in."""


@dataclass(frozen=True)
class MapState:
    key: str
    label: str
    count: int

    @property
    def colour(self) -> str:
        return STYLES[self.key][0]

    @property
    def cue(self) -> Cue:
        return STYLES[self.key][1]


Box = tuple[float, float, float, float]
"""x, y, width, height."""


@dataclass(frozen=True)
class _Frame:
    zone: str
    box: Box
    x: float
    y: float
    scale: float
    min_x: float
    max_y: float

    def point(self, km: tuple[float, float]) -> tuple[float, float]:
        return (
            self.x + (km[0] - self.min_x) * self.scale,
            self.y + (self.max_y - km[1]) * self.scale,
        )


def _frame(zone: str, cells: list[Cell], box: Box) -> _Frame:
    x, y, w, h = box
    xs = [p[0] for cell in cells for p in cell.points]
    ys = [p[1] for cell in cells for p in cell.points]
    span_x, span_y = max(max(xs) - min(xs), 1.0), max(max(ys) - min(ys), 1.0)
    scale = min(w / span_x, h / span_y)
    offset_x, offset_y = (w - span_x * scale) / 2, (h - span_y * scale) / 2
    return _Frame(zone, box, x + offset_x, y + offset_y, scale, min(xs), max(ys))


def _path(frame: _Frame, cells: list[Cell], digits: int) -> str:
    """Each cell as a closed subpath, in moves relative to its first point."""
    unit = 10**digits
    parts = []
    for cell in cells:
        steps = [frame.point(p) for p in cell.points]
        grid = [(round(px * unit), round(py * unit)) for px, py in steps]
        moves = [
            f"{(bx - ax) / unit:g} {(by - ay) / unit:g}"
            for (ax, ay), (bx, by) in pairwise(grid)
            if (ax, ay) != (bx, by)
        ]
        if moves:
            parts.append(f"M{grid[0][0] / unit:g} {grid[0][1] / unit:g}l{' '.join(moves)}z")
    return "".join(parts)


def _outlines(frame: _Frame, cells: list[Cell], territory: Territory, digits: int) -> str:
    """Edges between two departments, or between a commune and no commune."""
    parts = []
    for cell in cells:
        for index, across in enumerate(cell.across):
            neighbour = territory.commune(across) if across != NO_NEIGHBOUR else None
            if neighbour is not None and (
                neighbour.department_code == cell.department_code or across < cell.insee_code
            ):
                continue
            start = frame.point(cell.points[index])
            end = frame.point(cell.points[(index + 1) % len(cell.points)])
            parts.append(
                f"M{start[0]:.{digits}f} {start[1]:.{digits}f}"
                f"L{end[0]:.{digits}f} {end[1]:.{digits}f}"
            )
    return "".join(parts)


HATCHES = {
    Cue.PLAIN: (),
    Cue.RISING: ((0.7071, 0.7071),),
    Cue.FALLING: ((0.7071, -0.7071),),
    Cue.CROSSED: ((0.7071, 0.7071), (0.7071, -0.7071)),
    Cue.LEVEL: ((0.0, 1.0),),
    Cue.UPRIGHT: ((1.0, 0.0),),
    Cue.GRID: ((0.0, 1.0), (1.0, 0.0)),
}
"""Normals of each cue's families of parallel lines."""


def _hatch(cue: Cue, polygon: list[tuple[float, float]], spacing: float) -> str:
    """The cue's lines across a convex polygon (a cell, a legend swatch), cut at
    its edges here rather than by a clip path, which fpdf2 ignores."""
    segments = []
    for nx, ny in HATCHES[cue]:
        levels = [px * nx + py * ny for px, py in polygon]
        for k in range(math.ceil(min(levels) / spacing), math.floor(max(levels) / spacing) + 1):
            level = k * spacing
            crossings = []
            for index, (ax, ay) in enumerate(polygon):
                bx, by = polygon[(index + 1) % len(polygon)]
                la, lb = levels[index], levels[(index + 1) % len(polygon)]
                if (la - level) * (lb - level) < 0:
                    t = (level - la) / (lb - la)
                    crossings.append((ax + t * (bx - ax), ay + t * (by - ay)))
            if len(crossings) == 2:
                (x1, y1), (x2, y2) = crossings
                segments.append(f"M{x1:.1f} {y1:.1f}L{x2:.1f} {y2:.1f}")
    return "".join(segments)


def _around(cells: list[Cell], shaded: dict[str, str]) -> list[Cell]:
    """The shaded cells and those around them: a few communes are shown in their
    surroundings, not as specks in their whole department."""
    points = [p for cell in cells if cell.insee_code in shaded for p in cell.points]
    if not points:
        return cells
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    left, right, bottom, top = min(xs), max(xs), min(ys), max(ys)
    margin = max(SURROUNDINGS_KM, SURROUNDINGS_SHARE * max(right - left, top - bottom))
    return [
        cell
        for cell in cells
        if left - margin <= cell.site[0] <= right + margin
        and bottom - margin <= cell.site[1] <= top + margin
    ]


def _text(x: float, y: float, text: str, extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" {FONT}{extra}>{escape(text)}</text>'


def _draw_frame(
    frame: _Frame,
    cells: list[Cell],
    shaded: dict[str, str],
    states: dict[str, MapState],
    territory: Territory,
    *,
    title: str | None,
) -> list[str]:
    digits = 1 if len(cells) <= DETAILED else 0
    border = ' stroke="#ffffff" stroke-width="0.4"' if len(cells) <= DETAILED else ""
    by_state: defaultdict[str, list[Cell]] = defaultdict(list)
    context = []
    for cell in cells:
        if cell.insee_code in shaded:
            by_state[shaded[cell.insee_code]].append(cell)
        else:
            context.append(cell)
    body = []
    x, y, width, height = frame.box
    if title is not None:
        body.append(
            f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="{width + 8:.1f}" '
            f'height="{height + 8:.1f}" fill="none" stroke="#999999" stroke-width="0.6"/>'
        )
    if context:
        body.append(f'<path d="{_path(frame, context, digits)}" fill="{CONTEXT}"{border}/>')
    for key, members in by_state.items():
        state = states[key]
        shape = _path(frame, members, digits)
        body.append(
            f'<path class="state" data-state="{key}" data-communes="{len(members)}" '
            f'd="{shape}" fill="{state.colour}"{border}/>'
        )
        hatch = "".join(
            _hatch(state.cue, [frame.point(p) for p in cell.points], HATCH_SPACING)
            for cell in members
        )
        if hatch:
            body.append(f'<path d="{hatch}" fill="none" stroke="#1a1a1a" stroke-width="0.7"/>')
    if len(cells) <= DETAILED:
        halls = [frame.point(cell.site) for key in by_state for cell in by_state[key]]
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.2" fill="#222222"/>' for x, y in halls]
    body.append(
        f'<path class="outline" d="{_outlines(frame, cells, territory, digits)}" fill="none" '
        f'stroke="{OUTLINE}" stroke-width="1"/>'
    )
    if title is not None:
        body.append(_text(x - 4, y + height + 18, title))
    return body


def _legend(states: list[MapState], top: float) -> list[str]:
    body = []
    for index, state in enumerate(states):
        y = top + LEGEND_LINE * index
        swatch = f'<rect x="10" y="{y:.1f}" width="16" height="14" fill="{state.colour}"/>'
        box = [(10.0, y), (26.0, y), (26.0, y + 14), (10.0, y + 14)]
        lines = _hatch(state.cue, box, 4.0)
        hatch = (
            f'<path d="{lines}" fill="none" stroke="#1a1a1a" stroke-width="0.7"/>' if lines else ""
        )
        body.append(
            f'<g class="legend" data-state="{state.key}" data-count="{state.count}">{swatch}'
            f'{hatch}<rect x="10" y="{y:.1f}" width="16" height="14" fill="none" '
            f'stroke="#555555" stroke-width="0.6"/>'
            + _text(34, y + 11.5, f"{state.label} : {state.count}")
            + "</g>"
        )
    return body


def area_map(
    shaded: dict[str, str], states: list[MapState], territory: Territory, caption: str
) -> str:
    """``shaded`` maps INSEE codes to the key of one of ``states``; every commune of
    their departments is drawn, those outside ``shaded`` as context."""
    by_key = {state.key: state for state in states}
    departments = sorted({c.department_code for code in shaded if (c := territory.commune(code))})
    cells = cells_of(territory, departments)
    zones: defaultdict[str, list[Cell]] = defaultdict(list)
    for cell in cells.values():
        zones[cell.zone].append(cell)
    zones = defaultdict(list, {zone: _around(members, shaded) for zone, members in zones.items()})
    legend_top = 40.0
    body = [_text(10, 22, caption, ' font-weight="bold"')]
    if zones:
        order = sorted(zones, key=lambda zone: (zone != METROPOLE, zone))
        main, insets = order[0], order[1:]
        frame = _frame(main, zones[main], (GAP, 34, WIDTH - 2 * GAP, MAIN_HEIGHT))
        body += _draw_frame(frame, zones[main], shaded, by_key, territory, title=None)
        inset_top = 34 + MAIN_HEIGHT + GAP
        for index, zone in enumerate(insets):
            x = GAP + index * (INSET + GAP)
            inset = _frame(zone, zones[zone], (x + 4, inset_top + 4, INSET - 8, INSET - 8))
            name = territory.department(zone)
            title = f"{name.name} ({zone})" if name else zone
            body += _draw_frame(inset, zones[zone], shaded, by_key, territory, title=title)
        legend_top = inset_top + (INSET + 30 if insets else 0) + 10
    else:
        body.append(_text(10, 56, "Aucune commune localisée."))
        legend_top = 76
    body += _legend(states, legend_top)
    height = legend_top + LEGEND_LINE * len(states) + 10
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{escape(caption)}">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{height:.0f}" fill="#ffffff"/>'
        + "".join(body)
        + "</svg>"
    )
