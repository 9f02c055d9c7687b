"""Alert levels of an event whose protocol has them (a cyclone): staff record each
level the prefecture announces, and the centres mobilised hear it with its
instructions, as a situation report."""

from pydantic import BaseModel, Field

from definitions.protocol import AlertLevel, AlertZone, Protocol


class AlertLevelChange(BaseModel):
    """Staff recording the level the prefecture has just announced."""

    level: str = Field(pattern=r"^[a-z_]+$", max_length=40)
    changed_by: str = Field(min_length=1, max_length=100)


class LevelChanged(BaseModel):
    """One change, as the event's status keeps it."""

    zone: str
    level: str
    label: str


def level_report(zone: AlertZone, level: AlertLevel) -> str:
    """The situation report a level change sends to every mobilised centre."""
    return f"{zone.name} : passage en {level.label}. {level.instructions}"


def level_problem(protocol: Protocol, departments: list[str], level_id: str) -> str | None:
    """Why this level cannot be recorded for an event on these departments, in French."""
    zone = protocol.alert_zone(departments)
    if zone is None:
        return (
            f"pas de niveaux d'alerte pour un(e) {protocol.event_type.label.lower()} "
            "sur ce territoire"
        )
    if zone.level(level_id) is None:
        known = ", ".join(level.id for level in zone.levels)
        return f"niveau inconnu « {level_id} » ({zone.name} : {known})"
    return None
