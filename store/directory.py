"""The crisis directory in the database: replaced whole by an import, read by the
engine when it resolves who is competent for an event."""

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from definitions.directory import (
    Contact,
    ContactRole,
    Directory,
    Organisation,
    OrganisationKind,
)
from store.tables import ContactRow, DirectoryImportRow, OrganisationRow


def replace_directory(session: Session, directory: Directory) -> None:
    """Swap the whole directory in the caller's transaction: on any error the
    caller's rollback leaves the previous directory untouched."""
    session.execute(delete(ContactRow))
    session.execute(delete(OrganisationRow))
    session.add(DirectoryImportRow(imported_at=datetime.now(UTC)))
    if directory.organisations:
        session.execute(
            insert(OrganisationRow), [org.model_dump() for org in directory.organisations]
        )
    if directory.contacts:
        session.execute(
            insert(ContactRow), [contact.model_dump() for contact in directory.contacts]
        )


def organisations(session: Session) -> list[Organisation]:
    rows = session.exec(select(OrganisationRow).order_by(col(OrganisationRow.id))).all()
    return [_organisation(row) for row in rows]


def contacts(session: Session, role: ContactRole | None = None) -> list[Contact]:
    query = select(ContactRow).order_by(col(ContactRow.id))
    if role is not None:
        query = query.where(ContactRow.role == role.value)
    return [_contact(row) for row in session.exec(query).all()]


def read_directory(session: Session) -> Directory:
    return Directory(organisations=organisations(session), contacts=contacts(session))


def directory_summary(directory: Directory) -> str:
    """``3664 ccas, 408 cias, … ; 4722 contacts`` for the people who imported it."""
    kinds = Counter(organisation.kind.value for organisation in directory.organisations)
    listed = ", ".join(f"{kinds[kind.value]} {kind.value}" for kind in OrganisationKind)
    return f"{listed} ; {len(directory.contacts)} contacts"


def is_empty(session: Session) -> bool:
    return session.exec(select(OrganisationRow.id).limit(1)).first() is None


def _organisation(row: OrganisationRow) -> Organisation:
    """Rows were validated on import: rebuilt without validating them again."""
    return Organisation.model_construct(**{**row.model_dump(), "kind": OrganisationKind(row.kind)})


def _contact(row: ContactRow) -> Contact:
    return Contact.model_construct(**{**row.model_dump(), "role": ContactRole(row.role)})


def contact(session: Session, contact_id: str) -> Contact | None:
    row = session.get(ContactRow, contact_id)
    return _contact(row) if row else None


def roster(session: Session) -> list[Contact]:
    """The on-call roster of representatives, by rank."""
    query = (
        select(ContactRow)
        .where(col(ContactRow.roster_rank).is_not(None))
        .order_by(col(ContactRow.roster_rank), col(ContactRow.id))
    )
    return [_contact(row) for row in session.exec(query).all()]


def organisations_of_kind(
    session: Session, kind: OrganisationKind, department_codes: list[str] | None = None
) -> list[Organisation]:
    query = select(OrganisationRow).where(OrganisationRow.kind == kind.value)
    if department_codes is not None:
        query = query.where(col(OrganisationRow.department_code).in_(department_codes))
    rows = session.exec(query.order_by(col(OrganisationRow.id))).all()
    return [_organisation(row) for row in rows]


def contacts_of(session: Session, organisation_ids: list[str]) -> list[Contact]:
    query = select(ContactRow).where(col(ContactRow.organisation_id).in_(organisation_ids))
    return [_contact(row) for row in session.exec(query.order_by(col(ContactRow.id))).all()]


def organisation(session: Session, organisation_id: str) -> Organisation | None:
    row = session.get(OrganisationRow, organisation_id)
    if row is None:
        return None
    return _organisation(row)


def centres_of(
    session: Session, insee_codes: set[str], epci_sirens: set[str]
) -> list[Organisation]:
    """The CCAS of these communes and the CIAS of these EPCI."""
    query = select(OrganisationRow).where(
        (
            (col(OrganisationRow.kind) == OrganisationKind.CCAS.value)
            & col(OrganisationRow.insee_code).in_(sorted(insee_codes))
        )
        | (
            (col(OrganisationRow.kind) == OrganisationKind.CIAS.value)
            & col(OrganisationRow.epci_siren).in_(sorted(epci_sirens))
        )
    )
    return [_organisation(row) for row in session.exec(query.order_by(col(OrganisationRow.id)))]


def unknown_ids(session: Session, ids: list[str]) -> list[str]:
    """Those of ``ids`` that name neither a contact nor an organisation."""
    return [
        key
        for key in dict.fromkeys(ids)
        if session.get(ContactRow, key) is None and session.get(OrganisationRow, key) is None
    ]
