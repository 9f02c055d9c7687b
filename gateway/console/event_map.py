"""The event page's live map: each affected commune in the state of the centre
that serves it, as the situation's table shows it, so that the legend's counts
are the table's; communes whose centre is not asked yet stay pale."""

from functools import lru_cache

from activities.area_map import MapState, area_map
from activities.centre_map import CAPTION, centre_shading
from definitions.competence import TerritoryResolution
from definitions.mobilisation import CentreSupport
from definitions.territory import Territory


def live_map(
    resolution: TerritoryResolution, centres: list[CentreSupport], territory: Territory
) -> str:
    states = {centre.organisation_id: centre.state for centre in centres}
    shaded, legend = centre_shading(resolution, states)
    return _drawn(tuple(sorted(shaded.items())), tuple(legend), territory)


@lru_cache(maxsize=8)
def _drawn(
    shaded: tuple[tuple[str, str], ...], legend: tuple[MapState, ...], territory: Territory
) -> str:
    """The page asks for its map every 10 s: drawn again only when a state changed
    (a national map takes about a second to draw)."""
    return area_map(dict(shaded), list(legend), territory, CAPTION)
