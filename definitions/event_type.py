"""The kinds of major event Tocsin knows, each with its own protocol."""

from enum import StrEnum


class EventType(StrEnum):
    """Kinds of major event; each has its own protocol."""

    ATTENTAT = "attentat"
    INONDATION = "inondation"
    TEMPETE = "tempete"
    ACCIDENT_COLLECTIF = "accident_collectif"
    ACCIDENT_INDUSTRIEL = "accident_industriel"
    CANICULE = "canicule"
    CRISE_SANITAIRE = "crise_sanitaire"
    CYCLONE = "cyclone"

    @property
    def label(self) -> str:
        return _EVENT_TYPE_LABELS[self]


_EVENT_TYPE_LABELS = {
    EventType.ATTENTAT: "Attentat",
    EventType.INONDATION: "Inondation",
    EventType.TEMPETE: "Tempête",
    EventType.ACCIDENT_COLLECTIF: "Accident collectif",
    EventType.ACCIDENT_INDUSTRIEL: "Accident industriel",
    EventType.CANICULE: "Canicule",
    EventType.CRISE_SANITAIRE: "Crise sanitaire",
    EventType.CYCLONE: "Cyclone",
}
