"""The outbox as a sending activity uses it: claim the message's row before the
provider call, mark it after, and give up for good on a permanent refusal."""

import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import NoReturn, Protocol, TypeVar

from temporalio.exceptions import ApplicationError

from definitions.outgoing import (
    PERMANENT_DELIVERY_ERROR,
    BatchItemResult,
    Channel,
    OutboxEntry,
    OutboxStatus,
    SendResult,
)
from store import inbound, outbox
from store.database import Store

OPTED_OUT = "opted_out"


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


Request = TypeVar("Request", bound=_Keyed)


def permanent_failure(what: str, code: str) -> NoReturn:
    """Non-retryable, with the provider's code: the workflow tries the other channel."""
    raise ApplicationError(
        f"{what} refusé par le fournisseur (code {code})",
        code,
        type=PERMANENT_DELIVERY_ERROR,
        non_retryable=True,
    )


def earlier_outcome(entry: OutboxEntry, what: str) -> SendResult | None:
    """The earlier result when the message already left: it must not leave twice.
    A message refused for good earlier is refused again, with the same code."""
    if entry.status.left and entry.provider_id:
        return SendResult(key=entry.key, status=entry.status, provider_id=entry.provider_id)
    if entry.status is OutboxStatus.FAILED:
        permanent_failure(what, entry.error_code or "?")
    return None


def _refused(key: str, error: ApplicationError) -> BatchItemResult:
    """A permanent refusal becomes the item's result; anything else stops the batch,
    which Temporal retries: the messages already sent are then skipped."""
    if error.type != PERMANENT_DELIVERY_ERROR:
        raise error
    return BatchItemResult(key=key, refused=str(error.details[0]) if error.details else "?")


def send_each(
    requests: Sequence[Request],
    send: Callable[[Request], SendResult],
    progress: Callable[[int], None],
) -> list[BatchItemResult]:
    results = []
    for done, request in enumerate(requests, start=1):
        try:
            results.append(BatchItemResult(key=request.key, result=send(request)))
        except ApplicationError as error:
            results.append(_refused(request.key, error))
        progress(done)
    return results


async def send_each_async(
    requests: Sequence[Request],
    send: Callable[[Request], Awaitable[SendResult]],
    progress: Callable[[int], None],
) -> list[BatchItemResult]:
    results = []
    for done, request in enumerate(requests, start=1):
        try:
            results.append(BatchItemResult(key=request.key, result=await send(request)))
        except ApplicationError as error:
            results.append(_refused(request.key, error))
        progress(done)
    return results


@dataclass(frozen=True)
class MessageClaim:
    key: str
    event_id: str
    channel: Channel
    step: str
    recipient: str
    body: str
    subject: str | None = None


class OutboxLedger:
    """Writes are serialised within the process: SQLite takes one writer at a time,
    and threads queueing on a Python lock wake sooner than on SQLite's busy sleeps."""

    _writing = threading.Lock()

    def __init__(self, store: Store) -> None:
        self._store = store

    def claim_all(self, claims: Sequence[MessageClaim]) -> list[OutboxEntry]:
        """The rows of these messages, in one transaction (one commit for a whole
        batch), each as it stood before: a pending message is marked ``sending``
        from here on, since the provider may be called at any moment (one left
        ``sending`` earlier is for the sender to reconcile); an SMS to a number
        that answered STOP fails at once."""
        now = datetime.now(UTC)
        entries = []
        with self._writing, self._store.session() as session:
            for claim in claims:
                entry = outbox.claim(session, **asdict(claim), now=now)
                if entry.status is not OutboxStatus.PENDING:
                    pass
                elif claim.channel is Channel.SMS and inbound.has_opted_out(
                    session, claim.recipient
                ):
                    entry = outbox.mark(
                        session, claim.key, OutboxStatus.FAILED, now, error_code=OPTED_OUT
                    )
                else:
                    outbox.mark(session, claim.key, OutboxStatus.SENDING, now)
                entries.append(entry)
            session.commit()
        return entries

    def mark(self, key: str, status: OutboxStatus, **fields: str | None) -> None:
        with self._writing, self._store.session() as session:
            outbox.mark(session, key, status, datetime.now(UTC), **fields)
            session.commit()
