"""Opening and closing the codes people quote when they answer by SMS."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from temporalio import activity

from definitions.answer_links import (
    ANSWER_LINK_VALIDITY,
    AnswerLink,
    AnswerLinkClaim,
    answer_url,
    sign_link,
)
from definitions.awaited_replies import ReplyCodeClosure, ReplyCodeRequest
from definitions.temporal_names import CLOSE_REPLY_CODES, OPEN_ANSWER_LINKS, OPEN_REPLY_CODES
from store import reply_codes
from store.database import Store

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class AnswerLinkSettings:
    secret: str
    public_url: str


class ReplyCodeActivities:
    def __init__(self, store: Store, links: AnswerLinkSettings) -> None:
        self._store = store
        self._links = links

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

    @activity.defn(name=OPEN_ANSWER_LINKS)
    def open_answer_links(self, request: ReplyCodeRequest) -> dict[str, AnswerLink]:
        """Task key → code and signed web link, for tasks also answered on the web."""
        codes = self.open_reply_codes(request)
        expires_at = datetime.now(UTC) + ANSWER_LINK_VALIDITY
        if request.links_valid_until is not None:
            expires_at = max(expires_at, request.links_valid_until)
        links = self._links
        return {
            task_key: AnswerLink(
                code=code,
                url=answer_url(
                    links.public_url,
                    sign_link(
                        links.secret,
                        AnswerLinkClaim(
                            workflow_id=request.workflow_id,
                            task_key=task_key,
                            code=code,
                            expires_at=expires_at,
                        ),
                    ),
                ),
            )
            for task_key, code in codes.items()
        }

    @activity.defn(name=CLOSE_REPLY_CODES)
    def close_reply_codes(self, closure: ReplyCodeClosure) -> None:
        with self._store.session() as session:
            closed = reply_codes.close_codes(session, closure, datetime.now(UTC))
            session.commit()
        log.info("reply_codes.closed", rows=closed)

    @property
    def all(self) -> list[Callable[..., object]]:
        return [self.open_reply_codes, self.open_answer_links, self.close_reply_codes]
