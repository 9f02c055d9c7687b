"""Commune shapes for the maps, derived from the shipped town-hall coordinates: each
commune is its Voronoi cell among all communes (the ground nearer its town hall than
any other's), capped at ``CAP_KM`` around it so that coasts and borders stay close
to the land. Each edge remembers the commune across it, so that a department's
outline is the edges between communes of different departments (or none).

Computed once per process, a department at a time on first use, in a local
projection in kilometres per zone: metropolitan France, and each overseas
department apart (they are drawn as insets)."""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from definitions.territory import Commune, Territory, load_territory

CAP_KM = 9.0
ZONE_CAP_KM = {"973": 40.0}
"""Guyane's communes are vast: a cap of 9 km would draw them as dots."""
CAP_SIDES = 16
GRID_KM = 6.0
EARTH_KM_PER_DEGREE = 6371.0 * math.pi / 180
METROPOLE = "metropole"
NO_NEIGHBOUR = ""
SPREADS = 4.0
MIN_SPREAD_DEGREES = 0.5


@dataclass(frozen=True, slots=True)
class Cell:
    """A commune's shape around its town hall (``site``) in its zone's kilometres
    (x east, y north). ``across[i]``
    is the INSEE code of the commune beyond the edge from vertex i to i + 1, or
    ``NO_NEIGHBOUR`` where the cell meets its cap (sea, border, no data)."""

    insee_code: str
    department_code: str
    zone: str
    site: tuple[float, float]
    points: tuple[tuple[float, float], ...]
    across: tuple[str, ...]


def zone_of(department_code: str) -> str:
    return department_code if department_code.startswith("97") else METROPOLE


def _located(communes: list[Commune]) -> list[Commune]:
    """Communes with a town hall plausibly placed: finite coordinates, within a few
    typical spreads of their department's median (some rows have the latitude
    twice, which would put a commune in the Caspian Sea)."""
    finite = [
        c
        for c in communes
        if c.lat is not None and c.lon is not None and math.isfinite(c.lat) and math.isfinite(c.lon)
    ]
    by_department: defaultdict[str, list[Commune]] = defaultdict(list)
    for commune in finite:
        by_department[commune.department_code].append(commune)
    kept = []
    for members in by_department.values():
        lat = statistics.median(c.lat or 0.0 for c in members)
        lon = statistics.median(c.lon or 0.0 for c in members)
        spread = [max(abs((c.lat or 0.0) - lat), abs((c.lon or 0.0) - lon)) for c in members]
        limit = max(MIN_SPREAD_DEGREES, SPREADS * statistics.median(spread))
        kept += [c for c, away in zip(members, spread, strict=True) if away <= limit]
    return kept


class _Zone:
    """One projection and one spatial index over the communes of a zone."""

    def __init__(self, communes: list[Commune]) -> None:
        located = _located(communes)
        mean_lat = sum(c.lat or 0.0 for c in located) / max(len(located), 1)
        self.x_scale = EARTH_KM_PER_DEGREE * math.cos(math.radians(mean_lat))
        self.sites: dict[str, tuple[float, float]] = {}
        self.departments: dict[str, str] = {}
        self.grid: defaultdict[tuple[int, int], list[str]] = defaultdict(list)
        for commune in located:
            site = (
                (commune.lon or 0.0) * self.x_scale,
                (commune.lat or 0.0) * EARTH_KM_PER_DEGREE,
            )
            self.sites[commune.insee_code] = site
            self.departments[commune.insee_code] = commune.department_code
            self.grid[self._key(site)].append(commune.insee_code)

    @staticmethod
    def _key(site: tuple[float, float]) -> tuple[int, int]:
        return int(site[0] // GRID_KM), int(site[1] // GRID_KM)

    def _near(self, site: tuple[float, float], reach: float) -> list[tuple[float, str]]:
        """Other town halls within ``reach`` km, nearest first."""
        x, y = site
        gx, gy = self._key(site)
        rings = math.ceil(reach / GRID_KM)
        limit = reach * reach
        found = []
        for dx in range(-rings, rings + 1):
            for dy in range(-rings, rings + 1):
                for code in self.grid.get((gx + dx, gy + dy), ()):
                    other_x, other_y = self.sites[code]
                    squared = (other_x - x) ** 2 + (other_y - y) ** 2
                    if 0 < squared <= limit:
                        found.append((squared, code))
        found.sort()
        return [(math.sqrt(squared), code) for squared, code in found]

    def cell(self, insee_code: str, zone: str) -> Cell:
        site = self.sites[insee_code]
        cap = ZONE_CAP_KM.get(zone, CAP_KM)
        polygon: list[tuple[float, float, str]] = [
            (
                site[0] + cap * math.cos(2 * math.pi * (k + 0.5) / CAP_SIDES),
                site[1] + cap * math.sin(2 * math.pi * (k + 0.5) / CAP_SIDES),
                NO_NEIGHBOUR,
            )
            for k in range(CAP_SIDES)
        ]
        reached = 0.0
        radius = _radius(polygon, site)
        for reach in (GRID_KM, 2 * cap):
            if 2 * radius <= reached:
                break
            for distance, code in self._near(site, reach):
                if distance <= reached:
                    continue
                if distance > 2 * radius:
                    break
                clipped = _clip(polygon, site, self.sites[code], code)
                if clipped is not polygon:
                    polygon, radius = clipped, _radius(clipped, site)
            reached = reach
        return Cell(
            insee_code=insee_code,
            department_code=self.departments[insee_code],
            zone=zone,
            site=site,
            points=tuple((x, y) for x, y, _ in polygon),
            across=tuple(label for _, _, label in polygon),
        )


def _radius(polygon: list[tuple[float, float, str]], site: tuple[float, float]) -> float:
    return max(math.hypot(x - site[0], y - site[1]) for x, y, _ in polygon)


def _clip(
    polygon: list[tuple[float, float, str]],
    site: tuple[float, float],
    other: tuple[float, float],
    label: str,
) -> list[tuple[float, float, str]]:
    """Keep the side of the bisector nearer ``site``; the new edge is ``label``'s.
    The same list when the bisector misses the polygon."""
    nx, ny = other[0] - site[0], other[1] - site[1]
    mx, my = (site[0] + other[0]) / 2, (site[1] + other[1]) / 2
    sides = [(px - mx) * nx + (py - my) * ny for px, py, _ in polygon]
    if max(sides) <= 0:
        return polygon
    kept: list[tuple[float, float, str]] = []
    count = len(polygon)
    for index, (px, py, edge) in enumerate(polygon):
        p_side = sides[index]
        following = (index + 1) % count
        q_side = sides[following]
        if p_side <= 0:
            kept.append((px, py, edge))
        if (p_side <= 0) != (q_side <= 0):
            qx, qy, _ = polygon[following]
            t = p_side / (p_side - q_side)
            kept.append((px + t * (qx - px), py + t * (qy - py), label if p_side <= 0 else edge))
    return kept


@cache
def _zones() -> dict[str, _Zone]:
    territory = load_territory()
    members: defaultdict[str, list[Commune]] = defaultdict(list)
    for commune in territory.communes.values():
        members[zone_of(commune.department_code)].append(commune)
    return {zone: _Zone(communes) for zone, communes in members.items()}


@cache
def department_cells(department_code: str) -> dict[str, Cell]:
    """Every located commune of a department as its cell, computed once."""
    zone = zone_of(department_code)
    index = _zones()[zone]
    return {
        code: index.cell(code, zone)
        for code, department in index.departments.items()
        if department == department_code
    }


def cells_of(territory: Territory, department_codes: list[str]) -> dict[str, Cell]:
    """The cells of whole departments, each computed once per process."""
    cells: dict[str, Cell] = {}
    for code in department_codes:
        if territory.department(code) is not None:
            cells.update(department_cells(code))
    return cells


@dataclass(frozen=True, slots=True)
class Squares:
    """A zone's land as a grid of squares ``size`` km a side, each the department of
    the town hall nearest its centre (within the cap): square (i, j) spans x from
    ``min_x + i * size``, y from ``min_y + j * size``. A map of whole departments
    drawn from these is a few thousand runs of squares, not the tens of thousands
    of commune cells."""

    zone: str
    size: float
    columns: int
    rows: int
    departments: dict[tuple[int, int], str]


def zones() -> list[str]:
    """Metropolitan France first, then each overseas department."""
    return sorted(_zones(), key=lambda zone: (zone != METROPOLE, zone))


@cache
def department_squares(zone: str, across: int) -> Squares:
    """``across`` squares along the zone's longer side, computed once."""
    index = _zones()[zone]
    cap = ZONE_CAP_KM.get(zone, CAP_KM)
    xs = [site[0] for site in index.sites.values()]
    ys = [site[1] for site in index.sites.values()]
    min_x, min_y = min(xs) - cap, min(ys) - cap
    size = max(max(xs) + cap - min_x, max(ys) + cap - min_y) / across
    reach = math.ceil(cap / size)
    nearest: dict[tuple[int, int], tuple[float, str]] = {}
    for code, (x, y) in index.sites.items():
        column, row = int((x - min_x) / size), int((y - min_y) / size)
        for i in range(column - reach, column + reach + 1):
            dx = min_x + (i + 0.5) * size - x
            for j in range(row - reach, row + reach + 1):
                dy = min_y + (j + 0.5) * size - y
                distance = dx * dx + dy * dy
                if distance <= cap * cap and distance < nearest.get((i, j), (math.inf, ""))[0]:
                    nearest[(i, j)] = (distance, code)
    return Squares(
        zone=zone,
        size=size,
        columns=max(i for i, _ in nearest) + 1,
        rows=max(j for _, j in nearest) + 1,
        departments={square: index.departments[code] for square, (_, code) in nearest.items()},
    )
