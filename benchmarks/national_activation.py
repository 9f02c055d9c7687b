"""A national activation, measured: every CCAS/CIAS of the demo directory asked for
support, and answering OK through the signed Twilio webhook as a phone would.

Runs the real Temporal dev server, `tocsin worker` and `tocsin api` (the gateway) as
separate processes, as they are deployed, and in this process what stands for the
world outside: the local Twilio-compatible server, the SMTP server and the phones.
Prints figures (see BENCHMARKS.md); asserts nothing.

    .venv/bin/python -m benchmarks.national_activation
    .venv/bin/python -m benchmarks.national_activation --departments 59,62 national
"""

import argparse
import asyncio
import contextlib
import os
import platform
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text
from temporalio.client import Client
from twilio.request_validator import RequestValidator

from activities.mobilisation_targets import MobilisationTargetActivities
from benchmarks.plain_sender import PlainFigures, PlainJob, PlainSms
from definitions.accounts import AccountRequest, Role
from definitions.designation import RepresentativeChange
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.mobilisation import CentreSupport, SupportState, TargetsRequest
from definitions.outgoing import EmailRequest, OutboxStatus
from definitions.territory import load_territory
from operations import event_control
from operations.mobilisation_reads import MobilisationReads
from store import accounts
from store.database import Store
from store.directory import replace_directory
from worker.asgi_server import AsgiServer
from worker.demo_directory import demo_directory
from worker.dev_server import TemporalDevServer
from worker.gateway_readiness import until_healthy
from worker.logging import configure_logging
from worker.ports import free_port
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import TwilioSandbox
from worker.settings import Settings
from worker.task_queue_pollers import until_polled

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "benchmark-auth-token"
SENDER = "+33639989999"
REPRESENTATIVE = "unccas-representant-1"
UNLIMITED = 1_000_000.0
LIMITED = 30.0
ANSWER_PACES = (10.0, 20.0)
"""The first half of the centres answers at 10 a second, the other half at 20: the
faster pace comes second, once the hand-over's delivery callbacks have been taken."""
REPLY_ORDER_SEED = 6
STALL_SECONDS = 120.0
CLIENT_KEEPALIVE_SECONDS = 2.0
"""Below the gateway's 5 s: a connection the gateway is closing is not reused (a
status read failed with ReadError when both sides timed out together)."""
EXIT_SECONDS = 15.0
"""A worker sometimes never exits on SIGTERM (the no-op one has a task that ignores
cancellation at shutdown; `tocsin worker` once took longer too): its stage's figures
were printed by then, so it is killed."""
LOG_LINES_SHOWN = 5
STATUS_POLL_FIRST_SECONDS = 0.01
STATUS_POLL_MAX_SECONDS = 0.025
"""Each answer's status is read again after 10 ms, then half as long again each time
up to 25 ms: precise while answers show fast, without flooding a loaded gateway
(polling every 10 ms until seen made the readers most of the load they measured).
A figure is late by at most its last interval: with 100 ms, an answer shown after
210 ms was counted at about 308, so the p99 told more of the polling than of Tocsin
where the target lies."""
STATUS_READERS = 4
"""At most four status reads at once, as a few consoles and scripts would make them:
when the gateway slows, the reads wait their turn instead of piling up on it (with a
hundred at once, a slow start had every waiting phone read every 25 ms, and the reads
became most of the load they measured). A semaphore, not httpx's pool: four pooled
connections made the thousands of queued reads cost the benchmark's process more CPU
than everything else (httpx walks its queue at every release)."""
PACE_LOOP = 5_000_000
SUPPORT_REQUEST_MARK = "votre centre est-il mobilis"
NATIONAL = EventDeclaration(
    type=EventType.INONDATION,
    departments=sorted(load_territory().departments),
    title="Exercice national de mobilisation",
    exercise=True,
)
RATE_AREA = NATIONAL.model_copy(update={"departments": ["59", "62"]})
CPU_GOAL = 2.0
WALL_GOAL = 1.3
REPLY_P99_GOAL_MS = 250.0
FIRST_SMS_GOAL_S = 1.0
MEMORY_GOAL_MIB = 500.0


def _peak_mb(pid: int | None) -> float:
    """Peak resident memory of a process (VmHWM), in MB."""
    if pid is None:
        return float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int | None) -> float:
    """User and system CPU time a process has used so far, in seconds."""
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_used(phase: str, before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {f"{phase}_cpu_{name}_s": after[name] - before[name] for name in before}


@dataclass(frozen=True)
class Pace:
    """A fixed loop of Python: its CPU seconds (this VM's speed drifts by half from
    one hour to the next), its wall seconds and the load average (what else runs on
    the two cores takes its share). Runs are compared only at a like pace."""

    cpu_s: float
    wall_s: float
    load: float

    def __str__(self) -> str:
        return f"{self.cpu_s:.3f} s (wall {self.wall_s:.3f} s, load average {self.load:.1f})"


def _machine_pace() -> Pace:
    started, cpu_started = time.perf_counter(), time.process_time()
    total = 0
    for number in range(PACE_LOOP):
        total += number % 7
    cpu = time.process_time() - cpu_started
    return Pace(cpu, time.perf_counter() - started, os.getloadavg()[0])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def expected_centres(store: Store, declaration: EventDeclaration) -> int:
    """How many centres the departments will hold, computed the way they do."""
    targets = MobilisationTargetActivities(store)
    return sum(
        len(
            targets.load_support_targets(
                TargetsRequest(department_code=code, declaration=declaration, ask_deputy=False)
            )
        )
        for code in declaration.departments
    )


@dataclass
class Stack:
    settings: Settings
    store: Store
    client: Client
    server: TemporalDevServer
    worker: asyncio.subprocess.Process
    gateway: asyncio.subprocess.Process
    twilio: TwilioSandbox
    mail: MailSandbox
    http: httpx.AsyncClient
    reading: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(STATUS_READERS))
    event_id: str = ""

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of the worker, the Temporal server, the gateway and this
        process (provider sandboxes and the benchmark's own clients)."""
        return {
            "worker": _cpu_seconds(self.worker.pid),
            "server": _cpu_seconds(self.server.pid),
            "gateway": _cpu_seconds(self.gateway.pid),
            "benchmark": _cpu_seconds(os.getpid()),
        }

    async def reply(self, sender: str, body: str) -> None:
        """As Twilio does, a webhook whose connection failed is sent again with the
        same MessageSid (a kept-alive connection may close as it is reused)."""
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": sender, "To": SENDER, "Body": body}
        path = "/webhooks/twilio/sms"
        signature = RequestValidator(AUTH_TOKEN).compute_signature(
            self.settings.public_url + path, params
        )
        headers = {"X-Twilio-Signature": signature}
        try:
            response = await self.http.post(path, data=params, headers=headers)
        except httpx.TransportError:
            response = await self.http.post(path, data=params, headers=headers)
        response.raise_for_status()


TOCSIN = ["-c", "from cli.main import main; main()"]


async def _started(arguments: list[str], log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable, *arguments, stdout=asyncio.subprocess.DEVNULL, stderr=output
        )


async def _stopped(process: asyncio.subprocess.Process, name: str, log: Path) -> None:
    """SIGTERM, as a container is stopped; one still running after EXIT_SECONDS is
    named, with the end of its log (which goes with the temporary folder)."""
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), EXIT_SECONDS)
    except TimeoutError:
        print(f"  the {name} was still running {EXIT_SECONDS:.0f} s after SIGTERM; killed")
        text = await asyncio.to_thread(log.read_text, errors="replace")
        for line in text.splitlines()[-LOG_LINES_SHOWN:]:
            print(f"    {line[:200]}")
        process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def running_stack(
    state_dir: Path, sms_per_second: float, noop: bool, declaration: EventDeclaration = NATIONAL
) -> AsyncIterator[Stack]:
    twilio_port, smtp_port, http_port = free_port(), free_port(), free_port()
    environment = {
        "TOCSIN_STATE_DIR": str(state_dir),
        "TOCSIN_TEMPORAL_PORT": str(free_port()),
        "TOCSIN_TEMPORAL_UI_PORT": str(free_port()),
        "TOCSIN_HTTP_PORT": str(http_port),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TOCSIN_TWILIO_FROM": SENDER,
        "TOCSIN_TWILIO_BASE_URL": f"http://127.0.0.1:{twilio_port}",
        "TOCSIN_SMTP_HOST": "127.0.0.1",
        "TOCSIN_SMTP_PORT": str(smtp_port),
        "TOCSIN_SMS_PER_SECOND": str(sms_per_second),
        "TOCSIN_LINK_SECRET": "benchmark-link-secret",
        "TOCSIN_LOG_LEVEL": "WARNING",
    }
    os.environ.update(environment)
    settings = Settings()
    store = Store(settings.database_url)
    store.upgrade()
    with store.session() as session:
        replace_directory(session, demo_directory(load_territory()))
        session.commit()
    twilio = TwilioSandbox(ACCOUNT_SID, AUTH_TOKEN)
    twilio.base_url = environment["TOCSIN_TWILIO_BASE_URL"]
    twilio_server = AsgiServer(twilio.app, "127.0.0.1", twilio_port)
    twilio_serving = await twilio_server.start()
    mail = MailSandbox(smtp_port)
    mail.start()
    server = TemporalDevServer(settings)
    client = await server.start()
    worker_command = (
        ["-m", "benchmarks.noop_worker", declaration.model_dump_json()]
        if noop
        else [*TOCSIN, "worker"]
    )
    worker = await _started(worker_command, state_dir / "worker.log")
    gateway = await _started([*TOCSIN, "api"], state_dir / "gateway.log")
    await until_healthy(settings.public_url, gateway)
    await until_polled(client, settings.task_queue)
    try:
        async with httpx.AsyncClient(
            base_url=settings.public_url,
            timeout=30,
            headers=_reader_token(store),
            limits=httpx.Limits(keepalive_expiry=CLIENT_KEEPALIVE_SECONDS),
        ) as http:
            yield Stack(settings, store, client, server, worker, gateway, twilio, mail, http)
    finally:
        await _stopped(gateway, "gateway", state_dir / "gateway.log")
        await _stopped(worker, "worker", state_dir / "worker.log")
        await server.stop()
        mail.stop()
        twilio_server.stop()
        await twilio_serving
        store.dispose()


def _reader_token(store: Store) -> dict[str, str]:
    """The status is read as a script would: with a staff account's API token."""
    now = datetime.now(UTC)
    request = AccountRequest(
        login="benchmark", name="benchmark", role=Role.STAFF, password=secrets.token_hex(16)
    )
    with store.session() as session:
        accounts.create_account(session, request, now)
        token, _ = accounts.create_token(session, request.login, "benchmark", now)
        session.commit()
    return {"Authorization": f"Bearer {token}"}


async def _activate(stack: Stack, declaration: EventDeclaration) -> tuple[str, datetime, datetime]:
    """Declares the event and designates the representative by hand; gives the
    event id, the declaration time and the designation time."""
    declared = datetime.now(UTC)
    event_id = await event_control.activate(
        stack.client, stack.settings.task_queue, declaration, "benchmark"
    )
    stack.event_id = event_id
    for _ in range(600):
        if (await event_control.status(stack.client, event_id)).designation:
            break
        await asyncio.sleep(0.05)
    change = RepresentativeChange(contact_id=REPRESENTATIVE, requested_by="benchmark")
    status = await event_control.change_representative(stack.client, stack.store, event_id, change)
    assert status.representative is not None
    return event_id, declared, status.representative.designated_at


def _handed_over(store: Store) -> dict[str, int]:
    """Support requests the providers hold on each channel, read from the outbox."""
    left = [status.value for status in OutboxStatus if status.left]
    query = text(
        "SELECT channel, COUNT(*) FROM outbox WHERE step = 'support_request' "
        f"AND status IN ({', '.join(repr(value) for value in left)}) GROUP BY channel"
    )
    with store.session() as session:
        counts = dict(session.execute(query).all())
    return {channel: counts.get(channel, 0) for channel in ("sms", "email")}


async def _all_handed_over(stack: Stack, expected: int, noop: bool) -> dict[str, datetime]:
    """When every support request is with the providers, on each channel and on
    all (the outbox says so); the no-op baseline has no outbox, so its departments
    are asked. A run that stops progressing ends with the worker's log."""
    progress = (0, time.monotonic())
    finished: dict[str, datetime] = {}
    while True:
        try:
            counts = await asyncio.wait_for(_requested(stack, noop), STALL_SECONDS)
        except TimeoutError:
            counts = {"all": progress[0]}
        for channel, count in counts.items():
            if count >= expected:
                finished.setdefault(channel, datetime.now(UTC))
        done = min(counts.values())
        if done >= expected:
            return finished | {"all": datetime.now(UTC)}
        if done > progress[0]:
            progress = (done, time.monotonic())
        elif time.monotonic() - progress[1] > STALL_SECONDS:
            log = (stack.settings.state_dir / "worker.log").read_text(errors="replace")
            raise RuntimeError(f"stalled at {done}/{expected}; worker's log:\n{log[-3000:]}")
        await asyncio.sleep(1 if noop else 0.5)


async def _requested(stack: Stack, noop: bool) -> dict[str, int]:
    if noop:
        overview = await MobilisationReads(stack.client, stack.store).overview(stack.event_id)
        return {"all": overview.total.requested}
    return await asyncio.to_thread(_handed_over, stack.store)


@dataclass
class Answers:
    """Seconds until the gateway acknowledged each answer, and until its API showed
    the centre mobilised, for the answers sent at one pace."""

    per_second: float
    acknowledged: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        pace = f"{self.per_second:g}_per_s"
        return {
            f"replies_{pace}": len(self.latencies),
            f"reply_{pace}_p50_ms": 1000 * statistics.median(self.latencies),
            f"reply_{pace}_p99_ms": 1000 * _percentile(self.latencies, 0.99),
            f"acknowledged_{pace}_p50_ms": 1000 * statistics.median(self.acknowledged),
            f"acknowledged_{pace}_p99_ms": 1000 * _percentile(self.acknowledged, 0.99),
        }


async def _answer_all(stack: Stack, event_id: str) -> tuple[list[Answers], int]:
    """OK from every centre through the webhook, in a random order, a share of the
    centres at each of ANSWER_PACES in turn; the answers' times at each pace, and how
    many status reads they took."""
    departments = await MobilisationReads(stack.client, stack.store).departments(event_id)
    centres = [(d.department_code, c) for d in departments for c in d.centres]
    random.Random(REPLY_ORDER_SEED).shuffle(centres)
    reads = 0

    async def answer(department: str, centre: CentreSupport, delay: float, into: Answers) -> None:
        phone = centre.recipients[0].phone
        assert phone is not None
        path = f"/api/events/{event_id}/mobilisation/{department}/centres/{centre.organisation_id}"
        await asyncio.sleep(delay)
        started = time.perf_counter()
        await stack.reply(phone, f"OK {centre.code}")
        into.acknowledged.append(time.perf_counter() - started)
        interval = STATUS_POLL_FIRST_SECONDS
        nonlocal reads
        while True:
            reads += 1
            async with stack.reading:
                response = await stack.http.get(path)
            response.raise_for_status()
            seen = CentreSupport.model_validate_json(response.content)
            if seen.state is SupportState.MOBILISED:
                break
            await asyncio.sleep(interval)
            interval = min(1.5 * interval, STATUS_POLL_MAX_SECONDS)
        into.latencies.append(time.perf_counter() - started)

    share = -(-len(centres) // len(ANSWER_PACES))
    paces: list[Answers] = []
    answering = []
    start = 0.0
    for index, per_second in enumerate(ANSWER_PACES):
        paces.append(answers := Answers(per_second))
        chunk = centres[index * share : (index + 1) * share]
        answering += [
            answer(department, centre, start + order / per_second, answers)
            for order, (department, centre) in enumerate(chunk)
        ]
        start += len(chunk) / per_second
    await asyncio.gather(*answering)
    return paces, reads


def _support_requests(store: Store) -> tuple[list[PlainSms], list[EmailRequest]]:
    """The support requests the providers hold, as the outbox has them: the plain
    sender sends them again."""
    left = [status.value for status in OutboxStatus if status.left]
    query = text(
        "SELECT idempotency_key, event_id, channel, recipient, subject, body FROM outbox "
        "WHERE step = 'support_request' "
        f"AND status IN ({', '.join(repr(value) for value in left)}) ORDER BY id"
    )
    sms: list[PlainSms] = []
    email: list[EmailRequest] = []
    with store.session() as session:
        for key, event_id, channel, recipient, subject, body in session.execute(query):
            if channel == "sms":
                sms.append(PlainSms(to=recipient, body=body))
            else:
                email.append(
                    EmailRequest(
                        key=key,
                        event_id=event_id,
                        step="support_request",
                        to=recipient,
                        subject=subject,
                        text=body,
                    )
                )
    return sms, email


@dataclass
class NationalRun:
    figures: dict[str, float]
    sms: list[PlainSms] = field(default_factory=list)
    email: list[EmailRequest] = field(default_factory=list)


async def national(
    state_dir: Path, declaration: EventDeclaration, expected: int, noop: bool
) -> NationalRun:
    async with running_stack(state_dir, UNLIMITED, noop, declaration) as stack:
        declared_cpu = stack.cpu()
        event_id, declared, designated = await _activate(stack, declaration)
        done = await _all_handed_over(stack, expected, noop)
        figures = {
            f"handed_over{'' if part == 'all' else '_' + part}_s": (at - designated).total_seconds()
            for part, at in done.items()
        }
        figures |= _cpu_used("handover", declared_cpu, stack.cpu())
        if noop:
            return NationalRun(figures)
        sms, email = await asyncio.to_thread(_support_requests, stack.store)
        first_sms = stack.twilio.messages[0].date_created
        support = [m for m in stack.twilio.messages if SUPPORT_REQUEST_MARK in m.body]
        figures |= {
            "first_sms_s": (first_sms - declared).total_seconds(),
            "first_support_sms_s": (support[0].date_created - designated).total_seconds(),
            "last_support_sms_s": (support[-1].date_created - designated).total_seconds(),
            "support_sms": len(support),
            "support_requests_sms": len(sms),
            "support_requests_email": len(email),
            "emails": stack.mail.received_count,
        }
        print(f"  handed over: {figures}", flush=True)
        pace = _machine_pace()
        figures |= {
            "pace_before_answers_s": pace.cpu_s,
            "pace_before_answers_wall_s": pace.wall_s,
            "load_before_answers": pace.load,
        }
        answering_cpu = stack.cpu()
        paces, reads = await _answer_all(stack, event_id)
        figures |= _cpu_used("replies", answering_cpu, stack.cpu())
        for answers in paces:
            figures |= answers.figures()
        figures |= {
            "status_reads": reads,
            "worker_peak_mib": _peak_mb(stack.worker.pid),
            "server_peak_mib": _peak_mb(stack.server.pid),
            "gateway_peak_mib": _peak_mb(stack.gateway.pid),
        }
        return NationalRun(figures, sms, email)


class PlainSenderError(RuntimeError):
    pass


def _written(state_dir: Path, job: PlainJob) -> Path:
    state_dir.mkdir()
    job_file = state_dir / "job.json"
    job_file.write_text(job.model_dump_json())
    return job_file


async def plain(
    state_dir: Path, sms: list[PlainSms], email: list[EmailRequest]
) -> dict[str, float]:
    """The same support requests sent by benchmarks/plain_sender.py, in a process of
    its own, to new sandboxes of the same kinds running here as they did for Tocsin."""
    twilio_port, smtp_port = free_port(), free_port()
    twilio = TwilioSandbox(ACCOUNT_SID, AUTH_TOKEN)
    twilio.base_url = f"http://127.0.0.1:{twilio_port}"
    twilio_server = AsgiServer(twilio.app, "127.0.0.1", twilio_port)
    twilio_serving = await twilio_server.start()
    mail = MailSandbox(smtp_port)
    mail.start()
    job = PlainJob(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        sender=SENDER,
        twilio_base_url=twilio.base_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        mail_from=Settings().mail_from,
        sms=sms,
        email=email,
    )
    job_file, log = _written(state_dir, job), state_dir / "plain_sender.log"
    try:
        before = _cpu_seconds(os.getpid())
        with log.open("wb") as errors:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks.plain_sender",
                str(job_file),
                stdout=asyncio.subprocess.PIPE,
                stderr=errors,
            )
            output, _ = await process.communicate()
        benchmark_cpu = _cpu_seconds(os.getpid()) - before
    finally:
        mail.stop()
        twilio_server.stop()
        await twilio_serving
    if process.returncode != 0:
        raise PlainSenderError(log.read_text(errors="replace")[-3000:])
    figures = PlainFigures.model_validate_json(output)
    return figures.model_dump() | {
        "cpu_benchmark_s": benchmark_cpu,
        "sms_at_provider": len(twilio.messages),
        "emails_at_provider": mail.received_count,
    }


def ratios(real: dict[str, float], plain: dict[str, float]) -> dict[str, float]:
    """Issue 34's ratios, from one run: Tocsin's CPU (worker, Temporal server and
    gateway, declaration to hand-over) over the plain sender's for the same support
    requests, and the hand-over's wall time over the plain sender's."""
    messages = plain["sms"] + plain["emails"]
    tocsin_cpu = sum(real[f"handover_cpu_{name}_s"] for name in ("worker", "server", "gateway"))
    return {
        "messages": messages,
        "tocsin_cpu_ms_per_message": 1000 * tocsin_cpu / messages,
        "plain_cpu_ms_per_message": 1000 * plain["cpu_s"] / messages,
        "cpu_ratio": tocsin_cpu / plain["cpu_s"],
        "wall_ratio": real["handed_over_s"] / plain["wall_s"],
        "worker_gateway_peak_mib": real["worker_peak_mib"] + real["gateway_peak_mib"],
    }


def _print_ratios(real: dict[str, float], plain: dict[str, float]) -> None:
    measured = ratios(real, plain)
    print("ratios, from this run (goals of issue 34):")
    print(
        f"  CPU per support request ({measured['messages']:g}): Tocsin "
        f"{measured['tocsin_cpu_ms_per_message']:.2f} ms (worker + server + gateway), "
        f"plain sender {measured['plain_cpu_ms_per_message']:.2f} ms: "
        f"ratio {measured['cpu_ratio']:.2f} (goal <= {CPU_GOAL:g})"
    )
    print(
        f"  hand-over: Tocsin {real['handed_over_s']:.1f} s, plain sender "
        f"{plain['wall_s']:.1f} s: ratio {measured['wall_ratio']:.2f} (goal <= {WALL_GOAL:g})"
    )
    for per_second in ANSWER_PACES:
        rate = f"{per_second:g}_per_s"
        print(
            f"  OK -> API shows it at {per_second:g} answers/s: p50 "
            f"{real[f'reply_{rate}_p50_ms']:.1f} ms, p99 {real[f'reply_{rate}_p99_ms']:.1f} ms "
            f"(goal p99 <= {REPLY_P99_GOAL_MS:g} ms at 20/s)"
        )
    pace = Pace(
        real["pace_before_answers_s"],
        real["pace_before_answers_wall_s"],
        real["load_before_answers"],
    )
    print(f"  machine pace before the answers: {pace}")
    print(
        f"  declaration -> first SMS: {real['first_sms_s']:.2f} s (goal <= {FIRST_SMS_GOAL_S:g} s)"
    )
    print(
        f"  peak memory: worker {real['worker_peak_mib']:.0f} + gateway "
        f"{real['gateway_peak_mib']:.0f} = {measured['worker_gateway_peak_mib']:.0f} MiB "
        f"(goal < {MEMORY_GOAL_MIB:g}), Temporal server {real['server_peak_mib']:.0f} MiB"
    )


async def limited_rate(state_dir: Path) -> dict[str, float]:
    async with running_stack(state_dir, LIMITED, noop=False) as stack:
        await _activate(stack, RATE_AREA)
        expected = expected_centres(stack.store, RATE_AREA)
        await _all_handed_over(stack, expected, noop=False)
        stamps = [m.date_created for m in stack.twilio.messages if SUPPORT_REQUEST_MARK in m.body]
        span = (stamps[-1] - stamps[0]).total_seconds()
        rate = (len(stamps) - 1) / span
        return {"sms": len(stamps), "seconds": span, "rate_per_s": rate, "target": LIMITED}


STAGES = ("national", "noop", "rate")


def _print_figures(title: str, figures: dict[str, float]) -> None:
    print(f"{title}:")
    for name, value in figures.items():
        print(f"  {name}: {value:.3f}" if isinstance(value, float) else f"  {name}: {value}")
    print(f"  machine pace afterwards: {_machine_pace()}", flush=True)


async def main(stages: list[str], declaration: EventDeclaration) -> None:
    configure_logging(level="WARNING")
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as folder:
        root = Path(folder)
        probe = Store(f"sqlite:///{root / 'probe.db'}")
        probe.upgrade()
        with probe.session() as session:
            replace_directory(session, demo_directory(load_territory()))
            session.commit()
        expected = expected_centres(probe, declaration)
        probe.dispose()
        print(
            f"machine: {platform.platform()}, {os.cpu_count()} CPU, Python {sys.version.split()[0]}"
        )
        print(f"centres to mobilise: {expected} in {len(declaration.departments)} departments")
        print(f"machine pace (lower is faster): {_machine_pace()}", flush=True)
        handed_over: dict[str, float] = {}
        if "national" in stages:
            real = await national(root / "real", declaration, expected, noop=False)
            _print_figures("national activation, provider unthrottled", real.figures)
            handed_over["real"] = real.figures["handed_over_s"]
            baseline = await plain(root / "plain", real.sms, real.email)
            _print_figures("plain sender, the same support requests", baseline)
            _print_ratios(real.figures, baseline)
        if "noop" in stages:
            noop = await national(root / "noop", declaration, expected, noop=True)
            _print_figures("no-op baseline", noop.figures)
            handed_over["noop"] = noop.figures["handed_over_s"]
        if len(handed_over) == 2:
            print(f"ratio real / no-op: {handed_over['real'] / handed_over['noop']:.2f}")
        if "rate" in stages:
            rate = await limited_rate(root / "rate")
            drift = 100 * (rate["rate_per_s"] / LIMITED - 1)
            print(
                f"provider limited to {LIMITED:g} SMS/s: {rate['sms']:g} SMS in "
                f"{rate['seconds']:.2f} s, measured {rate['rate_per_s']:.2f}/s ({drift:+.1f} %)"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A national activation, measured.")
    parser.add_argument("stages", nargs="*", metavar="STAGE", help=f"among {STAGES}; default: all")
    parser.add_argument(
        "--departments",
        help="comma-separated department codes instead of all (a smaller run while developing)",
    )
    arguments = parser.parse_args()
    chosen = arguments.stages or list(STAGES)
    if unknown := set(chosen) - set(STAGES):
        parser.error(f"unknown stage(s): {', '.join(sorted(unknown))}")
    area = NATIONAL
    if arguments.departments:
        area = NATIONAL.model_copy(update={"departments": arguments.departments.split(",")})
    asyncio.run(main(chosen, area))
