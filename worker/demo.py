"""The demo event that ``make demo`` runs through its phases (a drill, always)."""

import asyncio

from temporalio.client import Client

from definitions.event import CloseRequest, EventDeclaration, Phase
from definitions.event_status import EventStatus
from definitions.event_type import EventType
from gateway import event_control

DEMO_ACTOR = "démonstration"
DEMO_DECLARATION = EventDeclaration(
    type=EventType.INONDATION,
    communes=["59350", "59009"],
    title="Crue de la Deûle (démonstration)",
    exercise=True,
)


async def _wait_for_phase(client: Client, event_id: str, phase: Phase) -> EventStatus:
    """Polls the status query, as any client of the workflow would."""
    while True:
        status = await event_control.status(client, event_id)
        if status.phase is phase:
            return status
        await asyncio.sleep(0.2)


async def run_demo(client: Client, task_queue: str, close_after_seconds: float) -> str:
    """Declare the demo event, let it reach the committee phase, then close it."""
    event_id = await event_control.activate(client, task_queue, DEMO_DECLARATION, DEMO_ACTOR)
    print(f"Démo : événement déclaré {event_id} (exercice).", flush=True)
    status = await _wait_for_phase(client, event_id, Phase.COMMITTEE)
    if status.territory:
        territory = status.territory
        print(
            f"Démo : territoire {territory.area()} ; {territory.competent_ccas} CCAS et "
            f"{territory.competent_cias} CIAS compétents.",
            flush=True,
        )
    print(
        f"Démo : {event_id} en phase « {Phase.COMMITTEE.label} » ; "
        f"levée du dispositif dans {close_after_seconds:g} s.",
        flush=True,
    )
    await asyncio.sleep(close_after_seconds)
    closed = await event_control.close(
        client, event_id, CloseRequest(closed_by=DEMO_ACTOR, reason="fin de la démonstration")
    )
    print(
        f"Démo : {event_id} {closed.phase.label}. Voir : tocsin status {event_id}",
        flush=True,
    )
    return event_id
