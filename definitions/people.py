"""The people and mailboxes a workflow writes to, as it holds them in its state."""

from pydantic import BaseModel, Field

from definitions.local_time import PARIS_ZONE


class Person(BaseModel):
    """A contact of the directory, or an organisation's own mailbox (then its id is
    the organisation's). ``sms_opted_out`` people, and those whose phone is a fixed
    line, are written to by email only. ``time_zone`` is their organisation's, in
    which every moment written to them is given."""

    contact_id: str
    name: str
    organisation_id: str
    organisation_name: str = ""
    phone: str | None = None
    email: str | None = None
    sms_opted_out: bool = False
    fixed_line: bool = False
    time_zone: str = PARIS_ZONE

    @property
    def reachable_by_sms(self) -> bool:
        return self.phone is not None and not self.sms_opted_out and not self.fixed_line


class StateRecipients(BaseModel):
    """Who learns the representative's identity, per the protocol's recipients."""

    diav: list[Person] = Field(default_factory=list)
    prefectures: list[Person] = Field(default_factory=list)
    uds: list[Person] = Field(default_factory=list)
    departements: list[Person] = Field(default_factory=list)
