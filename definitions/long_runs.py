"""What a workflow that lives for weeks or months carries, as it is, to the run it
continues as new: the state every such workflow has, which each extends with its own."""

from typing import Self

from pydantic import BaseModel, Field

from definitions.crisis_log import CrisisLogSequence


class SeenMessages(BaseModel):
    """The provider's ids of the replies taken, the last ``kept`` of them: Twilio
    retries a webhook it believes failed, and an answer must count once."""

    kept: int
    sids: list[str] = Field(default_factory=list)

    def first_time(self, message_sid: str) -> bool:
        if message_sid in self.sids:
            return False
        self.sids = [*self.sids[-self.kept :], message_sid]
        return True


class LongRunState(BaseModel):
    generation: int = Field(default=0, description="runs continued as new before this one")
    seen: SeenMessages
    log: CrisisLogSequence = Field(default_factory=CrisisLogSequence)
    stopped: bool = False

    def next_generation(self) -> Self:
        """This state as the next run receives it."""
        return self.model_copy(update={"generation": self.generation + 1})
