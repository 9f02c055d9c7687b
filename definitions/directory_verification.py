"""Directory verification campaigns: each organisation's contacts are asked to
confirm their line (``OK 1234`` by SMS, or the signed self-service page), reminded
once, and those who stay silent are listed to their UD. The campaign's state is
in the store (who confirmed, when); the workflow holds only the plan."""

import re
from datetime import datetime, timedelta
from enum import IntEnum

from pydantic import BaseModel, Field, computed_field

from definitions.answer_links import ExpiringClaim
from definitions.directory import OrganisationKind
from definitions.outgoing import EmailRequest, SmsRequest

VERIFIED_KINDS = (
    OrganisationKind.CCAS,
    OrganisationKind.CIAS,
    OrganisationKind.UD,
    OrganisationKind.PREFECTURE,
)
REMINDER_AFTER = timedelta(days=7)
SILENT_AFTER = timedelta(days=14)
LINK_VALIDITY = timedelta(days=30)
FRESH_WITHIN = timedelta(days=183)
"""An organisation confirmed within six months counts as fresh."""
VERIFICATION_BATCH = 20
"""Organisations per sending activity: its task queue's rate counts activities, and
a national campaign (about 4,500 organisations) stays at some 230 batches a round."""
VERIFICATION_SHARE = 0.1
"""The share of the provider's SMS rate a campaign may take."""
LIVE_EVENT_CHECK = timedelta(minutes=10)
DIRECTORY_PATH = "/annuaire/"
VERIFICATION_STEP = "directory_verification"
REMINDER_STEP = "directory_verification_reminder"
SILENT_STEP = "directory_verification_silent"


CAMPAIGN_ID_MAX = 64


def verification_workflow_id(campaign_id: str) -> str:
    return f"verification-{campaign_id}"


def campaign_of(workflow_id: str) -> str:
    """A scheduled campaign's id, from the id Temporal gives its run
    (``verification-trimestrielle-2027-01-01T09:00:00Z``)."""
    name = workflow_id.removeprefix("verification-").lower()
    return re.sub(r"[^a-z0-9\-]", "", name)[:CAMPAIGN_ID_MAX]


class VerificationStart(BaseModel):
    campaign_id: str = Field(
        default="",
        pattern=r"^([a-z0-9][a-z0-9\-]{0,63})?$",
        description="empty for a scheduled run: named after its workflow id",
    )
    departments: list[str] = Field(default_factory=list, description="none: all of France")
    kinds: list[OrganisationKind] = Field(default_factory=lambda: list(VERIFIED_KINDS))
    reminder_after: timedelta = REMINDER_AFTER
    silent_after: timedelta = SILENT_AFTER
    started_by: str = Field(default="", max_length=100)
    resume: "VerificationResume | None" = Field(
        default=None, description="where a run continued as new takes up"
    )


class VerificationPlan(BaseModel):
    """The organisations asked, by id, in a stable order."""

    organisations: list[str]
    links_valid_until: datetime
    directory_imported_at: datetime | None = None


class VerificationBatch(BaseModel):
    campaign_id: str
    organisations: list[str]
    reminder: bool = False
    links_valid_until: datetime


class VerificationMessages(BaseModel):
    """What one batch sends; organisations that confirmed meanwhile get nothing."""

    sms: list[SmsRequest] = Field(default_factory=list)
    emails: list[EmailRequest] = Field(default_factory=list)
    directory_imported_at: datetime | None = None


class VerificationAnswer(BaseModel):
    campaign_id: str
    organisation_id: str
    contact_id: str
    at: datetime


class VerificationStage(IntEnum):
    ASKING = 0
    AWAITING = 1
    REMINDING = 2
    AWAITING_LAST = 3
    REPORTING = 4


class VerificationProgress(BaseModel):
    campaign_id: str
    organisations: int = 0
    batches_sent: int = 0
    reminders_sent: int = 0
    confirmed_by_sms: int = 0
    paused: bool = False
    """Sending waits while a real event is mobilising."""
    silent: int | None = None
    finished: bool = False
    directory_reimported: bool = False
    """The directory was imported again during the campaign: later batches and the
    reminder went to the new contacts."""


class VerificationResume(BaseModel):
    """A campaign's whole state, handed to the run that continues it as new."""

    plan: VerificationPlan
    begun: datetime
    stage: VerificationStage = VerificationStage.ASKING
    next_offset: int = 0
    progress: VerificationProgress
    seen: list[str] = Field(default_factory=list)


class SilentReport(BaseModel):
    """The organisations that never answered, by department, each emailed to its UD."""

    silent: int
    departments_told: list[str]


class DirectoryLinkClaim(ExpiringClaim):
    """The self-service page of one organisation, for the length of a campaign."""

    organisation_id: str
    campaign_id: str
    issued_at: datetime | None = None
    """A link issued before the directory's last import answers 410."""


class OrganisationFreshness(BaseModel):
    organisation_id: str
    name: str
    kind: OrganisationKind
    department: str | None
    confirmed_at: datetime | None
    failing_since: datetime | None = None


class UnansweredOrganisation(BaseModel):
    organisation_id: str
    name: str
    kind: OrganisationKind
    asked_at: datetime
    reminded_at: datetime | None = None


class CampaignAnswers(BaseModel):
    """A department in the latest campaign that asked its organisations (the one
    running, if any): how many it asked, and those that have not answered yet."""

    campaign_id: str
    asked: int
    unanswered: list[UnansweredOrganisation]


class DepartmentFreshness(BaseModel):
    department: str
    organisations: int
    fresh: int
    stale: list[OrganisationFreshness]
    campaign: CampaignAnswers | None = None
    """None while no campaign has asked the department's organisations."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def share(self) -> float:
        """Of the department's organisations, those confirmed within six months."""
        return self.fresh / self.organisations if self.organisations else 1.0


class DigestOutcome(BaseModel):
    """The day's corrections told: how many, in how many emails."""

    changes: int = 0
    emails: int = 0


VerificationStart.model_rebuild()
