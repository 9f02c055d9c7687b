"""The affected communes in the state of the CCAS/CIAS that serves them, with the
legend's lines: the console's live map and the after-action report share them, so
that both draw the same states, colours, hatchings and counts (those of the table
beside the map)."""

from collections import Counter
from collections.abc import Mapping

from activities.area_map import MapState
from definitions.competence import TerritoryResolution
from definitions.mobilisation import SupportState

UNCOVERED = "uncovered"
CAPTION = "Communes touchées, selon l'état de leur CCAS/CIAS"


def centre_shading(
    resolution: TerritoryResolution, states: Mapping[str, SupportState]
) -> tuple[dict[str, str], list[MapState]]:
    """``states``: each centre's state by organisation id. A competent centre not in
    it (not asked yet) leaves its communes pale; every state has its legend line,
    counted in centres, then the communes without a centre."""
    shaded: dict[str, str] = {}
    for organisation in resolution.competent:
        state = states.get(organisation.organisation_id)
        if state is not None:
            shaded.update(dict.fromkeys(organisation.communes, state.value))
    shaded.update({commune.insee_code: UNCOVERED for commune in resolution.uncovered})
    counts = Counter(states.values())
    legend = [MapState(state.value, state.label, counts[state]) for state in SupportState]
    legend.append(MapState(UNCOVERED, "commune sans CCAS ni CIAS", len(resolution.uncovered)))
    return shaded, legend
