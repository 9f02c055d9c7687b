"""Territory lookups on real codes, and the checking of a declared area."""

from collections.abc import Sequence

import pytest

from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.territory import Territory, load_territory
from definitions.territory.declared_area import affected_communes, area_problems


@pytest.fixture(scope="module")
def territory() -> Territory:
    return load_territory()


def test_communes_by_insee_code(territory: Territory) -> None:
    lille = territory.commune("59350")
    assert lille is not None and lille.name == "Lille" and lille.department_code == "59"
    paris = territory.commune("75056")
    assert paris is not None and paris.name == "Paris" and paris.population
    reunion = territory.commune("97411")
    assert reunion is not None and reunion.name == "Saint-Denis"
    assert reunion.department_code == "974"
    ajaccio = territory.commune("2A004")
    assert ajaccio is not None and ajaccio.name == "Ajaccio"
    assert territory.commune("59000") is None
    assert len(territory.communes) == 34_875


def test_departments_epci_and_prefectures(territory: Territory) -> None:
    nord = territory.communes_of_department("59")
    assert len(nord) == 647 and all(commune.department_code == "59" for commune in nord)
    assert territory.prefecture_commune("59").name == "Lille"
    assert territory.prefecture_commune("974").insee_code == "97411"
    assert territory.prefecture_commune("2B").name == "Bastia"
    assert len(territory.departments) == 101
    lille = territory.commune("59350")
    assert lille is not None and lille.epci_siren is not None
    metropole = territory.communes_of_epci(lille.epci_siren)
    assert "59009" in {commune.insee_code for commune in metropole}
    epci = territory.epci(lille.epci_siren)
    assert epci is not None and epci.kind == "ME"


def test_distance_between_town_halls(territory: Territory) -> None:
    lille, villeneuve, marseille = (territory.communes[c] for c in ("59350", "59009", "13055"))
    near = territory.distance_km(lille, villeneuve)
    far = territory.distance_km(lille, marseille)
    assert near is not None and 3 < near < 7
    assert far is not None and 820 < far < 850
    paris = territory.communes["75056"]
    assert territory.distance_km(lille, paris) is None  # Paris has no town-hall position


def _declaration(communes: Sequence[str] = (), departments: Sequence[str] = ()) -> EventDeclaration:
    return EventDeclaration(
        type=EventType.INONDATION,
        communes=list(communes),
        departments=list(departments),
        title="Crue",
    )


def test_area_problems_list_every_bad_code_with_suggestions(territory: Territory) -> None:
    problems = area_problems(
        _declaration(
            communes=["59350", "59000", "Lille", "Vilenevue d'Ascq", "99999"],
            departments=["59", "Nord", "99"],
        ),
        territory,
    )
    assert problems == [
        "commune 59000 : c'est un code postal, pas un code INSEE ; "
        "code(s) INSEE : Lille (59350, Nord)",
        "commune « Lille » : indiquez le code INSEE ; code(s) INSEE : Lille (59350, Nord)",
        "commune « Vilenevue d'Ascq » inconnue ; "
        "vouliez-vous dire : Villeneuve-d'Ascq (59009, Nord) ?",
        "commune 99999 inconnue (code INSEE attendu, par exemple 59350 pour Lille)",
        "département « Nord » : indiquez son code (59)",
        "département 99 inconnu (code attendu, par exemple 59, 2A ou 974)",
    ]


def test_codes_are_written_the_canonical_way(territory: Territory) -> None:
    declaration = _declaration(communes=[" 2a004 ", "2A004"], departments=["9", "2b"])
    assert declaration.communes == ["2A004"]
    assert declaration.departments == ["09", "2B"]
    assert area_problems(declaration, territory) == []


def test_affected_communes_unite_communes_and_departments(territory: Territory) -> None:
    communes = affected_communes(_declaration(["75056", "59350"], ["59"]), territory)
    codes = [commune.insee_code for commune in communes]
    assert len(codes) == 648 and codes == sorted(codes)
    assert codes.count("59350") == 1 and "75056" in codes
