"""The stack faults are injected into, and what a fault costs as the people asked
would see it.

The real Temporal dev server, ``tocsin worker`` and ``tocsin api`` (the gateway)
run as processes of their own, as in a deployment, so that any can be killed or
restarted; each serves its metrics for Prometheus. The Twilio-compatible server
and the SMTP server run in the test's process. Support requests are counted where
phones and mailboxes receive them: at the providers.
"""

import asyncio
import functools
import math
import os
import platform
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from temporalio.api.history.v1 import ActivityTaskStartedEventAttributes
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from activities.mobilisation_targets import MobilisationTargetActivities
from definitions.designation import RepresentativeChange
from definitions.event import CloseRequest, EventDeclaration
from definitions.event_type import EventType
from definitions.loader import load_definitions
from definitions.mobilisation import SupportState, SupportTarget, TargetsRequest
from definitions.temporal_names import mobilisation_workflow_id
from definitions.territory import load_territory
from operations import event_control
from operations.mobilisation_reads import MobilisationReads
from store import events
from store.database import Store
from store.directory import replace_directory
from tests.conftest import LINK_SECRET, SCRIPTS, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, Phone
from tests.prometheus_text import Samples, scrape
from worker.asgi_server import AsgiServer
from worker.demo_directory import demo_directory
from worker.dev_server import TemporalDevServer
from worker.gateway_readiness import until_healthy
from worker.ports import free_port
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import TwilioSandbox
from worker.settings import Settings
from worker.task_queue_pollers import until_polled
from workflows.outreach import BATCH_SIZE, BATCHES_IN_FLIGHT

SENDER = "+33639989999"
REPRESENTATIVE = "unccas-representant-1"
SUPPORT_REQUEST_MARK = "votre centre est-il mobilis"
EVENT_TYPE = EventType.INONDATION
SLOW_SMTP_SECONDS = 0.2
WORKER_START_SECONDS = 120.0
"""How late the SMTP server answers each email while a strike waits for emails."""
RECOVERY_DEADLINE_SECONDS = 300.0
"""The send retry policy's longest wait (2 min) after the longest fault, and more."""


@dataclass(frozen=True)
class FaultSize:
    """How hard the faults hit: small in CI, full size by ``make reliability``."""

    department: str
    sms_per_second: float
    storm_seconds: float
    server_down_seconds: float
    lock_seconds: float
    rounds: int


CI_SIZE = FaultSize(
    department="48",
    sms_per_second=4.0,
    storm_seconds=6.0,
    server_down_seconds=2.0,
    lock_seconds=5.0,
    rounds=1,
)
FULL_SIZE = FaultSize(
    department="59",
    sms_per_second=30.0,
    storm_seconds=60.0,
    server_down_seconds=10.0,
    lock_seconds=40.0,
    rounds=3,
)


def fault_size() -> FaultSize:
    return FULL_SIZE if os.environ.get("TOCSIN_FAULT_SIZE") == "full" else CI_SIZE


@dataclass(frozen=True)
class Expected:
    sms: int
    email: int


@dataclass(frozen=True)
class ProviderMark:
    """Where the providers' records stood when a scenario began."""

    sms: int
    email: int


@dataclass(frozen=True)
class ServedFigures:
    """What the processes served to Prometheus over one scenario (counters as
    differences), beside what the providers and the database hold."""

    sms_sent: float
    sms_received: int
    sms_delivered: float
    email_sent: float
    email_received: int
    replies_routed: float
    open_exercises: float
    open_exercises_stored: int
    served: dict[str, set[str]]
    """Every metric served by any process, with its label names."""

    @property
    def settled(self) -> bool:
        return (
            self.sms_sent == self.sms_delivered == self.sms_received
            and self.email_sent == self.email_received
            and self.open_exercises == self.open_exercises_stored
        )


@dataclass
class FaultOutcome:
    """One run of a scenario, counted in a row of RELIABILITY.md."""

    scenario: str
    faults: int
    expected: int
    delivered: int
    duplicated: int
    lost: int
    stuck: int
    recovery_seconds: float
    emails_resent: int = 0
    """Extra copies of support-request emails (same Message-ID)."""
    email_lanes: int = 0
    """The department's email batches that may be in flight at once: a worker killed
    while they go out may leave one email of each with an unknown fate."""


def _environment(settings: Settings) -> dict[str, str]:
    """The environment that gives a worker process these same settings."""
    return {
        variable: value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        for name, variable in Settings.environment_names().items()
        if (value := getattr(settings, name)) is not None
    }


def _served(scrapes: Iterable[Samples]) -> dict[str, set[str]]:
    served: dict[str, set[str]] = {}
    for samples in scrapes:
        for name, labels in samples.labels().items():
            served.setdefault(name, set()).update(labels)
    return served


def _grown(before: dict[int, Samples], now: dict[int, Samples], name: str, **labels: str) -> float:
    """How much a counter grew, summed over the processes."""
    return sum(
        samples.total(name, **labels) - before.get(pid, Samples()).total(name, **labels)
        for pid, samples in now.items()
    )


class FaultStack:
    def __init__(self, state_dir: Path, size: FaultSize) -> None:
        self.size = size
        self.twilio_port = free_port()
        self.settings = Settings(
            state_dir=state_dir,
            temporal_port=free_port(),
            temporal_ui_port=free_port(),
            http_port=free_port(),
            twilio_account_sid=TWILIO_ACCOUNT_SID,
            twilio_auth_token=TWILIO_AUTH_TOKEN,
            twilio_from=SENDER,
            twilio_base_url=f"http://127.0.0.1:{self.twilio_port}",
            smtp_host="127.0.0.1",
            smtp_port=free_port(),
            sms_per_second=size.sms_per_second,
            link_secret=LINK_SECRET,
            log_format="json",
        )
        self.store = Store(self.settings.database_url)
        self.twilio = TwilioSandbox(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)
        self.twilio.base_url = self.settings.twilio_base_url
        self.mail = MailSandbox(self.settings.smtp_port)
        self.server = TemporalDevServer(self.settings)
        self.workers: list[asyncio.subprocess.Process] = []
        self.gateway: asyncio.subprocess.Process
        self.metrics_addresses: dict[int, str] = {}
        """Where each process (by pid) serves its metrics."""
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        assert self._client is not None, "the Temporal server is not started"
        return self._client

    @property
    def live_workers(self) -> list[asyncio.subprocess.Process]:
        return [process for process in self.workers if process.returncode is None]

    async def _start(self, command: str, log_name: str) -> asyncio.subprocess.Process:
        """``tocsin <command>`` with the stack's settings and metrics on a port of
        its own; its log is ``<log_name>.log`` in the state folder."""
        metrics_address = f"127.0.0.1:{free_port()}"
        environment = {**_environment(self.settings), "TOCSIN_METRICS_ADDRESS": metrics_address}
        with (self.settings.state_dir / f"{log_name}.log").open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                str(SCRIPTS / "tocsin"),
                command,
                env={**os.environ, **environment},
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log_file,
            )
        self.metrics_addresses[process.pid] = metrics_address
        return process

    async def start_worker(self) -> asyncio.subprocess.Process:
        """``tocsin worker``, once its log says it polls its queues. Counting the
        pollers instead (DescribeTaskQueue) missed, under load, those the server
        had on other partitions of the queues, and waited up to a minute for them."""
        name = f"worker-{len(self.workers) + 1}"
        process = await self._start("worker", name)
        self.workers.append(process)
        log = self.settings.state_dir / f"{name}.log"
        async with asyncio.timeout(WORKER_START_SECONDS):
            while '"worker.started"' not in await asyncio.to_thread(log.read_text):
                assert process.returncode is None, f"{name} exited: {log.read_text()[-2000:]}"
                await asyncio.sleep(0.2)
        return process

    async def start_gateway(self) -> asyncio.subprocess.Process:
        """``tocsin api``, once its health check answers."""
        process = await self._start("api", "gateway")
        await until_healthy(self.settings.gateway_url, process)
        return process

    async def stop_process(self, process: asyncio.subprocess.Process) -> None:
        """SIGTERM, as a deployment stops a process: a worker finishes what it runs first."""
        process.terminate()
        await process.wait()

    async def kill_worker(self, process: asyncio.subprocess.Process) -> None:
        """SIGKILL: no shutdown, activities in flight abandoned mid-call."""
        process.kill()
        await process.wait()

    async def restart_server(self, down_seconds: float) -> None:
        """The dev server stopped, then started again on the same database file."""
        await self.server.stop()
        await asyncio.sleep(down_seconds)
        await self.server.start()

    @asynccontextmanager
    async def smtp_outage(self, seconds: float) -> AsyncIterator[None]:
        """The SMTP server down for ``seconds`` from entry, while the body goes on
        (and may wait for the server's return)."""
        self.mail.stop()

        async def come_back() -> None:
            await asyncio.sleep(seconds)
            self.mail.start()

        back = asyncio.create_task(come_back())
        try:
            yield
        finally:
            await back

    async def lock_database(self, seconds: float) -> None:
        """Another program holds SQLite's write lock: every writer waits, then fails."""
        path = make_url(self.settings.database_url).database
        assert path is not None

        def hold() -> None:
            connection = sqlite3.connect(path, isolation_level=None)
            try:
                connection.execute("BEGIN EXCLUSIVE")
                time.sleep(seconds)
                connection.execute("ROLLBACK")
            finally:
                connection.close()

        await asyncio.to_thread(hold)

    async def scrape_all(self) -> dict[int, Samples]:
        """What each live process serves to Prometheus, by pid."""
        live = [process.pid for process in [*self.live_workers, self.gateway]]
        return {pid: await scrape(self.metrics_addresses[pid]) for pid in live}

    async def figures_settled(
        self, before: dict[int, Samples], since: ProviderMark
    ) -> ServedFigures:
        """The figures once they agree with the providers and the database (the last
        delivery receipts and the open-events gauge come a little later), or after
        30 s whatever they are."""
        deadline = time.monotonic() + 30
        while True:
            now = await self.scrape_all()
            grown = functools.partial(_grown, before, now)
            with self.store.session() as session:
                stored = events.open_event_counts(session).get(True, 0)
            figures = ServedFigures(
                sms_sent=grown("tocsin_messages_sent_total", channel="sms"),
                sms_received=len(self.twilio.messages) - since.sms,
                sms_delivered=grown("tocsin_messages_delivered_total", channel="sms"),
                email_sent=grown("tocsin_messages_sent_total", channel="email"),
                email_received=self.mail.received_count - since.email,
                replies_routed=grown("tocsin_replies_total", channel="sms", outcome="routed"),
                open_exercises=max(
                    samples.total("tocsin_open_events", exercise="true") for samples in now.values()
                ),
                open_exercises_stored=stored,
                served=_served(now.values()),
            )
            if figures.settled or time.monotonic() > deadline:
                return figures
            await asyncio.sleep(0.5)

    async def answer_every_centre(self, event_id: str) -> int:
        """Each centre's first recipient answers OK by SMS, through the gateway; the
        number of centres once all show as mobilised."""
        reads = MobilisationReads(self.client, self.store)
        public_url = self.settings.public_url
        async with httpx.AsyncClient(base_url=public_url, timeout=30) as http:
            phone = Phone(http, public_url)
            centres = [
                centre
                for department in await reads.departments(event_id)
                for centre in department.centres
            ]
            for centre in centres:
                sender = centre.recipients[0].phone
                assert sender is not None
                assert "bien reçue" in await phone.reply(sender, f"OK {centre.code}")
        async with asyncio.timeout(30):
            while True:
                states = {
                    centre.state
                    for department in await reads.departments(event_id)
                    for centre in department.centres
                }
                if states == {SupportState.MOBILISED}:
                    return len(centres)
                await asyncio.sleep(0.1)

    def mark(self) -> ProviderMark:
        return ProviderMark(sms=len(self.twilio.messages), email=self.mail.received_count)

    def expected_targets(self, department: str) -> list[SupportTarget]:
        """The centres the directory makes competent, with the people to ask."""
        rules = load_definitions().protocols[EVENT_TYPE].mobilisation
        return MobilisationTargetActivities(self.store).load_support_targets(
            TargetsRequest(
                department_code=department,
                declaration=self.declaration([department], "attendu"),
                ask_deputy=rules.ask_deputy,
            )
        )

    def expected(self, department: str) -> Expected:
        """The support requests the directory calls for, on each channel."""
        targets = self.expected_targets(department)
        people = [person for target in targets for person in target.recipients]
        return Expected(
            sms=sum(person.reachable_by_sms for person in people),
            email=sum(person.email is not None for person in people),
        )

    def support_requests(self, since: ProviderMark) -> Counter[str]:
        """Each distinct support request received since ``since``, with its copies:
        an SMS is its number and text (the text carries the centre's code), an
        email its Message-ID (the same for every attempt at one message)."""
        received: Counter[str] = Counter()
        for message in self.twilio.messages[since.sms :]:
            if SUPPORT_REQUEST_MARK in message.body:
                received[f"sms {message.to} {message.body}"] += 1
        for email in self.mail.received[since.email :]:
            if SUPPORT_REQUEST_MARK in str(email["Subject"]):
                received[f"email {email['Message-ID']}"] += 1
        return received

    @staticmethod
    def declaration(departments: list[str], title: str) -> EventDeclaration:
        return EventDeclaration(
            type=EVENT_TYPE, departments=departments, title=title, exercise=True
        )

    async def activate(self, departments: list[str], title: str) -> str:
        """The event declared, and the representative designated by staff at once."""
        client = self.client
        event_id = await event_control.activate(
            client, self.settings.task_queue, self.declaration(departments, title), "tests"
        )
        async with asyncio.timeout(60):
            while True:
                if (await event_control.status(client, event_id)).designation:
                    break
                await asyncio.sleep(0.1)
        change = RepresentativeChange(contact_id=REPRESENTATIVE, requested_by="tests")
        await event_control.change_representative(client, self.store, event_id, change)
        return event_id

    async def activity_starts(
        self, event_id: str, departments: list[str]
    ) -> list[ActivityTaskStartedEventAttributes]:
        """Each activity run of the event's and its departments' workflows: which
        worker (identity) ran it, at which attempt."""
        starts = []
        workflow_ids = [mobilisation_workflow_id(event_id, code) for code in departments]
        for workflow_id in [event_id, *workflow_ids]:
            history = await self.client.get_workflow_handle(workflow_id).fetch_history()
            starts += [
                event.activity_task_started_event_attributes
                for event in history.events
                if event.HasField("activity_task_started_event_attributes")
            ]
        return starts

    async def stuck_workflows(self, event_id: str, department: str) -> int:
        """The event's and the department's workflows that are not running freely:
        ended, waiting on an activity, or retrying a failing workflow task."""
        stuck = 0
        for workflow_id in (event_id, mobilisation_workflow_id(event_id, department)):
            description = await self.client.get_workflow_handle(workflow_id).describe()
            raw = description.raw_description
            failing_task = raw.HasField("pending_workflow_task") and (
                raw.pending_workflow_task.attempt > 1
            )
            if (
                description.status is not WorkflowExecutionStatus.RUNNING
                or raw.pending_activities
                or failing_task
            ):
                stuck += 1
        overview = await MobilisationReads(self.client, self.store).overview(event_id)
        if overview.total.requested < overview.total.centres:
            stuck += 1
        return stuck

    async def stand_down(self, event_id: str) -> None:
        request = CloseRequest(closed_by="tests", review=False)
        await event_control.close(self.client, event_id, request)

    async def settle(
        self, scenario: str, faults: int, event_id: str, since: ProviderMark, started: float
    ) -> FaultOutcome:
        """Waits until every support request has arrived and the workflows are idle
        (or the deadline passes), then counts."""
        department = self.size.department
        expected = self.expected(department)
        wanted = expected.sms + expected.email
        deadline = time.monotonic() + RECOVERY_DEADLINE_SECONDS
        while True:
            received = self.support_requests(since)
            try:
                stuck = await self.stuck_workflows(event_id, department)
            except RPCError:
                stuck = 2
            if (len(received) >= wanted and not stuck) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        emails = [copies for key, copies in received.items() if key.startswith("email ")]
        return FaultOutcome(
            scenario=scenario,
            faults=faults,
            expected=wanted,
            delivered=len(received),
            duplicated=sum(received.values()) - len(received),
            lost=max(wanted - len(received), 0),
            stuck=stuck,
            recovery_seconds=time.monotonic() - started,
            emails_resent=sum(emails) - len(emails),
            email_lanes=min(BATCHES_IN_FLIGHT, math.ceil(expected.email / BATCH_SIZE)),
        )

    async def strike_mid_sending(
        self,
        title: str,
        scenario: str,
        fault: Callable[[], Awaitable[object]],
        *,
        mid_emails: bool = False,
    ) -> tuple[str, FaultOutcome]:
        """Declares an event on the department, strikes once its first support
        request reaches a provider (``mid_emails``: its first email, the SMTP server
        answering each one late, so that the strike finds emails going out), and
        counts once everything has settled."""
        since = self.mark()
        if mid_emails:
            self.mail.answer_slowly(SLOW_SMTP_SECONDS)
        try:
            event_id = await self.activate([self.size.department], title)
            await self.until_sending(since, "email " if mid_emails else "")
            started = time.monotonic()
            await fault()
        finally:
            self.mail.answer_slowly(0.0)
        return event_id, await self.settle(scenario, 1, event_id, since, started)

    async def until_sending(self, since: ProviderMark, kind: str = "") -> None:
        """Until the first support request (of this kind, ``sms `` or ``email ``)
        reaches a provider: the faults strike in the middle of the sending."""
        async with asyncio.timeout(60):
            while True:
                if any(key.startswith(kind) for key in self.support_requests(since)):
                    break
                await asyncio.sleep(0.05)


@asynccontextmanager
async def running_fault_stack(state_dir: Path, size: FaultSize) -> AsyncIterator[FaultStack]:
    """Started with the demo directory and one worker; every part stopped at the end."""
    stack = FaultStack(state_dir, size)
    stack.store.upgrade()
    with stack.store.session() as session:
        replace_directory(session, demo_directory(load_territory()))
        session.commit()
    settings = stack.settings
    providers = AsgiServer(stack.twilio.app, "127.0.0.1", stack.twilio_port)
    serving_providers = await providers.start()
    stack.mail.start()
    stack._client = await stack.server.start()
    stack.gateway = await stack.start_gateway()
    await stack.start_worker()
    try:
        await until_polled(stack.client, settings.task_queue)
        yield stack
    finally:
        for process in [*stack.live_workers, stack.gateway]:
            await stack.stop_process(process)
        await stack.server.stop()
        stack.mail.stop()
        providers.stop()
        await serving_providers
        stack.store.dispose()


def write_reliability_report(
    path: Path, outcomes: list[FaultOutcome], size: FaultSize, centres: int
) -> None:
    """RELIABILITY.md, rewritten whole from this run's outcomes."""
    rows = []
    for scenario in dict.fromkeys(outcome.scenario for outcome in outcomes):
        runs = [outcome for outcome in outcomes if outcome.scenario == scenario]
        rows.append(
            f"| {scenario} | {len(runs)} | {sum(run.faults for run in runs)} "
            f"| {sum(run.expected for run in runs)} | {sum(run.delivered for run in runs)} "
            f"| {sum(run.duplicated for run in runs)} | {sum(run.lost for run in runs)} "
            f"| {sum(run.stuck for run in runs)} "
            f"| {sum(run.emails_resent for run in runs)} / {sum(run.email_lanes for run in runs)} "
            f"| {max(run.recovery_seconds for run in runs):.0f} s |"
        )
    lost = sum(outcome.lost for outcome in outcomes)
    stuck = sum(outcome.stuck for outcome in outcomes)
    machine = f"{platform.machine()}, {os.cpu_count()} cœurs, Python {platform.python_version()}"
    path.write_text(
        f"""# Reliability under faults

Written by `make faults` (part of `make reliability`) on
{datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({machine}): every figure below comes from
that run; do not edit by hand. `make test` runs the
same scenarios smaller (`tests/test_fault_injection.py`, marker `faults`).

Each run declares a flood in department {size.department} ({centres} centres in
the demo directory), lets the real Temporal dev server and a `tocsin worker`
process start sending the support requests at {size.sms_per_second:g} SMS/s, and
strikes:

- **worker killed**: the worker gets SIGKILL once the first support-request email
  reaches the SMTP server, which answers each email {SLOW_SMTP_SECONDS:g} s late, so
  that emails and SMS are going out; another worker is started at once;
- **Temporal restarted**: the dev server is stopped, left down
  {size.server_down_seconds:g} s, and started again on the same database file;
  afterwards every centre answers OK through the signed webhook;
- **provider storm and SMTP outage**: from the declaration on, the Twilio-compatible
  server answers every request 500 or 429 in turn for {size.storm_seconds:g} s,
  while the SMTP server is down as long;
- **database locked**: another program holds SQLite's write lock for
  {size.lock_seconds:g} s in the middle of the sending.

*Expected* counts the support requests (SMS and email) the directory calls for;
*delivered*, the distinct ones the providers received; *duplicated*, the extra
copies (an SMS is its number and text, an email its Message-ID); *lost*, those
expected and never received; *stuck*, the event's and the department's workflows
still ended, waiting on an activity or failing a task, or centres never asked, at
the end. *Faults* counts kills, restarts, refused provider requests (plus one for
the SMTP outage) and locks; sends are retried 2 s after a refusal, then twice as
late each time, so a storm meets few requests.
*Recovery* is the longest run's time from the fault
until every support request is received and the workflows are idle.
*Emails re-sent* counts the extra copies of emails over the sending lanes that
were in flight (each email is marked `sending` in the outbox just before it
leaves, so a killed worker leaves at most one email per lane whose fate is
unknown; the bound is asserted). No SMS is re-sent: the retry asks the provider.

| scenario | runs | faults | expected | delivered | duplicated | lost | stuck | emails re-sent \
/ lanes | recovery |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(rows)}

Across all injected faults: **{lost} lost, {stuck} stuck**.
"""
    )
