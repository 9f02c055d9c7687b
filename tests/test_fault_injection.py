"""Worker processes at work, and faults struck in the middle of a department's
mobilisation: a killed worker, a restarted Temporal server, a provider storm with
an SMTP outage, a locked database. Every support request must still arrive and no
workflow stay stuck; duplicates are counted and reported.

Sized for CI here; ``make reliability`` runs them full size, three rounds each,
and writes RELIABILITY.md. Alone: ``pytest -m faults``.
"""

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from definitions.metrics import DIRECTORY_FRESH_SHARE, MESSAGES_FAILED
from operations.mobilisation_reads import MobilisationReads
from tests.deploy_files import dashboard_queries
from tests.fault_injection import (
    FaultOutcome,
    FaultStack,
    fault_size,
    running_fault_stack,
    write_reliability_report,
)

pytestmark = [pytest.mark.faults, pytest.mark.heavy]

SIZE = fault_size()
ROUNDS = range(1, SIZE.rounds + 1)
SPREAD_AREA = ["05", "23", "48", "52"]
"""Four small departments (about nine centres each)."""


@pytest_asyncio.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultStack]:
    async with running_fault_stack(tmp_path_factory.mktemp("faults"), SIZE) as running:
        yield running


@pytest_asyncio.fixture(scope="module")
async def outcomes(stack: FaultStack) -> AsyncIterator[list[FaultOutcome]]:
    """Every run's figures; written to RELIABILITY.md when TOCSIN_RELIABILITY_REPORT
    names it."""
    found: list[FaultOutcome] = []
    yield found
    report = os.environ.get("TOCSIN_RELIABILITY_REPORT")
    if report and found:
        centres = len(stack.expected_targets(SIZE.department))
        write_reliability_report(Path(report), found, SIZE, centres)


def _held(outcome: FaultOutcome) -> None:
    assert (outcome.lost, outcome.stuck) == (0, 0), outcome
    assert outcome.delivered == outcome.expected, outcome


async def test_two_worker_processes_share_the_work_and_every_process_counts_its_part(
    stack: FaultStack,
) -> None:
    """Departments work at once, more activities at a time than one worker polls for:
    Temporal hands the rest to the other worker. Centres answer through the gateway
    process; the figures the processes serve to Prometheus add up to what the
    providers and the gateway saw."""
    second = await stack.start_worker()
    before = await stack.scrape_all()
    since = stack.mark()
    event_id = await stack.activate(SPREAD_AREA, "Deux workers")
    reads = MobilisationReads(stack.client, stack.store)
    async with asyncio.timeout(120):
        while True:
            total = (await reads.overview(event_id)).total
            if total.centres and total.requested == total.centres:
                break
            await asyncio.sleep(0.2)
    centres = await stack.answer_every_centre(event_id)
    starts = await stack.activity_starts(event_id, SPREAD_AREA)
    figures = await stack.figures_settled(before, since)
    await stack.stand_down(event_id)
    await stack.stop_process(second)

    assert len({start.identity for start in starts}) == 2, starts
    assert figures.sms_sent == figures.sms_received > 0, figures
    assert figures.email_sent == figures.email_received > 0, figures
    assert figures.sms_delivered == figures.sms_received, figures
    assert figures.replies_routed == centres, figures
    assert figures.open_exercises == figures.open_exercises_stored >= 1, figures
    # Nothing fails here; freshness is read ten minutes after a gateway starts.
    unexercised = {f"{MESSAGES_FAILED}_total", DIRECTORY_FRESH_SHARE}
    for query in dashboard_queries():
        for metric in query.metrics - unexercised:
            assert query.labels <= figures.served.get(metric, set()), (metric, query)


async def test_a_worker_stopped_with_sigterm_first_finishes_what_it_runs(
    stack: FaultStack,
) -> None:
    async def replace_worker() -> None:
        await stack.stop_process(stack.live_workers[-1])
        await stack.start_worker()

    event_id, outcome = await stack.strike_mid_sending(
        "Worker arrêté proprement", "worker arrêté", replace_worker
    )
    _held(outcome)
    starts = await stack.activity_starts(event_id, [SIZE.department])
    await stack.stand_down(event_id)
    assert {start.attempt for start in starts} == {1}, "an activity was abandoned and retried"


@pytest.mark.parametrize("round_", ROUNDS)
async def test_a_worker_killed_mid_sending_loses_no_support_request(
    stack: FaultStack, outcomes: list[FaultOutcome], round_: int
) -> None:
    async def replace_worker() -> None:
        await stack.kill_worker(stack.live_workers[-1])
        await stack.start_worker()

    event_id, outcome = await stack.strike_mid_sending(
        f"Worker tué, essai {round_}", "worker tué", replace_worker, mid_emails=True
    )
    outcomes.append(outcome)
    await stack.stand_down(event_id)
    _held(outcome)
    assert outcome.emails_resent <= outcome.email_lanes, outcome


@pytest.mark.parametrize("round_", ROUNDS)
async def test_the_event_goes_on_across_a_temporal_server_restart(
    stack: FaultStack, outcomes: list[FaultOutcome], round_: int
) -> None:
    event_id, outcome = await stack.strike_mid_sending(
        f"Temporal redémarré, essai {round_}",
        "Temporal redémarré",
        lambda: stack.restart_server(SIZE.server_down_seconds),
    )
    outcomes.append(outcome)
    _held(outcome)

    assert await stack.answer_every_centre(event_id) > 0
    await stack.stand_down(event_id)


@pytest.mark.parametrize("round_", ROUNDS)
async def test_a_provider_storm_and_an_smtp_outage_end_with_everything_delivered(
    stack: FaultStack, outcomes: list[FaultOutcome], round_: int
) -> None:
    since = stack.mark()
    refused_before = stack.twilio.storm_refusals
    started = time.monotonic()
    stack.twilio.storm(SIZE.storm_seconds)
    async with stack.smtp_outage(SIZE.storm_seconds):
        event_id = await stack.activate([SIZE.department], f"Tempête, essai {round_}")
    faults = stack.twilio.storm_refusals - refused_before + 1
    outcome = await stack.settle("tempête 500/429 et SMTP coupé", faults, event_id, since, started)
    outcomes.append(outcome)
    await stack.stand_down(event_id)
    assert faults > 1, "the storm met no request"
    _held(outcome)


@pytest.mark.parametrize("round_", ROUNDS)
async def test_a_locked_database_delays_the_sending_and_loses_nothing(
    stack: FaultStack, outcomes: list[FaultOutcome], round_: int
) -> None:
    event_id, outcome = await stack.strike_mid_sending(
        f"Base verrouillée, essai {round_}",
        "base verrouillée",
        lambda: stack.lock_database(SIZE.lock_seconds),
    )
    outcomes.append(outcome)
    await stack.stand_down(event_id)
    _held(outcome)
