"""The guide's diffusion: an edition made when the guide changed, then emailed with
its PDF to every CCAS/CIAS director and UD (or those of one department), each
recipient once per edition whatever the number of runs: the outbox knows who has it."""

import asyncio
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from sqlmodel import Session
from temporalio import activity

from activities.email import EmailActivities
from activities.guide_edition_pdf import guide_pdf
from activities.people import mailbox, people_of
from definitions.directory import ContactRole, OrganisationKind
from definitions.directory_csv import department_of
from definitions.fiches import fiches_of_type_url
from definitions.guide import (
    GUIDE_BATCH_SIZE,
    GuideBatch,
    GuideBatchOutcome,
    GuideDiffusionStart,
    GuideEdition,
    PreparedEdition,
    edition_key,
)
from definitions.outgoing import Attachment, Channel, EmailRequest
from definitions.people import Person
from definitions.temporal_names import PREPARE_GUIDE_EDITION, SEND_GUIDE_BATCH
from definitions.territory import load_territory
from store import directory, guide_editions, reviews
from store.database import Store

log = structlog.get_logger(__name__)

STEP = "guide_edition"
ADDRESSED = {
    OrganisationKind.CCAS: ContactRole.DIRECTOR,
    OrganisationKind.CIAS: ContactRole.DIRECTOR,
    OrganisationKind.UD: ContactRole.PRESIDENT,
}
"""Whom each kind of organisation is sent the guide through; an organisation
without such a contact gets it at its own address."""


def guide_recipients(session: Session, department: str | None) -> list[Person]:
    """In the order of their ids, so that batches are ranges of ids."""
    territory = load_territory()
    organisations = {
        organisation.id: organisation
        for organisation in directory.organisations(session)
        if organisation.kind in ADDRESSED
        and (
            department is None
            or department
            == department_of(
                organisation.department_code,
                organisation.insee_code,
                organisation.epci_siren,
                territory,
            )
        )
    }
    contacts = [
        contact
        for role in sorted(set(ADDRESSED.values()))
        for contact in directory.contacts(session, role)
        if contact.email
        and contact.organisation_id in organisations
        and ADDRESSED[organisations[contact.organisation_id].kind] is contact.role
    ]
    covered = {contact.organisation_id for contact in contacts}
    mailboxes = [
        mailbox(organisation)
        for organisation in organisations.values()
        if organisation.id not in covered and organisation.email
    ]
    people = people_of(session, contacts, organisations) + mailboxes
    return sorted(people, key=lambda person: person.contact_id)


def _content_hash(entries: list[object]) -> str:
    text = json.dumps(entries, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _email(edition: GuideEdition, person: Person, pdf: bytes, public_url: str) -> EmailRequest:
    label = edition.event_type.label
    dated = edition.published_at.strftime("%d/%m/%Y")
    assert person.email is not None
    return EmailRequest(
        key=f"{edition_key(edition)}/{person.contact_id}/{Channel.EMAIL.value}",
        event_id=edition_key(edition),
        step=STEP,
        to=person.email,
        subject=f"UNCCAS - Guide des bonnes pratiques : {label}, édition n°{edition.number}",
        text=(
            f"Bonjour,\n\n"
            f"Vous trouverez ci-joint l'édition n°{edition.number} du {dated} du guide des "
            f"bonnes pratiques du réseau pour les événements de type « {label} ». Elle "
            f"rassemble les enseignements et les plans d'action de {edition.events} "
            f"retour(s) d'expérience, en application de la convention entre l'État et "
            f"l'UNCCAS (article 3).\n\n"
            f"Fiches pratiques pour ce type d'événement :\n"
            f"    {fiches_of_type_url(public_url, edition.event_type)}\n\n"
            f"L'UNCCAS"
        ),
        attachments=[
            Attachment(
                filename=f"guide-{edition.event_type.value}-edition-{edition.number}.pdf",
                content_type="application/pdf",
                content=pdf,
            )
        ],
    )


class GuideDiffusionActivities:
    def __init__(self, store: Store, email: EmailActivities, public_url: str) -> None:
        self._store = store
        self._email = email
        self._public_url = public_url

    @activity.defn(name=PREPARE_GUIDE_EDITION)
    def prepare_guide_edition(self, start: GuideDiffusionStart) -> PreparedEdition:
        """The last edition if the guide has not changed since, else the next one."""
        with self._store.session() as session:
            entries = reviews.guide(session, start.event_type.value)
            content_hash = _content_hash([entry.model_dump() for entry in entries])
            found = guide_editions.latest(session, start.event_type)
            if found is not None and found[1] == content_hash:
                edition = found[0]
            else:
                edition = GuideEdition(
                    event_type=start.event_type,
                    number=1 if found is None else found[0].number + 1,
                    published_at=datetime.now(UTC),
                    events=len(entries),
                )
                guide_editions.add(session, edition, content_hash, guide_pdf(edition, entries))
            ids = [person.contact_id for person in guide_recipients(session, start.department)]
            session.commit()
        log.info("guide.edition_prepared", number=edition.number, recipients=len(ids))
        return PreparedEdition(edition=edition, recipients=len(ids), firsts=ids[::GUIDE_BATCH_SIZE])

    def _batch(self, batch: GuideBatch) -> tuple[list[Person], bytes, set[str]]:
        edition = batch.edition
        with self._store.session() as session:
            chosen = [
                person
                for person in guide_recipients(session, batch.department)
                if batch.first <= person.contact_id
                and (batch.until is None or person.contact_id < batch.until)
            ]
            pdf = guide_editions.pdf(session, edition.event_type, edition.number) or b""
            keys = [f"{edition_key(edition)}/{p.contact_id}/{Channel.EMAIL.value}" for p in chosen]
            left = guide_editions.already_left(session, keys)
        return chosen, pdf, left

    @activity.defn(name=SEND_GUIDE_BATCH)
    async def send_guide_batch(self, batch: GuideBatch) -> GuideBatchOutcome:
        people, pdf, left = await asyncio.to_thread(self._batch, batch)
        requests = [_email(batch.edition, person, pdf, self._public_url) for person in people]
        waiting = [request for request in requests if request.key not in left]
        results = await self._email.send_email_batch(waiting) if waiting else []
        outcome = GuideBatchOutcome(
            sent=sum(result.result is not None for result in results),
            already_sent=len(requests) - len(waiting),
            failed=sum(result.refused is not None for result in results),
        )
        log.info("guide.batch_sent", sent=outcome.sent, already=outcome.already_sent)
        return outcome

    @property
    def all(self) -> list[Callable[..., object]]:
        return [self.prepare_guide_edition, self.send_guide_batch]
