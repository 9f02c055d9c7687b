"""Tocsin's own figures, served beside the Temporal SDK's on each process's
Prometheus endpoint: the names below are what the ready-made dashboard
(``deploy/grafana/tocsin.json``) and any alert rules read."""

from enum import StrEnum

from temporalio.common import MetricMeter

from definitions.outgoing import Channel

MESSAGES_SENT = "tocsin_messages_sent"
MESSAGES_FAILED = "tocsin_messages_failed"
MESSAGES_DELIVERED = "tocsin_messages_delivered"
REPLIES = "tocsin_replies"
CALLS_ENDED = "tocsin_calls_ended"
OPEN_EVENTS = "tocsin_open_events"
DIRECTORY_FRESH_SHARE = "tocsin_directory_fresh_share"


class FailureStage(StrEnum):
    """Where a message failed: never sent to a number that answered STOP or
    refused by the provider (workers), or reported undelivered by a delivery
    receipt afterwards (gateways)."""

    OPTED_OUT = "opted_out"
    REFUSED = "refused"
    UNDELIVERED = "undelivered"


class ReplyChannel(StrEnum):
    SMS = "sms"
    LINK = "link"
    VOICE = "voice"


class TocsinMetrics:
    """Counters are per process; Prometheus sums them over workers and gateways."""

    def __init__(self, meter: MetricMeter) -> None:
        self._sent = meter.create_counter(
            MESSAGES_SENT, "messages accepted by the SMS or email provider"
        )
        self._failed = meter.create_counter(
            MESSAGES_FAILED, "messages refused by the provider or reported undelivered"
        )
        self._delivered = meter.create_counter(
            MESSAGES_DELIVERED, "SMS whose delivery the provider confirmed"
        )
        self._replies = meter.create_counter(
            REPLIES, "answers received by SMS or answer link, by how they were routed"
        )
        self._calls_ended = meter.create_counter(
            CALLS_ENDED, "calls as they ended, by the provider's final status"
        )
        self._open_events = meter.create_gauge(OPEN_EVENTS, "events not yet closed")
        self._fresh_share = meter.create_gauge_float(
            DIRECTORY_FRESH_SHARE,
            "share of a department's organisations that confirmed their line within six months",
        )

    def message_sent(self, channel: Channel) -> None:
        self._sent.add(1, {"channel": channel.value})

    def message_failed(self, channel: Channel, stage: FailureStage) -> None:
        self._failed.add(1, {"channel": channel.value, "stage": stage.value})

    def message_delivered(self, channel: Channel) -> None:
        self._delivered.add(1, {"channel": channel.value})

    def reply_received(self, channel: ReplyChannel, outcome: str) -> None:
        self._replies.add(1, {"channel": channel.value, "outcome": outcome})

    def call_ended(self, call_status: str) -> None:
        """``completed``, ``busy``, ``no-answer``, ``failed`` or ``canceled``."""
        self._calls_ended.add(1, {"status": call_status})

    def open_events(self, count: int, *, exercise: bool) -> None:
        self._open_events.set(count, {"exercise": str(exercise).lower()})

    def directory_fresh_share(self, share: float, *, department: str) -> None:
        self._fresh_share.set(share, {"department": department})
