"""The demo event that ``make demo`` runs through its phases (a drill, always): its
first representative, silent after the SMS, is called and accepts on the keypad,
and a CCAS answers by SMS.

The flood protocol calls a silent candidate after 10 minutes; the demo's own copy
of it calls after ``DEMO_CALL_AFTER``, so that the call comes while one watches."""

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import timedelta

import httpx
from temporalio.client import Client

from definitions.event import CloseRequest, EventDeclaration, Phase
from definitions.event_status import EventStatus
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.outgoing import Channel
from gateway.inbound_calls import SimulatedHandset
from operations import event_control
from operations.mobilisation_reads import MobilisationReads
from store import directory, sms_threads
from store.database import Store
from worker.phone_replies import send_sms_reply
from worker.settings import Settings

DEMO_CALL_AFTER = timedelta(seconds=15)
DEMO_RING_SECONDS = 5.0
"""How long the call rings before the demo picks up: time to open the phone in the
console's simulator and see it."""
DEMO_ACTOR = "démonstration"
DEMO_DECLARATION = EventDeclaration(
    type=EventType.INONDATION,
    communes=["59350", "59009"],
    title="Crue de la Deûle (démonstration)",
    exercise=True,
)


def demo_definitions(definitions: Definitions) -> Definitions:
    """The definitions, with the demo's flood calling a silent candidate soon."""
    flood = definitions.protocols[DEMO_DECLARATION.type]
    designation = flood.designation.model_copy(update={"call_after": DEMO_CALL_AFTER})
    demo_flood = flood.model_copy(update={"designation": designation})
    return dataclasses.replace(
        definitions, protocols={**definitions.protocols, DEMO_DECLARATION.type: demo_flood}
    )


async def _wait_for(
    client: Client, event_id: str, condition: Callable[[EventStatus], bool]
) -> EventStatus:
    """Polls the status query, as any client of the workflow would."""
    while True:
        status = await event_control.status(client, event_id)
        if condition(status):
            return status
        await asyncio.sleep(0.2)


async def _answer_as_the_representative(
    client: Client, settings: Settings, store: Store, event_id: str
) -> None:
    """The first candidate's phone says yes on the keypad, through the local
    Twilio-compatible server."""
    status = await _wait_for(
        client, event_id, lambda s: bool(s.designation and s.designation.attempts)
    )
    assert status.designation is not None
    attempt = status.designation.attempts[0]
    with store.session() as session:
        candidate = directory.contact(session, attempt.contact_id)
    if candidate is None or candidate.phone is None:
        print(f"Démo : {attempt.name} n'a pas de téléphone, pas de réponse simulée.", flush=True)
        return
    print(
        f"Démo : {attempt.name} sollicité(e) par SMS (code {attempt.code}) ; sans réponse, "
        f"Tocsin l'appelle dans {DEMO_CALL_AFTER.seconds} s.",
        flush=True,
    )
    await _wait_for(
        client,
        event_id,
        lambda s: bool(s.designation and Channel.VOICE in s.designation.attempts[0].channels),
    )
    with store.session() as session:
        call = sms_threads.last_call(session, candidate.phone)
    if call is None:
        return
    print(
        f"Démo : le téléphone de {attempt.name} sonne (console : /telephones/{candidate.phone}) ; "
        f"il/elle décroche et tape 1 dans {DEMO_RING_SECONDS:g} s.",
        flush=True,
    )
    await asyncio.sleep(DEMO_RING_SECONDS)
    async with httpx.AsyncClient(base_url=settings.twilio_base_url, timeout=15) as carrier:
        for spoken in await SimulatedHandset(carrier).press(call, "1"):
            print(f"Démo : le téléphone dit « {spoken} »", flush=True)


async def _answer_as_a_ccas(
    client: Client, settings: Settings, store: Store, event_id: str
) -> None:
    """The first CCAS asked says it is mobilised, by SMS, once its request has left."""
    while True:
        departments = await MobilisationReads(client, store).departments(event_id)
        asked = [c for d in departments for c in d.centres if c.requested_at and c.code]
        if asked:
            break
        await asyncio.sleep(0.2)
    centre = asked[0]
    phone = next((person.phone for person in centre.recipients if person.phone), None)
    if phone is None:
        return
    print(
        f"Démo : {centre.name} sollicité ; son téléphone répond « OK {centre.code} ».", flush=True
    )
    for answer in await send_sms_reply(settings, phone, f"OK {centre.code}"):
        print(f"Démo : réponse reçue par le téléphone : {answer}", flush=True)


async def run_demo(
    client: Client, settings: Settings, store: Store, close_after_seconds: float
) -> str:
    """Declare the demo event, designate its representative through the sandbox
    (called, a key pressed), let a CCAS answer the support request, then close it."""
    event_id = await event_control.activate(
        client, settings.task_queue, DEMO_DECLARATION, DEMO_ACTOR
    )
    print(f"Démo : événement déclaré {event_id} (exercice).", flush=True)
    await _answer_as_the_representative(client, settings, store, event_id)
    status = await _wait_for(client, event_id, lambda s: bool(s.mobilised_departments))
    await _answer_as_a_ccas(client, settings, store, event_id)
    if status.territory:
        territory = status.territory
        print(
            f"Démo : territoire {territory.area()} ; {territory.competent_ccas} CCAS et "
            f"{territory.competent_cias} CIAS compétents.",
            flush=True,
        )
    if status.representative:
        print(
            f"Démo : représentant(e) {status.representative.person.name} ; la DIAV, la "
            "préfecture et les UD de la zone sont informées, le briefing est envoyé "
            "(voir tocsin outbox).",
            flush=True,
        )
    print(
        f"Démo : {event_id} en phase « {Phase.MOBILISATION.label} » ; "
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
