"""What workflows that live for hours or months share: telling a replayed SMS from a
new one, and knowing when to continue as new."""

from temporalio import workflow


class SeenMessages:
    """The provider's ids of the replies taken, the last ``kept`` of them: Twilio
    retries a webhook it believes failed, and an answer must count once."""

    def __init__(self, kept: int, sids: list[str] | None = None) -> None:
        self._kept = kept
        self.sids = sids or []

    def first_time(self, message_sid: str) -> bool:
        if message_sid in self.sids:
            return False
        self.sids = [*self.sids[-self._kept :], message_sid]
        return True


def history_is_long(limit: int) -> bool:
    """Temporal suggests continuing as new, or the run has passed ``limit`` events."""
    info = workflow.info()
    return info.is_continue_as_new_suggested() or info.get_current_history_length() > limit
