"""The guide of good practice diffused to the network (convention State–UNCCAS,
art. 3): numbered, dated editions of one event type's guide, emailed as a PDF to
every CCAS/CIAS director and UD of the directory, or of one department."""

from datetime import datetime

from pydantic import BaseModel, Field

from definitions.event_type import EventType

GUIDE_BATCH_SIZE = 100
"""Recipients per sending activity: one SMTP connection each."""


class GuideEdition(BaseModel):
    """An edition is made when the guide's content changed since the last one: the
    same content published again is the same edition, sent to whoever lacks it."""

    event_type: EventType
    number: int = Field(ge=1)
    published_at: datetime
    events: int
    """How many reviewed events the edition gathers."""


class GuideDiffusionStart(BaseModel):
    event_type: EventType
    department: str | None = None
    """None: the whole directory."""


class GuideBatch(BaseModel):
    """The recipients whose ids run from ``first`` up to ``until`` (excluded; None:
    to the end), whatever the directory became since the preparation."""

    edition: GuideEdition
    department: str | None
    first: str
    until: str | None


class PreparedEdition(BaseModel):
    edition: GuideEdition
    recipients: int
    firsts: list[str] = Field(default_factory=list)
    """The first recipient id of each batch, taken at preparation: a batch is a
    range of ids, not a position in a list that an import may shift meanwhile."""

    def batches(self, department: str | None) -> list[tuple[GuideBatch, int]]:
        """Each batch, with how many recipients it had at preparation."""
        ends: list[str | None] = [*self.firsts[1:], None]
        return [
            (
                GuideBatch(edition=self.edition, department=department, first=first, until=until),
                min(GUIDE_BATCH_SIZE, self.recipients - index * GUIDE_BATCH_SIZE),
            )
            for index, (first, until) in enumerate(zip(self.firsts, ends, strict=True))
        ]


class GuideBatchOutcome(BaseModel):
    sent: int = 0
    already_sent: int = 0
    failed: int = 0


class GuideDiffusionProgress(BaseModel):
    edition: GuideEdition | None = None
    recipients: int = 0
    done: int = 0
    """Recipients handled so far, whatever became of each."""
    sent: int = 0
    already_sent: int = 0
    failed: int = 0
    finished: bool = False

    def add(self, outcome: GuideBatchOutcome, handled: int) -> None:
        self.done += handled
        self.sent += outcome.sent
        self.already_sent += outcome.already_sent
        self.failed += outcome.failed


def edition_key(edition: GuideEdition) -> str:
    """The outbox's event id of an edition's emails (64 characters at most)."""
    return f"guide-{edition.event_type.value}-{edition.number}"


def guide_diffusion_workflow_id(event_type: EventType, department: str | None) -> str:
    return f"guide-diffusion-{event_type.value}-{department or 'france'}"
