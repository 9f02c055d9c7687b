"""Sending SMS through Twilio, each message once.

The outbox row is written before the provider call and updated after it. When a
retry finds a row left ``sending`` (the worker died, or the provider's answer
was lost in a timeout), it first asks the provider which messages already went
to that number, and only sends again when none matches: a duplicate is then
the rare exception, and it is counted. It is only possible, and reported, when
the number received more messages in the window than the look-up reads.
"""

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

import requests
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from activities.outbox_ledger import (
    OutboxLedger,
    earlier_outcome,
    heartbeating,
    permanent_failure,
    send_each,
)
from activities.sending_pace import SendingPace
from definitions.outgoing import (
    BatchItemResult,
    Channel,
    OutboxEntry,
    OutboxStatus,
    SendResult,
    SmsRequest,
    provider_status,
)
from definitions.privacy import mask_phone_numbers
from definitions.temporal_names import SEND_SMS, SEND_SMS_BATCH
from store.database import Store
from store.outbox import OutboxClaim

log = structlog.get_logger(__name__)

RECONCILE_WINDOW = timedelta(hours=1)
LOOKUP_PAGE = 50


@dataclass(frozen=True)
class TwilioSettings:
    """What the SMS sender needs of the settings, nothing more."""

    account_sid: str
    auth_token: str
    sender: str = ""
    messaging_service_sid: str = ""
    base_url: str = ""
    status_callback: str = ""
    timeout_seconds: float = 10.0


def _claim(request: SmsRequest) -> OutboxClaim:
    return OutboxClaim(
        key=request.key,
        event_id=request.event_id,
        channel=Channel.SMS,
        step=request.step,
        recipient=request.to,
        body=request.body,
    )


class SmsActivities:
    def __init__(self, store: Store, twilio: TwilioSettings, per_second: float) -> None:
        self._ledger = OutboxLedger(store, Channel.SMS)
        self._twilio = twilio
        self._local = threading.local()
        self._pace = SendingPace(store, Channel.SMS, per_second)

    def _client(self) -> Client:
        """One Twilio client per activity thread: requests sessions are not shared."""
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            client = Client(
                self._twilio.account_sid,
                self._twilio.auth_token,
                http_client=TwilioHttpClient(timeout=self._twilio.timeout_seconds),
            )
            if self._twilio.base_url:
                client.api.base_url = self._twilio.base_url
            self._local.client = client
        return client

    def _already_sent(self, request: SmsRequest, since: datetime) -> tuple[str | None, bool]:
        """The sid of a message to this number with this body sent since ``since``,
        and whether the look-up read every message to the number since then (if
        not, one it did not read may be this one)."""
        messages = self._client().messages.list(
            to=request.to, date_sent_after=since, page_size=LOOKUP_PAGE, limit=LOOKUP_PAGE
        )
        for message in messages:
            if message.body == request.body:
                return str(message.sid), True
        return None, len(messages) < LOOKUP_PAGE

    def _send(self, request: SmsRequest) -> tuple[str, str]:
        twilio = self._twilio
        options: dict[str, str] = {"to": request.to, "body": request.body}
        if twilio.messaging_service_sid:
            options["messaging_service_sid"] = twilio.messaging_service_sid
        else:
            options["from_"] = twilio.sender
        if twilio.status_callback:
            options["status_callback"] = twilio.status_callback
        message = self._client().messages.create(**options)
        return str(message.sid), str(message.status)

    @activity.defn(name=SEND_SMS)
    def send_sms(self, request: SmsRequest) -> SendResult:
        try:
            return self._send_once(request)
        finally:
            self._ledger.write_noted()

    @activity.defn(name=SEND_SMS_BATCH)
    def send_sms_batch(self, requests: list[SmsRequest]) -> list[BatchItemResult]:
        """Each SMS once, at the provider's pace; a retry skips those already sent.
        The batch loop is the email sender's, run on an event loop of this thread
        alone: each SMS leaves from this thread, with its Twilio client, and may
        hold that loop while it does."""
        with heartbeating():
            claimed = self._ledger.claim_all([_claim(request) for request in requests])

            async def send(request: SmsRequest) -> SendResult:
                return self._send_claimed(request, claimed[request.key])

            return asyncio.run(send_each(requests, send, self._ledger))

    def _send_once(self, request: SmsRequest) -> SendResult:
        claimed = self._ledger.claim_all([_claim(request)])
        return self._send_claimed(request, claimed[request.key])

    def _send_claimed(self, request: SmsRequest, entry: OutboxEntry) -> SendResult:
        if (earlier := earlier_outcome(entry, "SMS")) is not None:
            return earlier
        unsure = entry.status is OutboxStatus.SENDING
        maybe_sent = False
        if unsure:
            found, read_all = self._already_sent(request, entry.created_at - RECONCILE_WINDOW)
            maybe_sent = not read_all
            if found is not None:
                log.info("sms.reconciled", step=request.step, sid=found)
                return self._record(request, OutboxStatus.QUEUED, found)
            self._ledger.mark(request.key, OutboxStatus.SENDING, possible_duplicate=maybe_sent)
        self._pace.wait_turn()
        try:
            sid, status = self._send(request)
        except TwilioRestException as error:
            self._refused(request, error)
        except requests.RequestException:
            log.warning("sms.outcome_unknown", step=request.step)
            raise
        if maybe_sent:
            log.warning("sms.possible_duplicate", step=request.step, sid=sid)
        result = self._record(request, provider_status(status) or OutboxStatus.QUEUED, sid)
        log.info("sms.sent", step=request.step, to=mask_phone_numbers(request.to), sid=sid)
        return result.model_copy(update={"duplicate_suspected": unsure})

    def _record(self, request: SmsRequest, status: OutboxStatus, sid: str) -> SendResult:
        self._ledger.note(request.key, status, provider_id=sid)
        return SendResult(key=request.key, status=status, provider_id=sid)

    def _refused(self, request: SmsRequest, error: TwilioRestException) -> NoReturn:
        """429 and 5xx are retried by Temporal; any other refusal is permanent."""
        code = str(error.code or error.status)
        if error.status == 429 or error.status >= 500:
            self._ledger.note(request.key, OutboxStatus.PENDING)
            log.warning("sms.provider_busy", step=request.step, status=error.status, code=code)
            raise ApplicationError(f"fournisseur SMS indisponible ({error.status})", code)
        self._ledger.note(request.key, OutboxStatus.FAILED, error_code=code)
        log.warning("sms.refused", step=request.step, code=code)
        permanent_failure("SMS", code)

    @property
    def all(self) -> list[Callable[..., object]]:
        return [self.send_sms, self.send_sms_batch]
