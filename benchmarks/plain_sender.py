"""The fastest a fire-and-forget script could hand a national activation's support
requests to the providers here: the same texts to the same recipients on the same
channels, with the same `twilio` client and SMTP library, as many at once as Tocsin's
worker sends them (SMS_THREADS SMS batches, EMAIL_BATCHES email batches, BATCH_SIZE
messages each), and nothing else: no workflow, no outbox, no delivery callback asked.

Run by benchmarks/national_activation.py in a process of its own, so that the CPU it
reports is its own and not the sandboxes' (they run in the benchmark's process, as
they do for Tocsin). Prints its figures as JSON.

    python -m benchmarks.plain_sender JOB.json
"""

import asyncio
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import aiosmtplib
from pydantic import BaseModel
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from activities.email import build_message
from definitions.contact_points import sender_domain
from definitions.outgoing import EmailRequest
from worker.temporal_workers import EMAIL_BATCHES, SMS_THREADS
from workflows.outreach import BATCH_SIZE

T = TypeVar("T")

TWILIO_TIMEOUT_SECONDS = 10.0
SMTP_TIMEOUT_SECONDS = 30.0
"""Tocsin's defaults (TwilioSettings, SmtpSettings)."""


class PlainSms(BaseModel):
    to: str
    body: str


class PlainJob(BaseModel):
    """The messages to send and where: written by the benchmark from Tocsin's outbox."""

    account_sid: str
    auth_token: str
    sender: str
    twilio_base_url: str
    smtp_host: str
    smtp_port: int
    mail_from: str
    sms: list[PlainSms]
    email: list[EmailRequest]


class PlainFigures(BaseModel):
    """Wall and CPU seconds from the first message sent to the last one accepted; the
    CPU is this process's (every thread), the reading of the job left out."""

    sms: int
    emails: int
    wall_s: float
    sms_wall_s: float
    email_wall_s: float
    cpu_s: float


def _batches(items: list[T]) -> list[list[T]]:
    return [items[start : start + BATCH_SIZE] for start in range(0, len(items), BATCH_SIZE)]


class PlainSender:
    def __init__(self, job: PlainJob) -> None:
        self._job = job
        self._local = threading.local()
        self._domain = sender_domain(job.mail_from)

    def _client(self) -> Client:
        """One Twilio client per thread, as Tocsin's SMS activities keep them."""
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            client = Client(
                self._job.account_sid,
                self._job.auth_token,
                http_client=TwilioHttpClient(timeout=TWILIO_TIMEOUT_SECONDS),
            )
            client.api.base_url = self._job.twilio_base_url
            self._local.client = client
        return client

    def _send_sms_batch(self, batch: list[PlainSms]) -> None:
        for sms in batch:
            self._client().messages.create(to=sms.to, body=sms.body, from_=self._job.sender)

    async def _send_email_batch(self, batch: list[EmailRequest], slots: asyncio.Semaphore) -> None:
        job = self._job
        async with (
            slots,
            aiosmtplib.SMTP(
                hostname=job.smtp_host,
                port=job.smtp_port,
                use_tls=False,
                start_tls=False,
                timeout=SMTP_TIMEOUT_SECONDS,
            ) as connection,
        ):
            for request in batch:
                await connection.send_message(build_message(request, job.mail_from, self._domain))

    async def send_all(self) -> PlainFigures:
        loop = asyncio.get_running_loop()
        slots = asyncio.Semaphore(EMAIL_BATCHES)
        with ThreadPoolExecutor(SMS_THREADS, thread_name_prefix="sms") as threads:
            started, cpu_started = time.perf_counter(), time.process_time()

            async def all_sms() -> float:
                batches = _batches(self._job.sms)
                await asyncio.gather(
                    *(loop.run_in_executor(threads, self._send_sms_batch, b) for b in batches)
                )
                return time.perf_counter()

            async def all_email() -> float:
                batches = _batches(self._job.email)
                await asyncio.gather(*(self._send_email_batch(b, slots) for b in batches))
                return time.perf_counter()

            sms_done, email_done = await asyncio.gather(all_sms(), all_email())
            cpu = time.process_time() - cpu_started
        return PlainFigures(
            sms=len(self._job.sms),
            emails=len(self._job.email),
            wall_s=max(sms_done, email_done) - started,
            sms_wall_s=sms_done - started,
            email_wall_s=email_done - started,
            cpu_s=cpu,
        )


def main(job_file: Path) -> None:
    job = PlainJob.model_validate_json(job_file.read_bytes())
    figures = asyncio.run(PlainSender(job).send_all())
    print(figures.model_dump_json(), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
