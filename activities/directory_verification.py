"""A verification campaign's I/O: the organisations asked, each batch's SMS (with
the ``OK 1234`` code) and emails (with the signed self-service link), answers
recorded, live events watched, and the silent organisations listed to their UD."""

import asyncio
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from sqlmodel import Session, col, select
from temporalio import activity

from activities.email import EmailActivities
from activities.people import mailbox, people_of
from definitions.answer_links import answer_url, sign_link
from definitions.awaited_replies import AwaitedTask
from definitions.committee import in_paris
from definitions.directory import ContactRole, Organisation, OrganisationKind
from definitions.directory_verification import (
    DIRECTORY_PATH,
    LINK_VALIDITY,
    REMINDER_STEP,
    SILENT_STEP,
    VERIFICATION_STEP,
    DigestOutcome,
    DirectoryLinkClaim,
    SilentReport,
    VerificationAnswer,
    VerificationBatch,
    VerificationMessages,
    VerificationPlan,
    VerificationStart,
)
from definitions.event import Phase
from definitions.outgoing import EmailRequest, SmsRequest
from definitions.people import Person
from definitions.replies import ReplyKeyword
from definitions.temporal_names import (
    LIVE_EVENT_MOBILISING,
    PLAN_VERIFICATION,
    RECORD_VERIFICATION_ANSWERS,
    REPORT_SILENT_ORGANISATIONS,
    SEND_DIRECTORY_DIGEST,
    VERIFICATION_MESSAGES,
)
from store import directory, reply_codes
from store import directory_verification as verification
from store.database import Store
from store.directory_verification import department_of
from store.tables import EventRow

log = structlog.get_logger(__name__)

ASKED_ROLES = (ContactRole.DIRECTOR, ContactRole.DEPUTY, ContactRole.PRESIDENT, ContactRole.OFFICER)
MOBILISING = (Phase.DECLARED, Phase.REPRESENTATIVE, Phase.MOBILISATION)
"""Phases in which an event's messages must have the provider to themselves."""
NAME_IN_SMS = 60
DIGEST_STEP = "directory_digest"
CHANGE_LABELS = {
    "mailbox": "boîte partagée",
    "director_name": "nom de la direction",
    "director_phone": "téléphone de la direction",
    "director_email": "email de la direction",
    "deputy_name": "nom de l'adjoint(e)",
    "deputy_phone": "téléphone de l'adjoint(e)",
    "deputy_email": "email de l'adjoint(e)",
}


def self_service_url(
    secret: str, public_url: str, organisation_id: str, campaign_id: str, until: datetime
) -> str:
    claim = DirectoryLinkClaim(
        organisation_id=organisation_id,
        campaign_id=campaign_id,
        expires_at=until,
        issued_at=datetime.now(UTC),
    )
    return answer_url(public_url, sign_link(secret, claim), DIRECTORY_PATH)


def _step(batch: VerificationBatch) -> str:
    return REMINDER_STEP if batch.reminder else VERIFICATION_STEP


def _sms(key: str, batch: VerificationBatch, to: str, name: str, code: str) -> SmsRequest:
    again = "Rappel : " if batch.reminder else ""
    return SmsRequest(
        key=key,
        event_id=batch.campaign_id,
        step=_step(batch),
        to=to,
        body=(
            f"UNCCAS : {again}vérification de l'annuaire de crise. Les coordonnées de "
            f"{name[:NAME_IN_SMS]} sont-elles à jour ? Répondez OK {code} pour confirmer, "
            "ou corrigez-les avec le lien reçu par email."
        ),
    )


def _email(
    key: str, batch: VerificationBatch, person: Person, organisation: Organisation, url: str
) -> EmailRequest:
    assert person.email is not None
    again = "Rappel - " if batch.reminder else ""
    return EmailRequest(
        key=key,
        event_id=batch.campaign_id,
        step=_step(batch),
        to=person.email,
        subject=f"UNCCAS - {again}Vérification de l'annuaire de crise : {organisation.name}",
        text=(
            f"Bonjour,\n\n"
            f"L'UNCCAS vérifie son annuaire de crise, celui par lequel votre structure est "
            f"jointe lors d'un événement majeur. Merci de confirmer ou de corriger les "
            f"coordonnées de {organisation.name} (téléphone, email, adjoint, boîte "
            f"partagée) sur cette page :\n\n    {url}\n\n"
            f"Vous pouvez aussi confirmer par SMS en répondant au code reçu.\n\n"
            f"L'UNCCAS"
        ),
    )


class DirectoryVerificationActivities:
    def __init__(self, store: Store, email: EmailActivities, secret: str, public_url: str) -> None:
        self._store = store
        self._email = email
        self._secret = secret
        self._public_url = public_url

    @activity.defn(name=PLAN_VERIFICATION)
    def plan_verification(self, start: VerificationStart) -> VerificationPlan:
        """The organisations of the kinds and departments asked; each gets its
        request row, so that the campaign's answers are counted in the store."""
        now = datetime.now(UTC)
        wanted = set(start.departments)
        with self._store.session() as session:
            chosen = {
                organisation.id: department_of(organisation)
                for kind in start.kinds
                for organisation in directory.organisations_of_kind(session, kind)
            }
            chosen = {
                organisation_id: department
                for organisation_id, department in chosen.items()
                if not wanted or department in wanted
            }
            verification.ask(session, start.campaign_id, chosen, now)
            imported_at = verification.last_import(session)
            session.commit()
        log.info("verification.planned", organisations=len(chosen))
        return VerificationPlan(
            organisations=sorted(chosen),
            links_valid_until=now + start.silent_after + LINK_VALIDITY,
            directory_imported_at=imported_at,
        )

    @activity.defn(name=VERIFICATION_MESSAGES)
    def verification_messages(self, batch: VerificationBatch) -> VerificationMessages:
        """The batch's SMS and emails, read from the directory as it is now (a
        re-import during the campaign is taken as it comes); an organisation that
        confirmed, or left the directory, gets nothing."""
        step = _step(batch)
        workflow_id = _workflow_id()
        with self._store.session() as session:
            waiting = verification.unconfirmed(session, batch.campaign_id, batch.organisations)
            organisations = {
                organisation.id: organisation
                for organisation_id in sorted(waiting)
                if (organisation := directory.organisation(session, organisation_id))
            }
            contacts = [
                contact
                for contact in directory.contacts_of(session, list(organisations))
                if contact.role in ASKED_ROLES
            ]
            people = people_of(session, contacts, organisations)
            by_organisation: dict[str, list[Person]] = defaultdict(list)
            for person in people:
                by_organisation[person.organisation_id].append(person)
            tasks = [
                AwaitedTask.from_people(
                    organisation_id,
                    [ReplyKeyword.MOBILISED],
                    [p for p in by_organisation[organisation_id] if _texted(p)],
                )
                for organisation_id in organisations
            ]
            codes = reply_codes.open_codes(
                session, workflow_id, batch.campaign_id, tasks, datetime.now(UTC)
            )
            imported_at = verification.last_import(session)
            if batch.reminder:
                verification.mark_reminded(
                    session, batch.campaign_id, list(organisations), datetime.now(UTC)
                )
            session.commit()
        messages = VerificationMessages(directory_imported_at=imported_at)
        for organisation_id, organisation in organisations.items():
            url = self_service_url(
                self._secret,
                self._public_url,
                organisation_id,
                batch.campaign_id,
                batch.links_valid_until,
            )
            written = by_organisation[organisation_id]
            if organisation.email and all(p.email != organisation.email for p in written):
                written = [*written, mailbox(organisation)]
            for person in written:
                key = f"{workflow_id}/{organisation_id}/{person.contact_id}/{step}"
                if person.phone and _texted(person):
                    code = codes[organisation_id]
                    messages.sms.append(
                        _sms(key + "/sms", batch, person.phone, organisation.name, code)
                    )
                if person.email:
                    messages.emails.append(_email(key + "/email", batch, person, organisation, url))
        log.info(
            "verification.batch_prepared",
            organisations=len(organisations),
            sms=len(messages.sms),
            emails=len(messages.emails),
            reminder=batch.reminder,
        )
        return messages

    @activity.defn(name=RECORD_VERIFICATION_ANSWERS)
    def record_verification_answers(self, answers: list[VerificationAnswer]) -> None:
        with self._store.session() as session:
            for answer in answers:
                verification.confirm(
                    session,
                    answer.campaign_id,
                    answer.organisation_id,
                    answer.contact_id,
                    via="sms",
                    now=answer.at,
                )
            session.commit()
        log.info("verification.confirmed", via="sms", answers=len(answers))

    @activity.defn(name=LIVE_EVENT_MOBILISING)
    def live_event_mobilising(self) -> bool:
        """Whether a real (not drill) event is open and still mobilising."""
        with self._store.session() as session:
            query = select(EventRow.id).where(
                col(EventRow.closed_at).is_(None),
                col(EventRow.exercise).is_(False),
                col(EventRow.phase).in_([phase.value for phase in MOBILISING]),
            )
            return session.exec(query.limit(1)).first() is not None

    def _silent(
        self, campaign_id: str, workflow_id: str
    ) -> tuple[list[EmailRequest], list[str], int]:
        now = datetime.now(UTC)
        with self._store.session() as session:
            rows = verification.silent(session, campaign_id)
            imported_at = verification.last_import(session)
            began = min((row.asked_at for row in rows), default=None)
            reimported = (
                "L'annuaire a été réimporté pendant la campagne : la relance est partie "
                "vers les nouvelles coordonnées.\n\n"
                if imported_at and began and imported_at > began
                else ""
            )
            by_department: dict[str, list[str]] = defaultdict(list)
            for row in rows:
                by_department[row.department_code or "?"].append(row.organisation_id)
            emails = []
            for department, organisation_ids in sorted(by_department.items()):
                names = [
                    f"  - {found.name} ({found.id})"
                    if (found := directory.organisation(session, organisation_id))
                    else f"  - {organisation_id}"
                    for organisation_id in organisation_ids
                ]
                for address in _ud_addresses(session, department):
                    emails.append(
                        EmailRequest(
                            key=f"{workflow_id}/ud-{department}/{address}/{SILENT_STEP}",
                            event_id=campaign_id,
                            step=SILENT_STEP,
                            to=address,
                            subject=(
                                f"UNCCAS - Annuaire de crise : {len(names)} structure(s) sans "
                                f"réponse dans le {department}"
                            ),
                            text=(
                                "Bonjour,\n\nLa campagne de vérification de l'annuaire de "
                                f"crise ({campaign_id}) s'achève. Ces structures de votre "
                                "département n'ont confirmé ni corrigé leurs coordonnées, "
                                "malgré une relance :\n\n"
                                + "\n".join(names)
                                + "\n\n"
                                + reimported
                                + "Merci de les contacter : un annuaire à jour est ce qui "
                                "permet de les joindre lors d'un événement majeur.\n\n"
                                "L'UNCCAS"
                            ),
                        )
                    )
            for row in rows:
                row.reported_silent_at = now
                session.add(row)
            session.commit()
        return emails, sorted(by_department), len(rows)

    @activity.defn(name=REPORT_SILENT_ORGANISATIONS)
    async def report_silent_organisations(self, campaign_id: str) -> SilentReport:
        """Each UD emailed the list of its department's silent organisations; the
        console reads the same list from the store."""
        emails, departments, silent = await asyncio.to_thread(
            self._silent, campaign_id, _workflow_id()
        )
        if emails:
            await self._email.send_email_batch(emails)
        log.info("verification.silent_reported", silent=silent, departments=len(departments))
        return SilentReport(silent=silent, departments_told=departments)

    def _digest(self, workflow_id: str) -> tuple[list[EmailRequest], list[int]]:
        with self._store.session() as session:
            changes = verification.undigested_changes(session)
            by_department: dict[str, list[str]] = defaultdict(list)
            for change in changes:
                organisation = directory.organisation(session, change.organisation_id)
                name = organisation.name if organisation else change.organisation_id
                department = (department_of(organisation) if organisation else None) or "?"
                by_department[department].append(
                    f"  - {name} : {CHANGE_LABELS.get(change.field, change.field)} "
                    f"« {change.before or ''} » devient « {change.after or ''} » "
                    f"(par {change.changed_by}, {in_paris(change.changed_at)})"
                )
            staff = [
                contact.email
                for contact in directory.contacts(session, ContactRole.ON_CALL_STAFF)
                if contact.email
            ]
            readers = [
                (address, department, lines)
                for department, lines in sorted(by_department.items())
                for address in _ud_addresses(session, department)
            ]
        everything = [line for _, lines in sorted(by_department.items()) for line in lines]
        readers += [(address, "unccas", everything) for address in staff if everything]
        emails = [
            EmailRequest(
                key=f"{workflow_id}/{department}/{address}/{DIGEST_STEP}",
                event_id=workflow_id[:64],
                step=DIGEST_STEP,
                to=address,
                subject=f"UNCCAS - Annuaire de crise : {len(lines)} correction(s) du jour",
                text=(
                    "Bonjour,\n\nCorrections apportées à l'annuaire de crise par les "
                    "structures elles-mêmes, depuis le dernier point :\n\n"
                    + "\n".join(lines)
                    + "\n\nElles sont déjà appliquées. L'UNCCAS"
                ),
            )
            for address, department, lines in readers
        ]
        return emails, [change.id for change in changes if change.id is not None]

    def _digested(self, change_ids: list[int]) -> None:
        with self._store.session() as session:
            verification.mark_digested(session, change_ids, datetime.now(UTC))
            session.commit()

    @activity.defn(name=SEND_DIRECTORY_DIGEST)
    async def send_directory_digest(self) -> DigestOutcome:
        """One email per reader, then the changes marked told: a retry sends only
        what the outbox has not, and a failure leaves them for the next day."""
        emails, change_ids = await asyncio.to_thread(self._digest, _workflow_id())
        if emails:
            await self._email.send_email_batch(emails)
        await asyncio.to_thread(self._digested, change_ids)
        log.info("verification.digest_sent", changes=len(change_ids), emails=len(emails))
        return DigestOutcome(changes=len(change_ids), emails=len(emails))

    @property
    def all(self) -> list[Callable[..., object]]:
        return [
            self.plan_verification,
            self.verification_messages,
            self.record_verification_answers,
            self.live_event_mobilising,
        ]


def _workflow_id() -> str:
    """The calling workflow's id, which the campaign's codes and keys name."""
    workflow_id = activity.info().workflow_id
    assert workflow_id is not None
    return workflow_id


def _texted(person: Person) -> bool:
    return bool(person.phone) and not person.sms_opted_out and not person.fixed_line


def _ud_addresses(session: Session, department: str) -> list[str]:
    """The UD's president and officers, else its own mailbox."""
    uds = directory.organisations_of_kind(session, OrganisationKind.UD, [department])
    contacts = directory.contacts_of(session, [ud.id for ud in uds])
    addresses = [
        contact.email
        for contact in contacts
        if contact.email and contact.role in (ContactRole.PRESIDENT, ContactRole.OFFICER)
    ]
    return addresses or [ud.email for ud in uds if ud.email]
