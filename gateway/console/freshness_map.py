"""The directory page's map: each department coloured by the share of its
organisations confirmed within six months, in five bands from red (stale) to
blue (fresh), ColorBrewer's RdYlBu, which colour-blind readers and grey print
tell apart; the table beside it gives the figures."""

from functools import lru_cache

from activities.department_map import Band, Shaded, department_map
from definitions.directory_verification import DepartmentFreshness
from definitions.territory import Territory

CAPTION = "Part des structures confirmées depuis moins de six mois"
BANDS = (
    (0.0, "moins de 20 %", "#d7191c"),
    (0.2, "de 20 à 40 %", "#fdae61"),
    (0.4, "de 40 à 60 %", "#ffffbf"),
    (0.6, "de 60 à 80 %", "#abd9e9"),
    (0.8, "80 % et plus", "#2c7bb6"),
)
"""Each band's lowest share, label and colour."""
EMPTY = "aucune"
EMPTY_COLOUR = "#bdbdbd"


def _band(share: float) -> str:
    return str(round(100 * max(low for low, _, _ in BANDS if share >= low)))


def freshness_map(
    table: list[DepartmentFreshness], territory: Territory, within: str | None = None
) -> str:
    """Every department shaded by its share of fresh organisations; a UD's map
    (``within`` its department) leaves the others blank, as outside its view."""
    absent, absent_legend = (
        ("hors de votre département",) * 2
        if within
        else ("aucune structure", "aucune structure dans l'annuaire")
    )
    shaded: dict[str, Shaded] = {}
    for row in table:
        department = territory.department(row.department)
        name = department.name if department else row.department
        shaded[row.department] = Shaded(
            _band(row.share),
            f"{name} ({row.department}) : {row.fresh}/{row.organisations} à jour "
            f"({row.share * 100:.0f} %)",
        )
    for code, department in territory.departments.items():
        if code not in shaded:
            shaded[code] = Shaded(EMPTY, f"{department.name} ({code}) : {absent}")
    counts = {key: 0 for key in [_band(low) for low, _, _ in BANDS] + [EMPTY]}
    for state in shaded.values():
        counts[state.band] += 1
    bands = [Band(_band(low), label, colour, counts[_band(low)]) for low, label, colour in BANDS]
    if counts[EMPTY]:
        bands.append(Band(EMPTY, absent_legend, EMPTY_COLOUR, counts[EMPTY]))
    return _drawn(tuple(sorted(shaded.items())), tuple(bands), territory)


@lru_cache(maxsize=4)
def _drawn(
    shaded: tuple[tuple[str, Shaded], ...], bands: tuple[Band, ...], territory: Territory
) -> str:
    """Drawn again only when a department changed band or figures."""
    return department_map(dict(shaded), list(bands), territory, CAPTION)
