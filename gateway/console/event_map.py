"""The event page's live map: each affected commune in the state of the centre
that serves it, as the situation's table shows it, so that the legend's counts
are the table's; communes whose centre is not asked yet stay pale."""

from functools import lru_cache

from activities.area_map import MapState, area_map
from definitions.competence import TerritoryResolution
from definitions.mobilisation import CentreSupport, SupportState
from definitions.territory import Territory

UNCOVERED = "uncovered"
CAPTION = "Communes touchées, selon l'état de leur CCAS/CIAS"


def live_map(
    resolution: TerritoryResolution, centres: list[CentreSupport], territory: Territory
) -> str:
    state_of = {centre.organisation_id: centre.state for centre in centres}
    shaded: dict[str, str] = {}
    for organisation in resolution.competent:
        state = state_of.get(organisation.organisation_id)
        if state is not None:
            shaded.update(dict.fromkeys(organisation.communes, state.value))
    shaded.update({commune.insee_code: UNCOVERED for commune in resolution.uncovered})
    counts = {state: 0 for state in SupportState}
    for state in state_of.values():
        counts[state] += 1
    legend = [MapState(state.value, state.label, counts[state]) for state in SupportState]
    legend.append(MapState(UNCOVERED, "commune sans CCAS ni CIAS", len(resolution.uncovered)))
    return _drawn(tuple(sorted(shaded.items())), tuple(legend), territory)


@lru_cache(maxsize=8)
def _drawn(
    shaded: tuple[tuple[str, str], ...], legend: tuple[MapState, ...], territory: Territory
) -> str:
    """The page asks for its map every 10 s: drawn again only when a state changed
    (a national map takes about a second to draw)."""
    return area_map(dict(shaded), list(legend), territory, CAPTION)
