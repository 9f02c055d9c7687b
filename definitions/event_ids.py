"""Event ids are workflow ids: readable over the phone, never personal data."""

import secrets
from datetime import date

from definitions.event_type import EventType

_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_event_id(event_type: EventType, day: date) -> str:
    """``inondation-20261122-k3f9``: type, day, and a suffix without look-alikes."""
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(4))
    return f"{event_type.value}-{day:%Y%m%d}-{suffix}"


def event_id_of(workflow_id: str) -> str:
    """Child workflows are named ``EVENT/part``; this gives back ``EVENT``."""
    return workflow_id.split("/", 1)[0]
