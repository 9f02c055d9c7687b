"""Departments coloured by a measure of theirs (the directory's freshness), as an
SVG map of France drawn from the town-hall coordinates: each department the
squares whose nearest town hall is one of its communes, its outline where the
squares change department, overseas departments as insets beside metropolitan
France, and a legend whose counts are departments. Each department names itself
and its measure in a ``<title>`` that a pointer or a screen reader finds."""

from collections import defaultdict
from dataclasses import dataclass
from html import escape

from activities.map_geometry import METROPOLE, Squares, department_squares, zones
from definitions.territory import Territory

WIDTH = 640
MAIN_HEIGHT = 560
INSET = 118.0
GAP = 10
LEGEND_LINE = 20
ACROSS = {METROPOLE: 180}
INSET_ACROSS = 48
OUTLINE = "#333333"
FONT = 'font-family="DejaVu, sans-serif" font-size="12" fill="#222222"'


@dataclass(frozen=True)
class Band:
    """One class of the legend: its colour and how many departments are in it."""

    key: str
    label: str
    colour: str
    count: int


@dataclass(frozen=True)
class Shaded:
    """A department's class, and what its title says of it."""

    band: str
    title: str


Box = tuple[float, float, float, float]
"""x, y, width, height."""


def _text(x: float, y: float, text: str, extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" {FONT}{extra}>{escape(text)}</text>'


class _Frame:
    """The zone's squares fitted in a box, north up."""

    def __init__(self, squares: Squares, box: Box) -> None:
        x, y, width, height = box
        self.squares = squares
        self.unit = min(width / squares.columns, height / squares.rows)
        self.x = x + (width - squares.columns * self.unit) / 2
        self.y = y + (height - squares.rows * self.unit) / 2

    def corner(self, i: int, j: int) -> tuple[float, float]:
        """Where grid lines i and j cross: the south-west corner of square (i, j)."""
        return self.x + i * self.unit, self.y + (self.squares.rows - j) * self.unit


def _runs(squares: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Row, first column and length of each run of adjacent squares in a row."""
    runs: list[tuple[int, int, int]] = []
    for i, j in sorted(squares, key=lambda square: (square[1], square[0])):
        if runs and runs[-1][0] == j and runs[-1][1] + runs[-1][2] == i:
            runs[-1] = (j, runs[-1][1], runs[-1][2] + 1)
        else:
            runs.append((j, i, 1))
    return runs


def _fill(frame: _Frame, squares: list[tuple[int, int]]) -> str:
    parts = []
    for j, i, length in _runs(squares):
        x, y = frame.corner(i, j + 1)
        width = length * frame.unit
        parts.append(f"M{x:.1f} {y:.1f}h{width:.1f}v{frame.unit:.1f}h{-width:.1f}z")
    return "".join(parts)


def _outlines(frame: _Frame) -> str:
    """Edges between squares of two departments, or a department's and the sea's,
    joined where they follow each other."""
    of = frame.squares.departments
    upright: defaultdict[int, list[int]] = defaultdict(list)
    level: defaultdict[int, list[int]] = defaultdict(list)
    for i in range(-1, frame.squares.columns):
        for j in range(-1, frame.squares.rows):
            here = of.get((i, j))
            if here != of.get((i + 1, j)) and j >= 0:
                upright[i + 1].append(j)
            if here != of.get((i, j + 1)) and i >= 0:
                level[j + 1].append(i)
    parts = []
    for line, steps in upright.items():
        for _, start, length in _runs([(step, 0) for step in steps]):
            x, top = frame.corner(line, start + length)
            parts.append(f"M{x:.1f} {top:.1f}v{length * frame.unit:.1f}")
    for line, steps in level.items():
        for _, start, length in _runs([(step, 0) for step in steps]):
            left, y = frame.corner(start, line)
            parts.append(f"M{left:.1f} {y:.1f}h{length * frame.unit:.1f}")
    return "".join(parts)


def _draw(frame: _Frame, shaded: dict[str, Shaded], colours: dict[str, str]) -> list[str]:
    """Each department stroked in its own colour, which hides the seams between
    its rows of squares."""
    by_department: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
    for square, department in frame.squares.departments.items():
        by_department[department].append(square)
    body = []
    for department in sorted(by_department):
        state = shaded.get(department)
        if state is None:
            continue
        body.append(
            f'<path class="department" data-department="{escape(department)}" '
            f'data-band="{escape(state.band)}" fill="{colours[state.band]}" '
            f'stroke="{colours[state.band]}" stroke-width="0.6" '
            f'd="{_fill(frame, by_department[department])}"><title>{escape(state.title)}</title>'
            "</path>"
        )
    body.append(
        f'<path class="outline" d="{_outlines(frame)}" fill="none" stroke="{OUTLINE}" '
        'stroke-width="0.8"/>'
    )
    return body


def _legend(bands: list[Band], top: float) -> list[str]:
    body = []
    for index, band in enumerate(bands):
        y = top + LEGEND_LINE * index
        plural = "s" if band.count > 1 else ""
        body.append(
            f'<g class="legend" data-band="{escape(band.key)}" data-count="{band.count}">'
            f'<rect x="10" y="{y:.1f}" width="16" height="14" fill="{band.colour}" '
            'stroke="#555555" stroke-width="0.6"/>'
            + _text(34, y + 11.5, f"{band.label} : {band.count} département{plural}")
            + "</g>"
        )
    return body


def department_map(
    shaded: dict[str, Shaded], bands: list[Band], territory: Territory, caption: str
) -> str:
    """``shaded`` maps department codes to one of ``bands``; a department it does
    not name is left white."""
    colours = {band.key: band.colour for band in bands}
    body = [_text(10, 22, caption, ' font-weight="bold"')]
    main, *insets = zones()
    body += _draw(
        _Frame(department_squares(main, ACROSS[main]), (GAP, 34, WIDTH - 2 * GAP, MAIN_HEIGHT)),
        shaded,
        colours,
    )
    inset_top = 34 + MAIN_HEIGHT + GAP
    side = min(INSET, (WIDTH - GAP * (len(insets) + 1)) / max(len(insets), 1))
    for index, zone in enumerate(insets):
        x = GAP + index * (side + GAP)
        box = (x + 4, inset_top + 4, side - 8, side - 8)
        body.append(
            f'<rect x="{x:.1f}" y="{inset_top:.1f}" width="{side:.1f}" height="{side:.1f}" '
            'fill="none" stroke="#999999" stroke-width="0.6"/>'
        )
        body += _draw(_Frame(department_squares(zone, INSET_ACROSS), box), shaded, colours)
        department = territory.department(zone)
        body.append(_text(x, inset_top + side + 16, department.name if department else zone))
    legend_top = inset_top + side + 34
    body += _legend(bands, legend_top)
    height = legend_top + LEGEND_LINE * len(bands) + 10
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{escape(caption)}">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{height:.0f}" fill="#ffffff"/>'
        + "".join(body)
        + "</svg>"
    )
