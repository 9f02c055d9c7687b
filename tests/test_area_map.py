"""The area map as its reader sees it: shapes for the affected communes, each
state in its own colour and hatching, a legend with the caller's counts, and the
overseas departments as insets on a national map."""

import re
import xml.etree.ElementTree as ET

from activities.area_map import STYLES, MapState, area_map
from activities.map_geometry import department_cells
from definitions.territory import load_territory

SVG = "{http://www.w3.org/2000/svg}"


def _paths(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {p.attrib["data-state"]: p for p in root.iter(f"{SVG}path") if "data-state" in p.attrib}


def _legend(svg: str) -> dict[str, int]:
    root = ET.fromstring(svg)
    return {
        g.attrib["data-state"]: int(g.attrib["data-count"])
        for g in root.iter(f"{SVG}g")
        if g.attrib.get("class") == "legend"
    }


def test_a_department_map_shades_each_state_apart() -> None:
    territory = load_territory()
    shaded = {"35001": "mobilised", "35006": "needs_support", "35024": "unanswered"}
    legend = [
        MapState("mobilised", "mobilisé", 1),
        MapState("needs_support", "besoin de soutien", 1),
        MapState("unanswered", "sans réponse (signalé)", 1),
        MapState("uncovered", "commune sans CCAS ni CIAS", 0),
    ]
    svg = area_map(shaded, legend, territory, "Ille-et-Vilaine")
    paths = _paths(svg)
    assert {key: int(p.attrib["data-communes"]) for key, p in paths.items()} == {
        "mobilised": 1,
        "needs_support": 1,
        "unanswered": 1,
    }
    assert {key: p.attrib["fill"] for key, p in paths.items()} == {
        key: STYLES[key][0] for key in shaded.values()
    }
    assert len({colour for colour, _ in STYLES.values()}) >= len(STYLES) - 1, "one colour each"
    assert len({cue for _, cue in STYLES.values()}) >= 6, "and a hatching to tell them apart"
    assert _legend(svg) == {"mobilised": 1, "needs_support": 1, "unanswered": 1, "uncovered": 0}
    assert "sans réponse (signalé) : 1" in svg
    context = ET.fromstring(svg).find(f"{SVG}path")
    assert context is not None and context.attrib["fill"] == "#eeeeee", "the rest of the department"
    cells = department_cells("35")
    assert len(cells) > 300 and all(len(cell.points) >= 3 for cell in cells.values())


def test_a_national_map_has_the_overseas_departments_as_insets() -> None:
    territory = load_territory()
    shaded = {code: "requested" for code in territory.communes}
    svg = area_map(shaded, [MapState("requested", "demande envoyée", 4000)], territory, "France")
    shapes = [p for p in ET.fromstring(svg).iter(f"{SVG}path") if "data-communes" in p.attrib]
    assert len(shapes) == 6, "metropolitan France and five insets"
    drawn = sum(int(shape.attrib["data-communes"]) for shape in shapes)
    assert drawn > 34_000, "every located commune of France is a shape"
    for inset in ("Guadeloupe (971)", "Martinique (972)", "Guyane (973)", "Mayotte (976)"):
        assert inset in svg
    assert re.search(r"La R[ée]union \(974\)", svg)
    assert _legend(svg) == {"requested": 4000}
