"""The people and mailboxes a workflow writes to, as it holds them in its state."""

from pydantic import BaseModel, Field


class Person(BaseModel):
    """A contact of the directory, or an organisation's own mailbox (then its id is
    the organisation's). ``sms_opted_out`` people, and those whose phone is a fixed
    line, are written to by email only."""

    contact_id: str
    name: str
    organisation_id: str
    organisation_name: str = ""
    phone: str | None = None
    email: str | None = None
    sms_opted_out: bool = False
    fixed_line: bool = False

    @property
    def reachable_by_sms(self) -> bool:
        return self.phone is not None and not self.sms_opted_out and not self.fixed_line


class StateRecipients(BaseModel):
    """Who learns the representative's identity, per the protocol's recipients."""

    diav: list[Person] = Field(default_factory=list)
    prefectures: list[Person] = Field(default_factory=list)
    uds: list[Person] = Field(default_factory=list)
