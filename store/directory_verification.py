"""Verification campaigns in the store: who was asked, who confirmed (by SMS or
on the self-service page), the audit trail of corrections, and each
organisation's last confirmation, from which freshness is measured."""

import hashlib
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from definitions.directory import Contact, ContactRole, Organisation
from definitions.outgoing import Channel, OutboxStatus
from definitions.territory import load_territory
from store.tables import (
    ContactRow,
    DirectoryChangeRow,
    DirectoryConfirmationRow,
    DirectoryImportRow,
    OrganisationRow,
    OutboxRow,
    VerificationRequestRow,
)

EDITABLE_ROLES = (ContactRole.DIRECTOR, ContactRole.DEPUTY)
CONTACT_FIELDS = ("name", "phone", "email")


def department_of(organisation: Organisation) -> str | None:
    """The department a UD or prefecture names, else its commune's or EPCI's."""
    if organisation.department_code:
        return organisation.department_code
    territory = load_territory()
    if organisation.insee_code and (commune := territory.commune(organisation.insee_code)):
        return commune.department_code
    if organisation.epci_siren and (
        communes := territory.communes_of_epci(organisation.epci_siren)
    ):
        return communes[0].department_code
    return None


def ask(
    session: Session, campaign_id: str, departments: dict[str, str | None], now: datetime
) -> None:
    """Organisation id → its department; those already asked keep their row."""
    query = select(VerificationRequestRow.organisation_id).where(
        VerificationRequestRow.campaign_id == campaign_id
    )
    asked = set(session.exec(query))
    for organisation_id, department in departments.items():
        if organisation_id not in asked:
            session.add(
                VerificationRequestRow(
                    campaign_id=campaign_id,
                    organisation_id=organisation_id,
                    department_code=department,
                    asked_at=now,
                )
            )
    session.flush()


def requests(session: Session, campaign_id: str) -> list[VerificationRequestRow]:
    query = select(VerificationRequestRow).where(VerificationRequestRow.campaign_id == campaign_id)
    return list(session.exec(query.order_by(col(VerificationRequestRow.organisation_id))))


def unconfirmed(session: Session, campaign_id: str, organisation_ids: list[str]) -> set[str]:
    query = select(VerificationRequestRow.organisation_id).where(
        VerificationRequestRow.campaign_id == campaign_id,
        col(VerificationRequestRow.organisation_id).in_(organisation_ids),
        col(VerificationRequestRow.confirmed_at).is_(None),
    )
    return set(session.exec(query))


def mark_reminded(
    session: Session, campaign_id: str, organisation_ids: list[str], now: datetime
) -> None:
    for row in session.exec(
        select(VerificationRequestRow).where(
            VerificationRequestRow.campaign_id == campaign_id,
            col(VerificationRequestRow.organisation_id).in_(organisation_ids),
        )
    ):
        row.reminded_at = row.reminded_at or now
        session.add(row)


def confirm(
    session: Session,
    campaign_id: str,
    organisation_id: str,
    contact_id: str,
    *,
    via: str,
    now: datetime,
) -> None:
    """The organisation's line is true as of now: its request in the campaign is
    answered and its last confirmation moves forward."""
    request = session.get(VerificationRequestRow, (campaign_id, organisation_id))
    if request is not None and request.confirmed_at is None:
        request.confirmed_at = now
        session.add(request)
    last = session.get(DirectoryConfirmationRow, organisation_id)
    if last is None:
        last = DirectoryConfirmationRow(
            organisation_id=organisation_id,
            confirmed_at=now,
            via=via,
            contact_id=contact_id,
            campaign_id=campaign_id,
        )
    elif last.confirmed_at < now:
        last.confirmed_at, last.via = now, via
        last.contact_id, last.campaign_id = contact_id, campaign_id
    session.add(last)


def silent(session: Session, campaign_id: str) -> list[VerificationRequestRow]:
    """Organisations of the campaign that never answered, not yet reported."""
    query = select(VerificationRequestRow).where(
        VerificationRequestRow.campaign_id == campaign_id,
        col(VerificationRequestRow.confirmed_at).is_(None),
        col(VerificationRequestRow.reported_silent_at).is_(None),
    )
    return list(session.exec(query.order_by(col(VerificationRequestRow.organisation_id))))


def latest_requests(session: Session) -> dict[str, list[VerificationRequestRow]]:
    """Per department, the requests of the latest campaign that asked its
    organisations, latest by when the campaign first asked there."""
    department = col(VerificationRequestRow.department_code)
    campaign = col(VerificationRequestRow.campaign_id)
    begun = func.min(VerificationRequestRow.asked_at)
    latest: dict[str, tuple[datetime, str]] = {}
    for code, campaign_id, first_asked in session.exec(
        select(department, campaign, begun)
        .where(department.is_not(None))
        .group_by(department, campaign)
    ):
        if code is not None and (code not in latest or (first_asked, campaign_id) > latest[code]):
            latest[code] = (first_asked, campaign_id)
    chosen = {(code, campaign_id) for code, (_, campaign_id) in latest.items()}
    query = select(VerificationRequestRow).where(
        campaign.in_({campaign_id for _, campaign_id in chosen})
    )
    found: dict[str, list[VerificationRequestRow]] = defaultdict(list)
    for row in session.exec(query.order_by(col(VerificationRequestRow.organisation_id))):
        if row.department_code is not None and (row.department_code, row.campaign_id) in chosen:
            found[row.department_code].append(row)
    return dict(found)


def last_confirmations(session: Session) -> dict[str, datetime]:
    return {
        row.organisation_id: row.confirmed_at
        for row in session.exec(select(DirectoryConfirmationRow))
    }


def record_change(session: Session, change: DirectoryChangeRow) -> None:
    session.add(change)


def changes_of(session: Session, organisation_id: str) -> list[DirectoryChangeRow]:
    query = select(DirectoryChangeRow).where(DirectoryChangeRow.organisation_id == organisation_id)
    return list(session.exec(query.order_by(col(DirectoryChangeRow.id))))


def undigested_changes(session: Session) -> list[DirectoryChangeRow]:
    query = select(DirectoryChangeRow).where(col(DirectoryChangeRow.digested_at).is_(None))
    return list(session.exec(query.order_by(col(DirectoryChangeRow.id))))


def last_import(session: Session) -> datetime | None:
    query = select(DirectoryImportRow.imported_at).order_by(col(DirectoryImportRow.id).desc())
    return session.exec(query.limit(1)).first()


def line_of(session: Session, organisation_id: str) -> dict[str, str]:
    """The editable line of an organisation as the page shows it: its mailbox,
    and the name, phone and email of its director and deputy ('' when none)."""
    line = {}
    organisation = session.get(OrganisationRow, organisation_id)
    line["mailbox"] = (organisation.email if organisation else None) or ""
    for role in EDITABLE_ROLES:
        contact = _first(session, organisation_id, role)
        for field in CONTACT_FIELDS:
            value = getattr(contact, field) if contact else None
            line[f"{role.value}_{field}"] = value or ""
    return line


def line_version(line: dict[str, str]) -> str:
    """What a form was drawn from: a second director's stale form is recognised."""
    text = "\x1f".join(f"{key}={line[key]}" for key in sorted(line))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def apply_line(
    session: Session, organisation_id: str, new: dict[str, str], who: str, campaign_id: str
) -> list[DirectoryChangeRow]:
    """Writes the fields that differ from the directory (already validated) and
    one audit row each; a deputy named where none was is added."""
    now = datetime.now(UTC)
    old = line_of(session, organisation_id)
    changes = []
    for key, value in new.items():
        if old.get(key, "") == value:
            continue
        contact_id = None
        if key == "mailbox":
            organisation = session.get(OrganisationRow, organisation_id)
            assert organisation is not None
            organisation.email = value or None
            session.add(organisation)
        else:
            role_value, _, field = key.rpartition("_")
            role = ContactRole(role_value)
            contact = _first(session, organisation_id, role)
            if contact is None:
                contact = ContactRow(
                    id=f"{organisation_id}-{role.value}"[:64],
                    organisation_id=organisation_id,
                    name=new.get(f"{role.value}_name") or role.value,
                    role=role.value,
                )
            setattr(contact, field, value or None)
            session.add(contact)
            contact_id = contact.id
        changes.append(
            DirectoryChangeRow(
                organisation_id=organisation_id,
                contact_id=contact_id,
                field=key,
                before=old.get(key) or None,
                after=value or None,
                changed_at=now,
                changed_by=who[:200],
                campaign_id=campaign_id,
            )
        )
    for change in changes:
        session.add(change)
    session.flush()
    return changes


def mark_digested(session: Session, change_ids: list[int], now: datetime) -> None:
    query = select(DirectoryChangeRow).where(col(DirectoryChangeRow.id).in_(change_ids))
    for row in session.exec(query):
        row.digested_at = now
        session.add(row)


def _first(session: Session, organisation_id: str, role: ContactRole) -> ContactRow | None:
    query = select(ContactRow).where(
        ContactRow.organisation_id == organisation_id, ContactRow.role == role.value
    )
    return session.exec(query.order_by(col(ContactRow.id)).limit(1)).first()


FAILED_STATUSES = (OutboxStatus.FAILED.value, OutboxStatus.UNDELIVERED.value)
DEAD_NUMBER_CODES = ("21211", "21614", "30005", "30006")
"""Twilio's codes that say the number itself is wrong: not a valid number, not a
mobile, unknown to its carrier, a landline. A handset switched off (30003), a
carrier's filter or a STOP say nothing of the directory. An email is failed only
when its server refused it for good (5xx)."""


def failing_points(session: Session, contacts: list[Contact]) -> dict[str, tuple[str, datetime]]:
    """Contact id → (phone or email, when) for each contact point whose last
    message was refused for good or never delivered, during any event or
    campaign, after its organisation last confirmed its line: failing until
    confirmed again."""
    points = {point for contact in contacts for point in (contact.phone, contact.email) if point}
    if not points:
        return {}
    query = select(OutboxRow.recipient, OutboxRow.updated_at).where(
        col(OutboxRow.recipient).in_(sorted(points)),
        col(OutboxRow.status).in_(FAILED_STATUSES),
        or_(
            col(OutboxRow.channel) == Channel.EMAIL.value,
            and_(
                col(OutboxRow.channel) == Channel.SMS.value,
                col(OutboxRow.error_code).in_(DEAD_NUMBER_CODES),
            ),
        ),
    )
    last_failure: dict[str, datetime] = {}
    for recipient, at in session.exec(query):
        if recipient not in last_failure or at > last_failure[recipient]:
            last_failure[recipient] = at
    confirmed = last_confirmations(session)
    failing = {}
    for contact in contacts:
        for point in (contact.phone, contact.email):
            since = last_failure.get(point or "")
            cleared = confirmed.get(contact.organisation_id)
            if point and since and (cleared is None or since > cleared):
                failing[contact.id] = (point, since)
                break
    return failing
