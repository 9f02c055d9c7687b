"""How a workflow speaks to people: renders the step's templates, sends the SMS
through the rate-limited SMS queue and the email alongside, and when a channel
is refused for good (invalid number, STOP, rejected address) tries the other
one and says so in the crisis log."""

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from definitions.crisis_log import SYSTEM_ACTOR, CrisisLogKind
    from definitions.messages import MessageStep, TemplateSet, render_email, render_sms
    from definitions.outgoing import (
        PERMANENT_DELIVERY_ERROR,
        Channel,
        EmailRequest,
        SendResult,
        SmsRequest,
        idempotency_key,
    )
    from definitions.people import Person
    from definitions.temporal_names import SEND_EMAIL, SEND_SMS
    from workflows.crisis_log import CrisisLogWriter

SEND_TIMEOUT = timedelta(seconds=60)
GIVE_UP_AFTER = timedelta(hours=6)
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
)


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
    crisis_log: CrisisLogWriter

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
    ) -> Delivery:
        """Each wanted channel the person has; the other one (if allowed) when one is
        refused. ``instance`` tells apart the same step sent again on purpose."""
        allowed = channels or {Channel.SMS, Channel.EMAIL}
        wanted = self.channels_of(step) & allowed
        delivery = Delivery()
        tried: set[Channel] = set()

        async def attempt(channel: Channel) -> None:
            tried.add(channel)
            try:
                await self._send_on(channel, person, step, values, instance)
            except DeliveryRefusedError as refusal:
                delivery.refused[channel] = refusal.code
            else:
                delivery.sent.add(channel)

        first = [c for c in sorted(wanted) if self._has(person, c)]
        for channel in wanted - set(first):
            opted_out = channel is Channel.SMS and person.phone is not None
            delivery.refused[channel] = "opted_out" if opted_out else "absent"
        await asyncio.gather(*(attempt(channel) for channel in first))
        for failed in list(delivery.refused):
            other = Channel.EMAIL if failed is Channel.SMS else Channel.SMS
            if other in tried or other not in allowed or not self._has(person, other):
                continue
            if other is Channel.SMS and step not in self.templates.sms:
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
            f"({delivery.refused[failed]}) : message {outcome} par {other.value}.",
        )

    async def _send_on(
        self,
        channel: Channel,
        person: Person,
        step: MessageStep,
        values: dict[str, str],
        instance: str,
    ) -> SendResult:
        if channel is Channel.SMS:
            assert person.phone is not None
            request: SmsRequest | EmailRequest = SmsRequest(
                key=idempotency_key(
                    self.workflow_id, step.value + instance, person.contact_id, channel
                ),
                event_id=self.event_id,
                step=step.value,
                to=person.phone,
                body=render_sms(
                    self.templates, step, {**self.common_values, **values}, self.exercise
                ),
            )
            options = {"task_queue": self.sms_task_queue}
        else:
            request = self.email_request(person, step, values, instance)
            options = {}
        workflow.logger.info("sending %s %s to %s", channel.value, step.value, person.contact_id)
        try:
            return await workflow.execute_activity(
                SEND_SMS if channel is Channel.SMS else SEND_EMAIL,
                request,
                result_type=SendResult,
                start_to_close_timeout=SEND_TIMEOUT,
                schedule_to_close_timeout=GIVE_UP_AFTER,
                retry_policy=SEND_RETRY,
                **options,
            )
        except ActivityError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type == PERMANENT_DELIVERY_ERROR:
                code = str(cause.details[0]) if cause.details else "?"
                raise DeliveryRefusedError(code) from error
            raise

    def email_request(
        self, person: Person, step: MessageStep, values: dict[str, str], instance: str = ""
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
        )
