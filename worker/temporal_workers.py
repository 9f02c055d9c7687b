"""Temporal workers: workflows and most activities on the main task queue; SMS on
their own queue, whose server-side rate limit keeps a national activation within
what the provider accepts; email on a third, so that long batches of messages
never hold the slots of the short activities workflows wait on; a directory
verification campaign's SMS on a fourth, limited to a small share of that rate."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.briefing import BriefingActivities
from activities.centre_records import CentreRecordActivities
from activities.directory_verification import DirectoryVerificationActivities
from activities.email import EmailActivities, SmtpSettings
from activities.event_preparation import EventPreparationActivities
from activities.event_records import EventRecordActivities
from activities.guide_diffusion import GuideDiffusionActivities
from activities.mobilisation_targets import MobilisationTargetActivities
from activities.people import PeopleActivities
from activities.reply_codes import AnswerLinkSettings, ReplyCodeActivities
from activities.review_questionnaires import ReviewQuestionnaireActivities
from activities.review_report import ReviewReportActivities
from activities.sms import SmsActivities, TwilioSettings
from activities.voice import VoiceActivities, VoiceSettings
from definitions.directory_verification import VERIFICATION_BATCH, VERIFICATION_SHARE
from definitions.loader import Definitions
from definitions.temporal_names import (
    email_task_queue,
    sms_task_queue,
    verification_task_queue,
    voice_task_queue,
)
from definitions.territory import load_territory
from store.database import Store
from worker.settings import Settings
from workflows.after_action_review import AfterActionReviewWorkflow
from workflows.committee_liaison import CommitteeLiaisonWorkflow
from workflows.department_mobilisation import DepartmentMobilisationWorkflow
from workflows.directory_digest import DirectoryDigestWorkflow
from workflows.directory_verification import DirectoryVerificationWorkflow
from workflows.guide_diffusion import GuideDiffusionWorkflow
from workflows.major_event import MajorEventWorkflow
from workflows.representative_designation import RepresentativeDesignationWorkflow
from workflows.staff_notice import StaffNoticeWorkflow

ACTIVITY_THREADS = 16
SMS_THREADS = 8
VOICE_THREADS = 2
EMAIL_BATCHES = 16
"""Sent on the event loop, so a slot costs no thread."""
GRACEFUL_SHUTDOWN = timedelta(seconds=10)
CACHED_WORKFLOWS = 1000
"""Temporal's default: more than a national event's workflows, all kept warm."""


@dataclass(frozen=True)
class Messaging:
    twilio: TwilioSettings
    smtp: SmtpSettings
    sms_per_second: float
    answer_links: AnswerLinkSettings
    voice: VoiceSettings
    calls_per_second: float


def messaging_from(settings: Settings) -> Messaging:
    return Messaging(
        twilio=TwilioSettings(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            sender=settings.twilio_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            base_url=settings.twilio_base_url,
            status_callback=settings.public_url.rstrip("/") + "/webhooks/twilio/status",
        ),
        smtp=SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            mail_from=settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value(),
            tls=settings.smtp_tls.value,
        ),
        sms_per_second=settings.sms_per_second,
        answer_links=AnswerLinkSettings(
            secret=settings.answer_link_secret(), public_url=settings.public_url
        ),
        voice=VoiceSettings(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            sender=settings.twilio_voice_from or settings.twilio_from,
            public_url=settings.public_url,
            base_url=settings.twilio_base_url,
        ),
        calls_per_second=settings.calls_per_second,
    )


def build_workers(
    client: Client,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    *,
    cached_workflows: int = CACHED_WORKFLOWS,
) -> list[Worker]:
    """The main, SMS and email workers, as every deployment runs them. The
    territory (35,000 communes) is read here, before polling, so that the first
    event after a start does not wait for it."""
    load_territory()
    email = EmailActivities(store, messaging.smtp)
    guide = GuideDiffusionActivities(store, email, messaging.answer_links.public_url)
    links = messaging.answer_links
    verification = DirectoryVerificationActivities(store, email, links.secret, links.public_url)
    main = Worker(
        client,
        task_queue=task_queue,
        workflows=[
            MajorEventWorkflow,
            RepresentativeDesignationWorkflow,
            DepartmentMobilisationWorkflow,
            CommitteeLiaisonWorkflow,
            AfterActionReviewWorkflow,
            GuideDiffusionWorkflow,
            StaffNoticeWorkflow,
            DirectoryVerificationWorkflow,
            DirectoryDigestWorkflow,
        ],
        activities=[
            *EventRecordActivities(store).all,
            *CentreRecordActivities(store).all,
            *EventPreparationActivities(store, definitions, messaging.answer_links.public_url).all,
            *PeopleActivities(store).all,
            *ReplyCodeActivities(store, messaging.answer_links).all,
            *MobilisationTargetActivities(store).all,
            # Still taken here for messages scheduled before email had its own queue.
            *email.all,
            *BriefingActivities(store, email).all,
            *ReviewQuestionnaireActivities(store, messaging.answer_links).all,
            *ReviewReportActivities(store).all,
            guide.prepare_guide_edition,
            *verification.all,
        ],
        activity_executor=ThreadPoolExecutor(ACTIVITY_THREADS, thread_name_prefix="activity"),
        max_concurrent_activities=ACTIVITY_THREADS,
        max_cached_workflows=cached_workflows,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )
    sms = Worker(
        client,
        task_queue=sms_task_queue(task_queue),
        activities=SmsActivities(store, messaging.twilio, messaging.sms_per_second).all,
        activity_executor=ThreadPoolExecutor(SMS_THREADS, thread_name_prefix="sms"),
        max_concurrent_activities=SMS_THREADS,
        max_task_queue_activities_per_second=messaging.sms_per_second,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )
    campaign = Worker(
        client,
        task_queue=verification_task_queue(task_queue),
        activities=SmsActivities(store, messaging.twilio, messaging.sms_per_second).all,
        activity_executor=ThreadPoolExecutor(1, thread_name_prefix="verification"),
        max_concurrent_activities=1,
        max_task_queue_activities_per_second=(
            messaging.sms_per_second * VERIFICATION_SHARE / VERIFICATION_BATCH
        ),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )
    mail = Worker(
        client,
        task_queue=email_task_queue(task_queue),
        activities=[
            *email.all,
            guide.send_guide_batch,
            verification.report_silent_organisations,
            verification.send_directory_digest,
        ],
        max_concurrent_activities=EMAIL_BATCHES,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )
    voice = Worker(
        client,
        task_queue=voice_task_queue(task_queue),
        activities=VoiceActivities(store, messaging.voice).all,
        activity_executor=ThreadPoolExecutor(VOICE_THREADS, thread_name_prefix="voice"),
        max_concurrent_activities=VOICE_THREADS,
        max_task_queue_activities_per_second=messaging.calls_per_second,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )
    return [main, sms, mail, campaign, voice]


async def shut_down(workers: list[Worker]) -> None:
    """All at once: each waits up to GRACEFUL_SHUTDOWN for its running activities,
    and one after the other they would outlast the 30 s a container has to stop."""

    async def one(worker: Worker) -> None:
        with contextlib.suppress(RuntimeError):
            await worker.shutdown()

    await asyncio.gather(*(one(worker) for worker in workers))


@asynccontextmanager
async def running_workers(
    client: Client,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    *,
    cached_workflows: int = CACHED_WORKFLOWS,
) -> AsyncIterator[list[Worker]]:
    """Both workers polling for the length of the block (tests, benchmarks). With no
    workflow cached, every workflow task replays its history from the start."""
    async with AsyncExitStack() as stack:
        workers = build_workers(
            client, store, task_queue, definitions, messaging, cached_workflows=cached_workflows
        )
        for worker in workers:
            await stack.enter_async_context(worker)
        try:
            yield workers
        finally:
            await shut_down(workers)
