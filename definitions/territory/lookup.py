"""Lookups over the shipped territory data. Loaded once per process, in well
under a second: plain slotted dataclasses, no validation of trusted data."""

import csv
import math
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class Commune:
    insee_code: str
    name: str
    department_code: str
    epci_siren: str | None
    population: int | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str
    region_code: str
    prefecture_insee_code: str


@dataclass(frozen=True, slots=True)
class Epci:
    siren: str
    name: str
    kind: str


def name_key(name: str) -> str:
    """Compare names as people type them: no accents, case, hyphens or apostrophes."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    for separator in "-'’_.":
        letters = letters.replace(separator, " ")
    words = letters.replace("saint ", "st ").replace("sainte ", "ste ").split()
    return " ".join(words)


def _read(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _optional_float(value: str) -> float | None:
    return float(value) if value else None


class Territory:
    def __init__(
        self,
        communes: list[Commune],
        departments: list[Department],
        epcis: list[Epci],
        postal_codes: list[tuple[str, str]],
    ) -> None:
        self.communes = {commune.insee_code: commune for commune in communes}
        self.departments = {department.code: department for department in departments}
        self.epcis = {epci.siren: epci for epci in epcis}
        by_department: defaultdict[str, list[Commune]] = defaultdict(list)
        by_epci: defaultdict[str, list[Commune]] = defaultdict(list)
        by_name: defaultdict[str, list[Commune]] = defaultdict(list)
        for commune in communes:
            by_department[commune.department_code].append(commune)
            if commune.epci_siren:
                by_epci[commune.epci_siren].append(commune)
            by_name[name_key(commune.name)].append(commune)
        self._by_department = dict(by_department)
        self._by_epci = dict(by_epci)
        self._by_name = dict(by_name)
        by_postal_code: defaultdict[str, list[str]] = defaultdict(list)
        for postal_code, insee_code in postal_codes:
            by_postal_code[postal_code].append(insee_code)
        self._by_postal_code = dict(by_postal_code)

    def commune(self, insee_code: str) -> Commune | None:
        return self.communes.get(insee_code)

    def department(self, code: str) -> Department | None:
        return self.departments.get(code)

    def epci(self, siren: str) -> Epci | None:
        return self.epcis.get(siren)

    def communes_of_department(self, code: str) -> list[Commune]:
        return self._by_department.get(code, [])

    def communes_of_epci(self, siren: str) -> list[Commune]:
        return self._by_epci.get(siren, [])

    def prefecture_commune(self, department_code: str) -> Commune:
        return self.communes[self.departments[department_code].prefecture_insee_code]

    def communes_named(self, name: str) -> list[Commune]:
        return self._by_name.get(name_key(name), [])

    def communes_with_postal_code(self, postal_code: str) -> list[Commune]:
        return [self.communes[code] for code in self._by_postal_code.get(postal_code, [])]

    def names(self) -> list[str]:
        return list(self._by_name)

    def distance_km(self, first: Commune, second: Commune) -> float | None:
        """Great-circle distance between two town halls; None if one is not located."""
        if first.lat is None or first.lon is None or second.lat is None or second.lon is None:
            return None
        lat1, lon1, lat2, lon2 = map(math.radians, (first.lat, first.lon, second.lat, second.lon))
        haversine = (
            math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        )
        return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(haversine))


@cache
def load_territory() -> Territory:
    communes = [
        Commune(
            insee_code=row["insee_code"],
            name=row["name"],
            department_code=row["department_code"],
            epci_siren=row["epci_siren"] or None,
            population=int(row["population"]) if row["population"] else None,
            lat=_optional_float(row["lat"]),
            lon=_optional_float(row["lon"]),
        )
        for row in _read("communes.csv")
    ]
    departments = [
        Department(
            code=row["code"],
            name=row["name"],
            region_code=row["region_code"],
            prefecture_insee_code=row["prefecture_insee_code"],
        )
        for row in _read("departments.csv")
    ]
    epcis = [
        Epci(siren=row["siren"], name=row["name"], kind=row["kind"]) for row in _read("epci.csv")
    ]
    postal_codes = [(row["postal_code"], row["insee_code"]) for row in _read("postal_codes.csv")]
    return Territory(communes, departments, epcis, postal_codes)
