"""Verification campaigns in the store: who was asked, who confirmed (by SMS or
on the self-service page), the audit trail of corrections, and each
organisation's last confirmation, from which freshness is measured."""

from datetime import datetime

from sqlmodel import Session, col, select

from definitions.directory import Organisation
from definitions.territory import load_territory
from store.tables import (
    DirectoryChangeRow,
    DirectoryConfirmationRow,
    VerificationRequestRow,
)


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
