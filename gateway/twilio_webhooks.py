"""Twilio's webhooks: inbound SMS and delivery callbacks.

Every request must carry a valid ``X-Twilio-Signature`` computed on the public
URL Twilio called; anything else gets 403 and changes nothing. Inbound SMS are
kept once per MessageSid, so a replayed webhook is answered with silence; a
reply to a waiting task reaches its workflow as a signal, which Temporal accepts
even while no worker runs. A bounced SMS that awaited an answer is signalled too;
the deliveries of support requests, which the departments count, go in bundles.
A receipt for a sid that no message carries yet is parked until one does.
"""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, NamedTuple

import structlog
from fastapi import APIRouter, Header, Request, Response, status
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from definitions.awaited_replies import (
    DeliveryFailed,
    DeliveryReceipt,
    ReplyCodeClosure,
    ReplyReceived,
)
from definitions.messages import DELIVERY_TRACKED_STEPS
from definitions.metrics import FailureStage, ReplyChannel, TocsinMetrics
from definitions.outgoing import Channel, OutboxEntry, OutboxStatus, provider_status
from definitions.privacy import mask_phone_numbers
from definitions.replies import Reply, parse_reply
from definitions.temporal_names import DELIVERY_FAILED_SIGNAL, REPLY_SIGNAL
from gateway.delivery_receipts import DeliveryReceiptRelay
from gateway.inbound_sms import PREFIX
from gateway.repeating_tasks import repeating
from gateway.reply_routing import CLOSED, UNAVAILABLE, Outcome, Routing, route
from store import inbound, outbox, parked_receipts, reply_codes
from store.database import Store
from store.tables import ReplyCodeRow

log = structlog.get_logger(__name__)

MAX_WEBHOOK_BYTES = 64 * 1024
RECEIPT_WAIT_SECONDS = 5.0
"""How long a receipt waits for the sending activity to record its message's sid:
Twilio may call back before the activity has written what the API answered."""
RECEIPT_RETRY_SECONDS = 0.2
PARKED_SWEEP_SECONDS = 2.0
"""How often the receipts kept for sids not recorded yet are tried again."""
PARKED_PER_SWEEP = 500
PARKED_KEPT = timedelta(days=1)
"""A receipt whose sid no message took within a day was never Tocsin's."""


class RecordedDelivery(NamedTuple):
    """A delivery callback recorded on its message, whether it moved the message
    forward, and the task its workflow awaits an answer for, when the workflow is
    to hear of it (once: only a callback that moved the message is told)."""

    entry: OutboxEntry
    moved: bool
    task: ReplyCodeRow | None


def _told_to_workflow(entry: OutboxEntry, delivery: OutboxStatus) -> bool:
    """Bounces always; deliveries of the steps whose workflow counts them."""
    if delivery is OutboxStatus.DELIVERED:
        return entry.step in DELIVERY_TRACKED_STEPS
    return delivery in (OutboxStatus.UNDELIVERED, OutboxStatus.FAILED)


def _twiml(text: str | None) -> Response:
    reply = MessagingResponse()
    if text:
        reply.message(text)
    return Response(content=str(reply), media_type="application/xml")


class TwilioWebhooks:
    def __init__(
        self, store: Store, client: Client, metrics: TocsinMetrics, auth_token: str, public_url: str
    ) -> None:
        self._store = store
        self._client = client
        self._metrics = metrics
        self._validator = RequestValidator(auth_token)
        self._public_url = public_url
        self._receipts = DeliveryReceiptRelay(client)

    async def signed_form(self, request: Request, signature: str | None) -> dict[str, str] | None:
        """The form when Twilio signed it, else None (and a log line)."""
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BYTES:
            log.warning("webhook.too_large", path=request.url.path, size=len(body))
            return None
        form = {key: str(value) for key, value in (await request.form()).items()}
        url = self._public_url.rstrip("/") + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        if not signature or not self._validator.validate(url, form, signature):
            log.warning("webhook.forged", path=request.url.path)
            return None
        return form

    async def deliver(self, routing: Routing, reply: Reply, message_sid: str) -> Routing:
        """Signal the task's workflow; a workflow that has ended closes its codes."""
        task = routing.task
        assert task is not None and task.code
        received = ReplyReceived(
            task_key=task.task_key,
            contact_id=task.contact_id,
            keyword=reply.keyword,
            code=task.code,
            accepts=reply.accepts,
            message_sid=message_sid,
            received_at=datetime.now(UTC),
        )
        try:
            await self._client.get_workflow_handle(task.workflow_id).signal(REPLY_SIGNAL, received)
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                log.error("sms.routing_failed", workflow_id=task.workflow_id, error=str(error))
                return Routing(Outcome.UNAVAILABLE, UNAVAILABLE)
            await asyncio.to_thread(self._close_codes, task.workflow_id)
            return Routing(Outcome.CLOSED, CLOSED)
        return routing

    def _close_codes(self, workflow_id: str) -> None:
        with self._store.session() as session:
            closure = ReplyCodeClosure(workflow_id=workflow_id)
            reply_codes.close_codes(session, closure, datetime.now(UTC))
            session.commit()

    def _codes_unless_seen(self, message_sid: str, sender: str) -> list[ReplyCodeRow] | None:
        """Every code this phone was given; None for a webhook already taken. In a
        thread, like every store call of the webhooks: a writer waiting for SQLite's
        lock must not hold up the other requests."""
        with self._store.session() as session:
            if inbound.seen(session, message_sid):
                return None
            return reply_codes.codes_of_phone(session, sender)

    def _record_inbound(self, message_sid: str, sender: str, text: str, outcome: Outcome) -> bool:
        """Says whether this MessageSid was new."""
        now = datetime.now(UTC)
        with self._store.session() as session:
            first = inbound.record_first(
                session,
                message_sid,
                sender=sender,
                body=text[:2000],
                outcome=outcome.value,
                now=now,
            )
            if first and outcome is Outcome.OPTED_OUT:
                inbound.opt_out(session, sender, now)
            session.commit()
        return first

    async def inbound_sms(
        self,
        request: Request,
        x_twilio_signature: Annotated[str | None, Header()] = None,
    ) -> Response:
        form = await self.signed_form(request, x_twilio_signature)
        if form is None or not form.get("MessageSid") or not form.get("From"):
            return Response(status_code=status.HTTP_403_FORBIDDEN)
        message_sid, sender, text = form["MessageSid"], form["From"], form.get("Body", "")
        masked = mask_phone_numbers(sender)
        codes = await asyncio.to_thread(self._codes_unless_seen, message_sid, sender)
        if codes is None:
            log.info("sms.replayed", sender=masked, message_sid=message_sid)
            return _twiml(None)
        reply = parse_reply(text)
        routing = route(reply, codes)
        if routing.outcome is Outcome.ROUTED and reply is not None:
            routing = await self.deliver(routing, reply, message_sid)
        first = await asyncio.to_thread(
            self._record_inbound, message_sid, sender, text, routing.outcome
        )
        if not first:
            return _twiml(None)
        self._metrics.reply_received(ReplyChannel.SMS, routing.outcome.value)
        task = routing.task
        log.info(
            "sms.received",
            sender=masked,
            outcome=routing.outcome.value,
            workflow_id=task.workflow_id if task else None,
        )
        return _twiml(routing.answer)

    async def _signal_task(
        self, entry: OutboxEntry, delivery: OutboxStatus, task: ReplyCodeRow
    ) -> None:
        """A bounce reaches the task's workflow at once; a delivery the workflow
        counts goes with the next bundle of receipts."""
        if delivery is OutboxStatus.DELIVERED:
            receipt = DeliveryReceipt(
                task_key=task.task_key, contact_id=task.contact_id, step=entry.step
            )
            self._receipts.add(task.workflow_id, receipt)
            return
        failure = DeliveryFailed(
            task_key=task.task_key,
            contact_id=task.contact_id,
            channel=Channel.SMS,
            step=entry.step,
            error_code=entry.error_code,
        )
        try:
            await self._client.get_workflow_handle(task.workflow_id).signal(
                DELIVERY_FAILED_SIGNAL, failure
            )
        except RPCError as error:
            log.warning("sms.status_not_signalled", workflow_id=task.workflow_id, error=str(error))
            return
        log.info("sms.bounce_signalled", workflow_id=task.workflow_id, step=entry.step)

    async def _record_delivery(
        self, message_sid: str, delivery: OutboxStatus, error_code: str | None
    ) -> RecordedDelivery | None:
        """The receipt once recorded on its message; None when no message of
        Tocsin's has this sid after the wait."""
        deadline = asyncio.get_running_loop().time() + RECEIPT_WAIT_SECONDS
        while True:
            receipt = await asyncio.to_thread(
                self._record_receipt, message_sid, delivery, error_code
            )
            if receipt is not None or asyncio.get_running_loop().time() >= deadline:
                return receipt
            await asyncio.sleep(RECEIPT_RETRY_SECONDS)

    def _record_receipt(
        self, message_sid: str, delivery: OutboxStatus, error_code: str | None
    ) -> RecordedDelivery | None:
        """In a thread, with the task to tell in the same session: a delivery
        callback does no store work in the event loop, where the replies wait."""
        with self._store.session() as session:
            callback = outbox.record_delivery(
                session, message_sid, delivery, error_code, datetime.now(UTC)
            )
            recorded = None if callback is None else self._recorded(session, callback, delivery)
            session.commit()
        return recorded

    @staticmethod
    def _recorded(
        session: Session, callback: outbox.RecordedCallback, delivery: OutboxStatus
    ) -> RecordedDelivery:
        entry = callback.entry
        told = callback.moved and _told_to_workflow(entry, delivery)
        task = reply_codes.awaiting_message(session, entry.recipient, entry.key) if told else None
        return RecordedDelivery(entry, callback.moved, task)

    def _park(self, message_sid: str, delivery: OutboxStatus, error_code: str | None) -> None:
        with self._store.session() as session:
            parked_receipts.park(session, message_sid, delivery, error_code, datetime.now(UTC))
            session.commit()

    def _land_parked(self) -> list[tuple[RecordedDelivery, OutboxStatus]]:
        """The parked receipts whose sid is now recorded, each in its own transaction
        (the next sweep takes any beyond ``PARKED_PER_SWEEP``, or after a failed one);
        those kept past ``PARKED_KEPT`` are dropped."""
        now = datetime.now(UTC)
        with self._store.session() as session:
            dropped = parked_receipts.drop_received_before(session, now - PARKED_KEPT)
            waiting = parked_receipts.landable(session, PARKED_PER_SWEEP)
            session.commit()
        if dropped:
            log.warning("webhook.parked_receipts_dropped", receipts=dropped)
        landed = []
        for receipt in waiting:
            try:
                with self._store.session() as session:
                    callback = parked_receipts.land(session, receipt, now)
                    if callback is None:
                        continue
                    recorded = self._recorded(session, callback, receipt.status)
                    session.commit()
            except SQLAlchemyError as error:
                log.warning("webhook.parked_receipt_unlanded", error=str(error))
                break
            landed.append((recorded, receipt.status))
            log.info("webhook.parked_receipt_landed", message_sid=receipt.message_sid)
        return landed

    async def land_parked(self) -> None:
        for recorded, delivery in await asyncio.to_thread(self._land_parked):
            await self._tell(recorded, delivery)

    def landing_parked_receipts(
        self, every: float = PARKED_SWEEP_SECONDS
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """While the gateway runs: receipts parked by this gateway, another one, or
        before a restart land once their sid is recorded."""
        return repeating(self.land_parked, every, "webhook.parked_receipts_unread")

    def _count(self, delivery: OutboxStatus) -> None:
        if delivery is OutboxStatus.DELIVERED:
            self._metrics.message_delivered(Channel.SMS)
        elif delivery in (OutboxStatus.UNDELIVERED, OutboxStatus.FAILED):
            self._metrics.message_failed(Channel.SMS, FailureStage.UNDELIVERED)

    async def delivery_status(
        self,
        request: Request,
        x_twilio_signature: Annotated[str | None, Header()] = None,
    ) -> Response:
        form = await self.signed_form(request, x_twilio_signature)
        if form is None:
            return Response(status_code=status.HTTP_403_FORBIDDEN)
        delivery = provider_status(form.get("MessageStatus", ""))
        if delivery is None or not form.get("MessageSid"):
            log.info("webhook.status_ignored", status=form.get("MessageStatus"))
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        message_sid, error_code = form["MessageSid"], form.get("ErrorCode")
        receipt = await self._record_delivery(message_sid, delivery, error_code)
        if receipt is None:
            await asyncio.to_thread(self._park, message_sid, delivery, error_code)
            log.info("webhook.status_parked", message_sid=message_sid, status=delivery)
        else:
            await self._tell(receipt, delivery)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    async def _tell(self, receipt: RecordedDelivery, delivery: OutboxStatus) -> None:
        """The metrics, and the task's workflow when it is to hear of it; a callback
        that came late or again is only kept in the message's history."""
        entry = receipt.entry
        if not receipt.moved:
            log.info("sms.delivery_kept", step=entry.step, status=delivery, now=entry.status)
            return
        log.info("sms.delivery", event_id=entry.event_id, step=entry.step, status=delivery)
        self._count(delivery)
        if receipt.task is not None:
            await self._signal_task(entry, delivery, receipt.task)


def twilio_router(webhooks: TwilioWebhooks) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["webhooks"])
    router.post("/sms")(webhooks.inbound_sms)
    router.post("/status", status_code=status.HTTP_204_NO_CONTENT)(webhooks.delivery_status)
    return router
