"""Who may use the console and the API, and what each role reaches. CCAS/CIAS
directors have no account: their signed links are their only door. A departmental
union (UD) has one, bound to its department."""

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 256
DEPARTMENT_PATTERN = r"^(\d{2}|2A|2B|97\d)$"
Password = Annotated[str, Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)]


class Role(StrEnum):
    STAFF = "staff"
    """On-call staff of UNCCAS: every event, every action."""
    REPRESENTATIVE = "representative"
    """A representative: the events they were designated for, read and follow."""
    UD = "ud"
    """A departmental union: declares and follows the events of its department only."""

    @property
    def label(self) -> str:
        return {
            Role.STAFF: "permanence UNCCAS",
            Role.REPRESENTATIVE: "représentant",
            Role.UD: "union départementale",
        }[self]


class AccountRequest(BaseModel):
    """A new account, as ``tocsin user create`` takes it."""

    login: str = Field(pattern=LOGIN_PATTERN.pattern)
    name: str = Field(min_length=1, max_length=200)
    role: Role
    contact_id: str | None = Field(
        default=None, max_length=64, description="the directory contact a representative is"
    )
    department: str | None = Field(
        default=None, pattern=DEPARTMENT_PATTERN, description="the department of a UD account"
    )
    password: Password

    @model_validator(mode="after")
    def _representative_is_a_contact(self) -> "AccountRequest":
        if self.role is Role.REPRESENTATIVE and not self.contact_id:
            raise ValueError("un compte de représentant doit nommer son contact de l'annuaire")
        return self

    @model_validator(mode="after")
    def _ud_has_its_department(self) -> "AccountRequest":
        if (self.role is Role.UD) != (self.department is not None):
            raise ValueError("un compte d'union départementale, et lui seul, nomme son département")
        return self


class Account(BaseModel):
    """Someone signed in, by a session or an API token."""

    id: int
    login: str
    name: str
    role: Role
    contact_id: str | None = None
    department: str | None = None
    """Set for a UD account: the only department it reaches."""


class ApiTokenInfo(BaseModel):
    id: int
    login: str
    name: str
    created_at: datetime
    revoked_at: datetime | None = None
