"""Opening and closing the codes people quote when they answer by SMS."""

from datetime import UTC, datetime

import structlog
from temporalio import activity

from definitions.awaited_replies import ReplyCodeClosure, ReplyCodeRequest
from definitions.temporal_names import CLOSE_REPLY_CODES, OPEN_REPLY_CODES
from store import reply_codes
from store.database import Store

log = structlog.get_logger(__name__)


class ReplyCodeActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name=OPEN_REPLY_CODES)
    def open_reply_codes(self, request: ReplyCodeRequest) -> dict[str, str]:
        """Task key → code; the same codes again when retried."""
        with self._store.session() as session:
            codes = reply_codes.open_codes(
                session, request.workflow_id, request.event_id, request.tasks, datetime.now(UTC)
            )
            session.commit()
        log.info("reply_codes.opened", tasks=len(codes))
        return codes

    @activity.defn(name=CLOSE_REPLY_CODES)
    def close_reply_codes(self, closure: ReplyCodeClosure) -> None:
        with self._store.session() as session:
            closed = reply_codes.close_codes(session, closure, datetime.now(UTC))
            session.commit()
        log.info("reply_codes.closed", rows=closed)

    @property
    def all(self) -> list[object]:
        return [self.open_reply_codes, self.close_reply_codes]
