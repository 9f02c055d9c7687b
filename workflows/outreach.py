"""How a workflow speaks to people: renders the step's templates, sends the SMS
through the rate-limited SMS queue and the email alongside, and when a channel
is refused for good (invalid number, STOP, rejected address) tries the other
one and says so in the crisis log. Someone whose only phone is a fixed line is
called where the SMS would have gone when the message asks for an answer, and
for any message when no email reaches them: the SMS text is said, and a reply
code in it is answered on the keypad."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.crisis_log import ENTRY_TEXT_MAX_LENGTH, SYSTEM_ACTOR, CrisisLogKind
    from definitions.event import EventDeclaration
    from definitions.messages import MessageStep, TemplateSet, render_email, render_sms
    from definitions.outgoing import (
        PERMANENT_DELIVERY_ERROR,
        BatchItemResult,
        CalendarInvite,
        Channel,
        EmailRequest,
        OutboxStatus,
        SendResult,
        SmsRequest,
        idempotency_key,
    )
    from definitions.people import Person
    from definitions.replies import CODE
    from definitions.temporal_names import email_task_queue, sms_task_queue
    from definitions.voice_calls import SPEECH_MAX, CallRequest
    from workflows.crisis_log import CrisisLogWriter
    from workflows.phone_calls import call_request, place_call
    from workflows.send_policy import GIVE_UP_AFTER, SEND_RETRY, SEND_TIMEOUT
    from workflows.store_calls import call_store

Request = TypeVar("Request", SmsRequest, EmailRequest)

BATCH_SIZE = 50
BATCHES_IN_FLIGHT = 4
"""Per channel: a step's SMS and email batches go out side by side."""
BATCH_TIMEOUT = timedelta(minutes=30)
BATCH_HEARTBEAT = timedelta(seconds=15)
"""A live batch heartbeats every 5 s on a timer; one whose worker died is given to
another worker after this long."""
NAMES_LOGGED = 30
CHANNEL_WORDS = {Channel.SMS: "sms", Channel.EMAIL: "email", Channel.VOICE: "appel"}


def _clipped(prefix: str, names: list[str]) -> str:
    """``prefix`` and as many names as fit one crisis log entry."""
    shown = ", ".join(names[:NAMES_LOGGED])
    more = f" et {len(names) - NAMES_LOGGED} autre(s)" if len(names) > NAMES_LOGGED else ""
    return (prefix + shown)[: ENTRY_TEXT_MAX_LENGTH - len(more) - 1] + more + "."


@dataclass
class Delivery:
    """The channels the provider accepted for one person."""

    sent: set[Channel] = field(default_factory=set)
    refused: dict[Channel, str] = field(default_factory=dict)

    @property
    def reached(self) -> bool:
        return bool(self.sent)


class DeliveryRefusedError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Outreach:
    workflow_id: str
    event_id: str
    exercise: bool
    templates: TemplateSet
    common_values: dict[str, str]
    sms_task_queue: str
    email_task_queue: str
    crisis_log: CrisisLogWriter

    @classmethod
    async def for_event(
        cls,
        event_id: str,
        declaration: EventDeclaration,
        header: str,
        crisis_log: CrisisLogWriter,
    ) -> "Outreach":
        """The calling workflow's outreach for one event, with its type's templates."""
        info = workflow.info()
        templates = await call_store(stubs.load_templates, declaration.type)
        return cls(
            workflow_id=info.workflow_id,
            event_id=event_id,
            exercise=declaration.exercise,
            templates=templates,
            common_values={"header": header, "title": declaration.title, "event_id": event_id},
            sms_task_queue=sms_task_queue(info.task_queue),
            email_task_queue=email_task_queue(info.task_queue),
            crisis_log=crisis_log,
        )

    def _task_queue(self, channel: Channel) -> str:
        return self.sms_task_queue if channel is Channel.SMS else self.email_task_queue

    def channels_of(self, step: MessageStep) -> set[Channel]:
        channels = set()
        if step in self.templates.sms:
            channels.add(Channel.SMS)
        if step in self.templates.email:
            channels.add(Channel.EMAIL)
        return channels

    async def send(
        self,
        person: Person,
        step: MessageStep,
        values: dict[str, str],
        *,
        channels: set[Channel] | None = None,
        instance: str = "",
        calendar: CalendarInvite | None = None,
    ) -> Delivery:
        """Each wanted channel the person has; the other one (if allowed) when one is
        refused. ``instance`` tells apart the same step sent again on purpose;
        ``calendar`` goes with the email as an invitation."""
        allowed = channels or {Channel.SMS, Channel.EMAIL}
        wanted = self.channels_of(step) & allowed
        delivery = Delivery()
        tried: set[Channel] = set()

        async def attempt(channel: Channel) -> None:
            tried.add(channel)
            try:
                await self._send_on(channel, person, step, values, instance, calendar=calendar)
            except DeliveryRefusedError as refusal:
                delivery.refused[channel] = refusal.code
            else:
                delivery.sent.add(channel)

        first = self._first_channels(person, values, wanted, delivery)
        await asyncio.gather(*(attempt(channel) for channel in first))
        for failed in list(delivery.refused):
            other = self._fallback(person, step, failed, tried, allowed)
            if other is None:
                continue
            await attempt(other)
            await self._log_fallback(person, failed, other, delivery)
        if not delivery.reached:
            await self.crisis_log.append(
                CrisisLogKind.DELIVERY_FAILED,
                SYSTEM_ACTOR,
                f"{person.name} n'a pu être joint(e) ({step.value}) : "
                + ", ".join(f"{c.value} {code}" for c, code in sorted(delivery.refused.items())),
            )
        return delivery

    async def send_many(
        self,
        step: MessageStep,
        messages: list[tuple[Person, dict[str, str]]],
        *,
        channels: set[Channel] | None = None,
        instance: str = "",
    ) -> dict[str, Delivery]:
        """``send`` for many people at once, in batches of one activity each, with
        the same fallback; the crisis log gets one line for all who could not be
        reached, instead of one per person."""
        allowed = channels or {Channel.SMS, Channel.EMAIL}
        wanted = self.channels_of(step) & allowed
        deliveries = {person.contact_id: Delivery() for person, _ in messages}
        first = {
            person.contact_id: self._first_channels(
                person, values, wanted, deliveries[person.contact_id]
            )
            for person, values in messages
        }
        await self._send_batches(step, messages, deliveries, first, instance)
        fallback: dict[str, list[Channel]] = {}
        for person, _ in messages:
            delivery = deliveries[person.contact_id]
            tried = set(first[person.contact_id])
            for failed in list(delivery.refused):
                other = self._fallback(person, step, failed, tried, allowed)
                if other is not None:
                    fallback[person.contact_id] = [other]
        if fallback:
            await self._send_batches(step, messages, deliveries, fallback, instance)
        unreached = [
            person.name for person, _ in messages if not deliveries[person.contact_id].reached
        ]
        if unreached:
            await self.crisis_log.append(
                CrisisLogKind.DELIVERY_FAILED,
                SYSTEM_ACTOR,
                _clipped(
                    f"{len(unreached)} destinataire(s) injoignable(s) ({step.value}) : ", unreached
                ),
            )
        return deliveries

    async def _send_batches(
        self,
        step: MessageStep,
        messages: list[tuple[Person, dict[str, str]]],
        deliveries: dict[str, Delivery],
        channels: dict[str, list[Channel]],
        instance: str,
    ) -> None:
        """Every (person, channel) asked for, BATCH_SIZE per activity, a few at a time."""
        sms: list[SmsRequest] = []
        email: list[EmailRequest] = []
        calls: list[CallRequest] = []
        owners: dict[str, tuple[str, Channel]] = {}
        for person, values in messages:
            for channel in channels.get(person.contact_id, []):
                request: SmsRequest | EmailRequest | CallRequest
                if channel is Channel.VOICE:
                    request = self._call_request(person, step, values, instance)
                    calls.append(request)
                else:
                    request = self._request(channel, person, step, values, instance)
                    if isinstance(request, SmsRequest):
                        sms.append(request)
                    else:
                        email.append(request)
                owners[request.key] = (person.contact_id, channel)
        outcomes = await asyncio.gather(
            self._send_in_lanes(stubs.send_sms_batch, Channel.SMS, sms),
            self._send_in_lanes(stubs.send_email_batch, Channel.EMAIL, email),
            self._place_calls(calls),
        )
        for items in outcomes:
            for item in items:
                contact_id, channel = owners[item.key]
                delivery = deliveries[contact_id]
                if item.result is not None:
                    delivery.sent.add(channel)
                    delivery.refused.pop(channel, None)
                else:
                    delivery.refused[channel] = item.refused or "?"

    @staticmethod
    async def _place_calls(calls: list[CallRequest]) -> list[BatchItemResult]:
        """One activity per call: the calls queue's rate limit spaces them."""
        refusals = await asyncio.gather(*(place_call(call, GIVE_UP_AFTER) for call in calls))
        return [
            BatchItemResult(key=call.key, refused=refused)
            if refused is not None
            else BatchItemResult(
                key=call.key,
                result=SendResult(key=call.key, status=OutboxStatus.QUEUED, provider_id=""),
            )
            for call, refused in zip(calls, refusals, strict=True)
        ]

    async def _send_in_lanes(
        self,
        send: Callable[[list[Request]], Awaitable[list[BatchItemResult]]],
        channel: Channel,
        requests: list[Request],
    ) -> list[BatchItemResult]:
        """BATCH_SIZE requests per activity, in BATCHES_IN_FLIGHT lanes that each send
        their batches one after the other: a lane's next batch starts as soon as its
        last one has ended, whatever the other lanes and the other channel are doing."""
        batches = [
            requests[start : start + BATCH_SIZE] for start in range(0, len(requests), BATCH_SIZE)
        ]

        async def send_lane(lane: list[list[Request]]) -> list[BatchItemResult]:
            items: list[BatchItemResult] = []
            for batch in lane:
                items += await self._send_batch(send, channel, batch)
            return items

        lanes = (batches[lane::BATCHES_IN_FLIGHT] for lane in range(BATCHES_IN_FLIGHT))
        sent = await asyncio.gather(*(send_lane(lane) for lane in lanes if lane))
        return [item for items in sent for item in items]

    async def _send_batch(
        self,
        send: Callable[[list[Request]], Awaitable[list[BatchItemResult]]],
        channel: Channel,
        batch: list[Request],
    ) -> list[BatchItemResult]:
        """A batch the provider could not take within GIVE_UP_AFTER counts as refused."""
        workflow.logger.info("sending a batch of %d %s", len(batch), channel.value)
        try:
            return await workflow.execute_activity(
                send,
                batch,
                start_to_close_timeout=BATCH_TIMEOUT,
                heartbeat_timeout=BATCH_HEARTBEAT,
                schedule_to_close_timeout=GIVE_UP_AFTER,
                retry_policy=SEND_RETRY,
                task_queue=self._task_queue(channel),
            )
        except ActivityError as error:
            workflow.logger.warning("batch given up: %s", error.cause)
            return [BatchItemResult(key=request.key, refused="timeout") for request in batch]

    def _first_channels(
        self, person: Person, values: dict[str, str], wanted: set[Channel], delivery: Delivery
    ) -> list[Channel]:
        """The wanted channels the person has; the others are noted as refused. A
        fixed line is called in place of the SMS of a message that asks for an answer,
        which the keypad then gives."""
        first = [channel for channel in sorted(wanted) if self._has(person, channel)]
        for channel in wanted - set(first):
            delivery.refused[channel] = self._absent_because(person, channel)
        if (
            Channel.SMS in wanted
            and self._fixed_line(person)
            and CODE.match(values.get("code", ""))
        ):
            first.append(Channel.VOICE)
        return first

    def _fallback(
        self,
        person: Person,
        step: MessageStep,
        failed: Channel,
        tried: set[Channel],
        allowed: set[Channel],
    ) -> Channel | None:
        other = Channel.EMAIL if failed is Channel.SMS else Channel.SMS
        usable = other not in tried and other in allowed and self._has(person, other)
        if usable and (other is Channel.EMAIL or step in self.templates.sms):
            return other
        if self._callable(person, step, tried, allowed):
            return Channel.VOICE
        return None

    def _callable(
        self, person: Person, step: MessageStep, tried: set[Channel], allowed: set[Channel]
    ) -> bool:
        """A call stands in for the SMS a fixed line cannot take."""
        return (
            self._fixed_line(person)
            and Channel.VOICE not in tried
            and Channel.SMS in allowed
            and step in self.templates.sms
        )

    @staticmethod
    def _fixed_line(person: Person) -> bool:
        return person.fixed_line and person.phone is not None

    @staticmethod
    def _absent_because(person: Person, channel: Channel) -> str:
        if channel is not Channel.SMS or person.phone is None:
            return "absent"
        return "fixed_line" if person.fixed_line else "opted_out"

    @staticmethod
    def _has(person: Person, channel: Channel) -> bool:
        return person.reachable_by_sms if channel is Channel.SMS else person.email is not None

    async def _log_fallback(
        self, person: Person, failed: Channel, other: Channel, delivery: Delivery
    ) -> None:
        outcome = "envoyé" if other in delivery.sent else "également refusé"
        await self.crisis_log.append(
            CrisisLogKind.DELIVERY_FALLBACK,
            SYSTEM_ACTOR,
            f"{failed.value.upper()} impossible pour {person.name} "
            f"({delivery.refused[failed]}) : message {outcome} par {CHANNEL_WORDS[other]}.",
        )

    def _request(
        self,
        channel: Channel,
        person: Person,
        step: MessageStep,
        values: dict[str, str],
        instance: str,
        *,
        calendar: CalendarInvite | None = None,
    ) -> SmsRequest | EmailRequest:
        if channel is Channel.EMAIL:
            return self.email_request(person, step, values, instance, calendar=calendar)
        assert person.phone is not None
        return SmsRequest(
            key=idempotency_key(
                self.workflow_id, step.value + instance, person.contact_id, channel
            ),
            event_id=self.event_id,
            step=step.value,
            to=person.phone,
            body=render_sms(self.templates, step, {**self.common_values, **values}, self.exercise),
        )

    def _call_request(
        self, person: Person, step: MessageStep, values: dict[str, str], instance: str
    ) -> CallRequest:
        """The SMS text said on a call; its reply code, if any, taken on the keypad."""
        assert person.phone is not None
        text = render_sms(self.templates, step, {**self.common_values, **values}, self.exercise)
        code = values.get("code", "")
        return call_request(
            event_id=self.event_id,
            step=step.value,
            contact_id=person.contact_id,
            phone=person.phone,
            speech=text[:SPEECH_MAX],
            code=code if CODE.match(code) else None,
            instance=instance,
        )

    async def _send_on(
        self,
        channel: Channel,
        person: Person,
        step: MessageStep,
        values: dict[str, str],
        instance: str,
        *,
        calendar: CalendarInvite | None,
    ) -> None:
        workflow.logger.info("sending %s %s to %s", channel.value, step.value, person.contact_id)
        if channel is Channel.VOICE:
            call = self._call_request(person, step, values, instance)
            if (refused := await place_call(call, GIVE_UP_AFTER)) is not None:
                raise DeliveryRefusedError(refused)
            return
        request = self._request(channel, person, step, values, instance, calendar=calendar)
        try:
            if isinstance(request, SmsRequest):
                await self._send_one(stubs.send_sms, channel, request)
            else:
                await self._send_one(stubs.send_email, channel, request)
        except ActivityError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type == PERMANENT_DELIVERY_ERROR:
                code = str(cause.details[0]) if cause.details else "?"
                raise DeliveryRefusedError(code) from error
            raise

    async def _send_one(
        self, send: Callable[[Request], Awaitable[SendResult]], channel: Channel, request: Request
    ) -> SendResult:
        return await workflow.execute_activity(
            send,
            request,
            start_to_close_timeout=SEND_TIMEOUT,
            schedule_to_close_timeout=GIVE_UP_AFTER,
            retry_policy=SEND_RETRY,
            task_queue=self._task_queue(channel),
        )

    def email_request(
        self,
        person: Person,
        step: MessageStep,
        values: dict[str, str],
        instance: str = "",
        *,
        calendar: CalendarInvite | None = None,
    ) -> EmailRequest:
        """The step's email, or its SMS text under the header when it has none."""
        assert person.email is not None
        values = {**self.common_values, **values}
        if step in self.templates.email:
            rendered = render_email(self.templates, step, values, self.exercise)
            subject, text = rendered.subject, rendered.body
        else:
            subject = values.get("header", "UNCCAS")
            text = render_sms(self.templates, step, values, self.exercise)
        return EmailRequest(
            key=idempotency_key(
                self.workflow_id, step.value + instance, person.contact_id, Channel.EMAIL
            ),
            event_id=self.event_id,
            step=step.value,
            to=person.email,
            subject=subject,
            text=text,
            calendar=calendar,
        )
