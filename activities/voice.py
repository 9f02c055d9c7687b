"""Placing calls through Twilio Voice, each call once.

As for SMS, the outbox row is written before the provider is called. A retry
that finds the row left ``sending`` (the worker died, or the answer was lost)
asks the provider which calls went to that number since the row was written,
and only places the call again when there is none: being woken twice at night
for one question is worse than a duplicate SMS.

Each activity places one call, so the calls queue's server-side rate limit
(``TOCSIN_CALLS_PER_SECOND``, held by Temporal across every worker) spaces the
calls themselves.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import requests
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from activities.outbox_ledger import OutboxLedger, earlier_outcome, permanent_failure
from definitions.outgoing import Channel, OutboxStatus, SendResult
from definitions.privacy import mask_phone_numbers
from definitions.temporal_names import PLACE_CALL
from definitions.voice_calls import VOICE_STATUS_WEBHOOK, CallRequest, twiml_url
from store.database import Store
from store.outbox import OutboxClaim

log = structlog.get_logger(__name__)

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
RING_SECONDS = 30
LOOKUP_PAGE = 20


@dataclass(frozen=True)
class VoiceSettings:
    """What the caller needs of the settings, nothing more."""

    account_sid: str
    auth_token: str
    sender: str
    public_url: str
    base_url: str = ""
    timeout_seconds: float = 10.0


class VoiceActivities:
    def __init__(self, store: Store, voice: VoiceSettings) -> None:
        self._ledger = OutboxLedger(store, Channel.VOICE)
        self._voice = voice
        self._local = threading.local()

    def _client(self) -> Client:
        """One Twilio client per activity thread: requests sessions are not shared."""
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            client = Client(
                self._voice.account_sid,
                self._voice.auth_token,
                http_client=TwilioHttpClient(timeout=self._voice.timeout_seconds),
            )
            if self._voice.base_url:
                client.api.base_url = self._voice.base_url
            self._local.client = client
        return client

    @activity.defn(name=PLACE_CALL)
    def place_call(self, request: CallRequest) -> SendResult:
        try:
            return self._place_once(request)
        finally:
            self._ledger.write_noted()

    def _place_once(self, request: CallRequest) -> SendResult:
        claim = OutboxClaim(
            key=request.key,
            event_id=request.event_id,
            channel=Channel.VOICE,
            step=request.step,
            recipient=request.to,
            body=request.speech,
        )
        entry = self._ledger.claim_all([claim])[request.key]
        if (earlier := earlier_outcome(entry, "Appel")) is not None:
            return earlier
        if entry.status is OutboxStatus.SENDING:
            calls = self._client().calls.list(
                to=request.to, start_time_after=entry.created_at, limit=LOOKUP_PAGE
            )
            if calls:
                sid = str(calls[0].sid)
                log.info("call.reconciled", step=request.step, sid=sid)
                return self._record(request, sid)
        self._ledger.mark(request.key, OutboxStatus.SENDING)
        self._ledger.write_noted()
        try:
            sid = self._place(request)
        except TwilioRestException as error:
            self._refused(request, error)
        except requests.RequestException:
            log.warning("call.outcome_unknown", step=request.step)
            raise
        log.info("call.placed", step=request.step, to=mask_phone_numbers(request.to), sid=sid)
        return self._record(request, sid)

    def _place(self, request: CallRequest) -> str:
        voice = self._voice
        call = self._client().calls.create(
            to=request.to,
            from_=voice.sender,
            url=twiml_url(voice.public_url, request.key, request.code),
            method="POST",
            status_callback=voice.public_url.rstrip("/") + VOICE_STATUS_WEBHOOK,
            status_callback_event=STATUS_EVENTS,
            status_callback_method="POST",
            machine_detection="DetectMessageEnd",
            timeout=RING_SECONDS,
        )
        return str(call.sid)

    def _record(self, request: CallRequest, sid: str) -> SendResult:
        self._ledger.note(request.key, OutboxStatus.QUEUED, provider_id=sid)
        return SendResult(key=request.key, status=OutboxStatus.QUEUED, provider_id=sid)

    def _refused(self, request: CallRequest, error: TwilioRestException) -> NoReturn:
        """429 and 5xx are retried by Temporal; any other refusal is permanent."""
        code = str(error.code or error.status)
        if error.status == 429 or error.status >= 500:
            self._ledger.note(request.key, OutboxStatus.PENDING)
            log.warning("call.provider_busy", step=request.step, status=error.status, code=code)
            raise ApplicationError(f"fournisseur d'appels indisponible ({error.status})", code)
        self._ledger.note(request.key, OutboxStatus.FAILED, error_code=code)
        log.warning("call.refused", step=request.step, code=code)
        permanent_failure("Appel", code)

    @property
    def all(self) -> list[Callable[..., object]]:
        return [self.place_call]
