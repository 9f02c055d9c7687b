"""A directory verification campaign: every organisation asked (SMS with an
``OK 1234`` code, email with its self-service link) in small batches on a queue
of its own, rate-limited to a share of the provider; one reminder to those still
silent; at the end each UD gets the list of its silent organisations. Sending
waits while a real event is mobilising. Who confirmed lives in the store (the
page writes there directly), so the workflow holds only the plan."""

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.awaited_replies import ReplyReceived
    from definitions.directory_verification import (
        LIVE_EVENT_CHECK,
        VERIFICATION_BATCH,
        VerificationAnswer,
        VerificationBatch,
        VerificationPlan,
        VerificationProgress,
        VerificationStart,
        campaign_of,
    )
    from definitions.temporal_names import (
        DIRECTORY_VERIFICATION_WORKFLOW,
        REPLY_SIGNAL,
        VERIFICATION_PROGRESS_QUERY,
        email_task_queue,
        verification_task_queue,
    )
    from workflows.outreach import BATCH_HEARTBEAT, BATCH_TIMEOUT, GIVE_UP_AFTER, SEND_RETRY
    from workflows.store_calls import call_store, close_all_reply_codes

SEEN_REPLIES = 500


@workflow.defn(name=DIRECTORY_VERIFICATION_WORKFLOW)
class DirectoryVerificationWorkflow:
    def __init__(self) -> None:
        self._progress = VerificationProgress(campaign_id="")
        self._answers: list[ReplyReceived] = []
        self._seen: list[str] = []

    @workflow.signal(name=REPLY_SIGNAL)
    def reply(self, received: ReplyReceived) -> None:
        """An ``OK 1234`` routed by the gateway; a webhook retried is taken once."""
        if received.message_sid in self._seen:
            return
        self._seen = [*self._seen[-SEEN_REPLIES:], received.message_sid]
        self._answers.append(received)

    @workflow.query(name=VERIFICATION_PROGRESS_QUERY)
    def progress(self) -> VerificationProgress:
        return self._progress

    @workflow.run
    async def run(self, start: VerificationStart) -> VerificationProgress:
        if not start.campaign_id:
            start = start.model_copy(
                update={"campaign_id": campaign_of(workflow.info().workflow_id)}
            )
        self._progress = VerificationProgress(campaign_id=start.campaign_id)
        plan = await call_store(stubs.plan_verification, start)
        self._progress.organisations = len(plan.organisations)
        begun = workflow.now()
        await self._send(start, plan, reminder=False)
        await self._answers_until(begun + start.reminder_after)
        await self._send(start, plan, reminder=True)
        await self._answers_until(begun + start.silent_after)
        report = await workflow.execute_activity(
            stubs.report_silent_organisations,
            start.campaign_id,
            start_to_close_timeout=BATCH_TIMEOUT,
            heartbeat_timeout=BATCH_HEARTBEAT,
            retry_policy=SEND_RETRY,
            task_queue=email_task_queue(workflow.info().task_queue),
        )
        await self._record_answers()
        await close_all_reply_codes()
        self._progress.silent = report.silent
        self._progress.finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._progress

    async def _send(self, start: VerificationStart, plan: VerificationPlan, reminder: bool) -> None:
        for offset in range(0, len(plan.organisations), VERIFICATION_BATCH):
            await self._wait_for_quiet()
            batch = VerificationBatch(
                campaign_id=start.campaign_id,
                organisations=plan.organisations[offset : offset + VERIFICATION_BATCH],
                reminder=reminder,
                links_valid_until=plan.links_valid_until,
            )
            messages = await call_store(stubs.verification_messages, batch)
            if (
                messages.directory_imported_at != plan.directory_imported_at
                and not self._progress.directory_reimported
            ):
                self._progress.directory_reimported = True
                workflow.logger.info("directory imported again: new contacts are asked")
            queue = workflow.info().task_queue
            try:
                if messages.sms:
                    await workflow.execute_activity(
                        stubs.send_sms_batch,
                        messages.sms,
                        start_to_close_timeout=BATCH_TIMEOUT,
                        heartbeat_timeout=BATCH_HEARTBEAT,
                        schedule_to_close_timeout=GIVE_UP_AFTER,
                        retry_policy=SEND_RETRY,
                        task_queue=verification_task_queue(queue),
                    )
                if messages.emails:
                    await workflow.execute_activity(
                        stubs.send_email_batch,
                        messages.emails,
                        start_to_close_timeout=BATCH_TIMEOUT,
                        heartbeat_timeout=BATCH_HEARTBEAT,
                        schedule_to_close_timeout=GIVE_UP_AFTER,
                        retry_policy=SEND_RETRY,
                        task_queue=email_task_queue(queue),
                    )
            except ActivityError as error:
                workflow.logger.warning("verification batch given up: %s", error.cause)
            if reminder:
                self._progress.reminders_sent += 1
            else:
                self._progress.batches_sent += 1
            await self._record_answers()

    async def _wait_for_quiet(self) -> None:
        """Holds the campaign while a real event mobilises: its messages come first."""
        while await call_store(stubs.live_event_mobilising):
            self._progress.paused = True
            await self._answers_until(workflow.now() + LIVE_EVENT_CHECK)
        self._progress.paused = False

    async def _answers_until(self, deadline: datetime) -> None:
        while (left := deadline - workflow.now()) > timedelta(0):
            try:
                await workflow.wait_condition(lambda: bool(self._answers), timeout=left)
            except TimeoutError:
                return
            await self._record_answers()

    async def _record_answers(self) -> None:
        while self._answers:
            received = self._answers.pop(0)
            await call_store(
                stubs.record_verification_answer,
                VerificationAnswer(
                    campaign_id=self._progress.campaign_id,
                    organisation_id=received.task_key,
                    contact_id=received.contact_id,
                    at=received.received_at,
                ),
            )
            self._progress.confirmed_by_sms += 1
