"""Local time for every person: each organisation's time zone comes from its
department, and a moment written to someone is in their zone, named when it is not
Paris (``14h30 heure de La Réunion``)."""

import re
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

PARIS_ZONE = "Europe/Paris"
ZONE_OF_DEPARTMENT = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy",
    "978": "America/Marigot",
}
ZONE_NAMES = {
    "America/Guadeloupe": "heure de Guadeloupe",
    "America/Martinique": "heure de Martinique",
    "America/Cayenne": "heure de Guyane",
    "Indian/Reunion": "heure de La Réunion",
    "America/Miquelon": "heure de Saint-Pierre-et-Miquelon",
    "Indian/Mayotte": "heure de Mayotte",
    "America/St_Barthelemy": "heure de Saint-Barthélemy",
    "America/Marigot": "heure de Saint-Martin",
}
_METROPOLITAN = re.compile(r"^(0[1-9]|[1-8]\d|9[0-5]|2A|2B)$")
_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class UnknownDepartmentError(ValueError):
    pass


def zone_of_department(code: str | None) -> str:
    """Paris for metropolitan France and for national bodies (no department)."""
    if code is None or _METROPOLITAN.match(code):
        return PARIS_ZONE
    zone = ZONE_OF_DEPARTMENT.get(code)
    if zone is None:
        raise UnknownDepartmentError(f"département inconnu {code} : fuseau horaire inconnu")
    return zone


@cache
def zone_info(zone: str) -> ZoneInfo:
    return ZoneInfo(zone)


def in_zone(moment: datetime, zone: str = PARIS_ZONE) -> str:
    """``mardi 16/03/2027 à 14h30``, and ``… heure de La Réunion`` outside Paris."""
    local = moment.astimezone(zone_info(zone))
    text = f"{_DAYS[local.weekday()]} {local:%d/%m/%Y} à {local:%H}h{local:%M}"
    return text if zone == PARIS_ZONE else f"{text} {ZONE_NAMES.get(zone, zone)}"
