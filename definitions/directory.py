"""The crisis directory (annuaire de crise): organisations of the network and the
State, and the people to reach in each."""

from enum import StrEnum

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from definitions.contact_points import checked_email
from definitions.phone_numbers import METROPOLITAN, to_e164

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"


class OrganisationKind(StrEnum):
    UNCCAS = "unccas"
    DIAV = "diav"
    PREFECTURE = "prefecture"
    UD = "ud"
    DEPARTEMENT = "departement"
    """The conseil départemental, which coordinates its CCAS with the UD (Nord)."""
    CCAS = "ccas"
    CIAS = "cias"


class ContactRole(StrEnum):
    DIRECTOR = "director"
    DEPUTY = "deputy"
    PRESIDENT = "president"
    OFFICER = "officer"
    REPRESENTATIVE = "representative"
    ON_CALL_STAFF = "on_call_staff"


def _blank_to_none(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


PHONE_REGION = "phone_region"
"""Validation context key: the numbering region a national phone number is read in
(the organisation's department's, see definitions.phone_numbers)."""


class _ContactPoints(BaseModel):
    """Phone in E.164 and a checked email; an empty cell means none."""

    phone: str | None = None
    email: str | None = None

    @field_validator("phone", "email", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return _blank_to_none(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        context = info.context if isinstance(info.context, dict) else {}
        return to_e164(value, context.get(PHONE_REGION, METROPOLITAN)) if value else None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return checked_email(value) if value else None


class Organisation(_ContactPoints):
    """A CCAS has the INSEE code of its commune; a CIAS the SIREN of its EPCI;
    a UD and a prefecture the code of their department."""

    id: str = Field(pattern=ID_PATTERN)
    kind: OrganisationKind
    name: str = Field(min_length=1, max_length=200)
    insee_code: str | None = None
    epci_siren: str | None = None
    department_code: str | None = None

    @field_validator("insee_code", "epci_siren", "department_code", mode="before")
    @classmethod
    def _optional_code(cls, value: object) -> object:
        value = _blank_to_none(value)
        return value.upper() if isinstance(value, str) else value


class Contact(_ContactPoints):
    id: str = Field(pattern=ID_PATTERN)
    organisation_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    role: ContactRole
    roster_rank: int | None = Field(default=None, ge=1)

    @field_validator("roster_rank", mode="before")
    @classmethod
    def _optional_rank(cls, value: object) -> object:
        return _blank_to_none(value)


class Directory(BaseModel):
    organisations: list[Organisation]
    contacts: list[Contact]
