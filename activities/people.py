"""Who a workflow writes to, read from the crisis directory, with each phone's
opt-out; and the record of who represents which event."""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import structlog
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from definitions.designation import ClaimOutcome, RepresentativeClaim
from definitions.directory import Contact, ContactRole, Organisation, OrganisationKind
from definitions.local_time import PARIS_ZONE, UnknownDepartmentError, zone_of_department
from definitions.people import Person, StateRecipients
from definitions.phone_numbers import accepts_sms
from definitions.temporal_names import (
    BUSY_REPRESENTATIVES,
    CLAIM_REPRESENTATIVE,
    LOAD_ON_CALL_STAFF,
    LOAD_PEOPLE,
    LOAD_PERSON,
    LOAD_ROSTER,
    LOAD_STATE_RECIPIENTS,
)
from store import directory, inbound, representatives
from store.database import Store

log = structlog.get_logger(__name__)

UNKNOWN_CONTACT = "UnknownContact"


def _opted_out(session: Session, phone: str | None) -> bool:
    return bool(phone and inbound.opted_out_among(session, [phone]))


def _fixed_line(phone: str | None) -> bool:
    return phone is not None and not accepts_sms(phone)


def _zone(organisation: Organisation | None) -> str:
    """A department the territory no longer knows is written to in Paris time."""
    try:
        return zone_of_department(organisation.department_code if organisation else None)
    except UnknownDepartmentError:
        log.warning("time_zone.unknown_department", organisation=organisation and organisation.id)
        return PARIS_ZONE


def _person(contact: Contact, organisation: Organisation | None, stopped: set[str]) -> Person:
    return Person(
        contact_id=contact.id,
        name=contact.name,
        organisation_id=contact.organisation_id,
        organisation_name=organisation.name if organisation else "",
        phone=contact.phone,
        email=contact.email,
        sms_opted_out=contact.phone in stopped,
        fixed_line=_fixed_line(contact.phone),
        time_zone=_zone(organisation),
    )


def person_of(session: Session, contact: Contact, organisation: Organisation | None) -> Person:
    return people_of(session, [contact], {contact.organisation_id: organisation})[0]


def people_of(
    session: Session, contacts: list[Contact], organisations: Mapping[str, Organisation | None]
) -> list[Person]:
    """Contacts with their organisation's name, and one opt-out query for them all."""
    stopped = inbound.opted_out_among(session, {c.phone for c in contacts if c.phone})
    return [_person(c, organisations.get(c.organisation_id), stopped) for c in contacts]


def organisation_person(session: Session, organisation: Organisation) -> Person:
    """An organisation written to at its own phone and address (a centre with no
    director in the directory)."""
    return Person(
        contact_id=organisation.id,
        name=organisation.name,
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        phone=organisation.phone,
        email=organisation.email,
        sms_opted_out=_opted_out(session, organisation.phone),
        fixed_line=_fixed_line(organisation.phone),
        time_zone=_zone(organisation),
    )


def _directory_person(session: Session, contact: Contact) -> Person:
    """A contact with their organisation's name, read for that one contact."""
    return person_of(session, contact, directory.organisation(session, contact.organisation_id))


def mailbox(organisation: Organisation) -> Person:
    """An organisation written to at its own address only."""
    return Person(
        contact_id=organisation.id,
        name=organisation.name,
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        email=organisation.email,
        time_zone=_zone(organisation),
    )


def _people_of(session: Session, organisations: list[Organisation]) -> list[Person]:
    """Each organisation's mailbox and its contacts, one message per address."""
    by_id = {organisation.id: organisation for organisation in organisations}
    people = [mailbox(organisation) for organisation in organisations if organisation.email]
    people += people_of(session, directory.contacts_of(session, list(by_id)), by_id)
    seen: set[str] = set()
    unique = []
    for person in people:
        if person.email in seen and not person.phone:
            continue
        if person.email:
            seen.add(person.email)
        unique.append(person)
    return unique


ANSWERING_ROLES = (ContactRole.DIRECTOR, ContactRole.PRESIDENT, ContactRole.DEPUTY)
"""Who answers for an organisation, by preference."""


def answering_person(session: Session, key: str) -> Person | None:
    """A contact; or who answers for an organisation (its director or president,
    else the organisation at its own phone and address); None if unknown."""
    contact = directory.contact(session, key)
    if contact is not None:
        return _directory_person(session, contact)
    organisation = directory.organisation(session, key)
    if organisation is None:
        return None
    contacts = [c for c in directory.contacts_of(session, [key]) if c.role in ANSWERING_ROLES]
    if not contacts:
        return organisation_person(session, organisation)
    first = min(contacts, key=lambda c: ANSWERING_ROLES.index(c.role))
    return person_of(session, first, organisation)


class PeopleActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name=LOAD_ROSTER)
    def load_roster(self) -> list[Person]:
        with self._store.session() as session:
            return [_directory_person(session, contact) for contact in directory.roster(session)]

    @activity.defn(name=LOAD_PERSON)
    def load_person(self, contact_id: str) -> Person:
        with self._store.session() as session:
            contact = directory.contact(session, contact_id)
            if contact is None:
                raise ApplicationError(
                    f"contact inconnu : {contact_id}", type=UNKNOWN_CONTACT, non_retryable=True
                )
            return _directory_person(session, contact)

    @activity.defn(name=LOAD_PEOPLE)
    def load_people(self, ids: list[str]) -> dict[str, Person]:
        """Contacts, or organisations written to at their own phone and address."""
        with self._store.session() as session:
            people = {}
            for key in ids:
                contact = directory.contact(session, key)
                organisation = directory.organisation(session, key) if contact is None else None
                if contact is not None:
                    people[key] = _directory_person(session, contact)
                elif organisation is not None:
                    people[key] = organisation_person(session, organisation)
                else:
                    raise ApplicationError(
                        f"inconnu dans l'annuaire : {key}", type=UNKNOWN_CONTACT, non_retryable=True
                    )
            return people

    @activity.defn(name=LOAD_ON_CALL_STAFF)
    def load_on_call_staff(self) -> list[Person]:
        with self._store.session() as session:
            return [
                _directory_person(session, contact)
                for contact in directory.contacts(session, ContactRole.ON_CALL_STAFF)
            ]

    @activity.defn(name=LOAD_STATE_RECIPIENTS)
    def load_state_recipients(self, department_codes: list[str]) -> StateRecipients:
        with self._store.session() as session:

            def people(kind: OrganisationKind, codes: list[str] | None = None) -> list[Person]:
                organisations = directory.organisations_of_kind(session, kind, codes)
                return _people_of(session, organisations)

            recipients = StateRecipients(
                diav=people(OrganisationKind.DIAV),
                prefectures=people(OrganisationKind.PREFECTURE, department_codes),
                uds=people(OrganisationKind.UD, department_codes),
                departements=people(OrganisationKind.DEPARTEMENT, department_codes),
            )
        log.info(
            "state_recipients.loaded",
            diav=len(recipients.diav),
            prefectures=len(recipients.prefectures),
            uds=len(recipients.uds),
            departements=len(recipients.departements),
        )
        return recipients

    @activity.defn(name=BUSY_REPRESENTATIVES)
    def busy_representatives(self, event_id: str) -> dict[str, str]:
        with self._store.session() as session:
            return representatives.busy_elsewhere(session, event_id)

    @activity.defn(name=CLAIM_REPRESENTATIVE)
    def claim_representative(self, claim: RepresentativeClaim) -> ClaimOutcome:
        with self._store.session() as session:
            outcome = representatives.claim(session, claim, datetime.now(UTC))
            session.commit()
        log.info("representative.claimed", granted=outcome.granted, busy=bool(outcome.busy_with))
        return outcome

    @property
    def all(self) -> list[Callable[..., object]]:
        return [
            self.load_roster,
            self.load_person,
            self.load_on_call_staff,
            self.load_people,
            self.load_state_recipients,
            self.busy_representatives,
            self.claim_representative,
        ]
