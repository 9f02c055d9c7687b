"""The gateway's figures: counted on the meter of the runtime its Temporal client
was connected with, so they share the SDK's Prometheus endpoint. The open-events
gauge is read from the database on a timer: any gateway sees every event, so each
reports the same figure (the dashboard takes the maximum)."""

import asyncio
import contextlib

from temporalio.client import Client
from temporalio.runtime import Runtime

from definitions.metrics import TocsinMetrics
from gateway.repeating_tasks import repeating
from operations.directory_verification import freshness
from store import events
from store.database import Store

REFRESH_SECONDS = 15.0
FRESHNESS_REFRESH_SECONDS = 600.0
"""Freshness reads the whole directory and its outbox failures: it moves slowly."""


def client_metrics(client: Client) -> TocsinMetrics:
    """On the Prometheus endpoint of the runtime the client was connected with."""
    runtime = client.service_client.config.runtime or Runtime.default()
    return TocsinMetrics(runtime.metric_meter)


def _refresh(store: Store, metrics: TocsinMetrics) -> None:
    with store.session() as session:
        open_events = events.open_event_counts(session)
    for exercise in (False, True):
        metrics.open_events(open_events.get(exercise, 0), exercise=exercise)


def refreshing_open_events(
    store: Store, metrics: TocsinMetrics, every: float = REFRESH_SECONDS
) -> contextlib.AbstractAsyncContextManager[None]:
    return repeating(
        lambda: asyncio.to_thread(_refresh, store, metrics), every, "metrics.open_events_unread"
    )


def _refresh_freshness(store: Store, metrics: TocsinMetrics) -> None:
    for row in freshness(store):
        metrics.directory_fresh_share(row.share, department=row.department)


def refreshing_directory_freshness(
    store: Store, metrics: TocsinMetrics, every: float = FRESHNESS_REFRESH_SECONDS
) -> contextlib.AbstractAsyncContextManager[None]:
    """Each department's share of organisations confirmed within six months, read
    first one interval after the start: a gateway starting does not pay for it."""
    started = False

    async def turn() -> None:
        nonlocal started
        if started:
            await asyncio.to_thread(_refresh_freshness, store, metrics)
        started = True

    return repeating(turn, every, "metrics.freshness_unread")
