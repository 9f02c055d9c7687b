"""An area drawn around a point: the communes whose town hall lies within a radius
of an industrial site or a chemical cloud's source, for the declaration to list and
staff to confirm."""

import math
import re

from definitions.territory.lookup import EARTH_RADIUS_KM, Commune, Territory

MAX_RADIUS_KM = 50.0
"""Beyond, name departments: a radius that wide is not a site's danger zone."""
RADIUS = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km|m)?\s*$", re.IGNORECASE)


class AreaError(ValueError):
    """A point or a radius that cannot be read, in French."""


def parse_point(text: str) -> tuple[float, float]:
    """``49.432,1.066`` (latitude, longitude, in decimal degrees)."""
    parts = [part.strip() for part in text.split(",")]
    try:
        lat, lon = (float(part) for part in parts)
    except ValueError:
        raise AreaError(
            f"point « {text} » : écrivez LATITUDE,LONGITUDE en degrés décimaux, "
            "par exemple 49.432,1.066"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise AreaError(f"point « {text} » : latitude ou longitude hors limites")
    return lat, lon


def resolve_point(text: str, territory: Territory) -> tuple[float, float]:
    """A point written ``LAT,LON``, or a commune's INSEE code: its town hall."""
    commune = territory.commune(text.strip().upper())
    if commune is None:
        return parse_point(text)
    if commune.lat is None or commune.lon is None:
        raise AreaError(f"commune {commune.insee_code} : sa mairie n'est pas située")
    return commune.lat, commune.lon


def parse_radius(text: str) -> float:
    """``10km``, ``500m`` or ``10`` (kilometres)."""
    match = RADIUS.match(text)
    if match is None:
        raise AreaError(f"rayon « {text} » : écrivez par exemple 10km ou 500m")
    value = float(match.group(1).replace(",", "."))
    radius = value / 1000 if (match.group(2) or "km").lower() == "m" else value
    if not 0 < radius <= MAX_RADIUS_KM:
        raise AreaError(f"rayon « {text} » : entre 0 et {MAX_RADIUS_KM:g} km")
    return radius


def distance_km(lat: float, lon: float, commune: Commune) -> float | None:
    if commune.lat is None or commune.lon is None:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (lat, lon, commune.lat, commune.lon))
    haversine = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(haversine))


def communes_around(
    territory: Territory, lat: float, lon: float, radius_km: float
) -> list[tuple[Commune, float]]:
    """Each commune whose town hall lies within the radius, nearest first, with its
    distance; a commune the data does not locate is left out."""
    found = []
    for commune in territory.communes.values():
        distance = distance_km(lat, lon, commune)
        if distance is not None and distance <= radius_km:
            found.append((commune, distance))
    return sorted(found, key=lambda pair: (pair[1], pair[0].insee_code))
