"""A directory verification campaign: every organisation asked (SMS with an
``OK 1234`` code, email with its self-service link) in batches on a queue of its
own, rate-limited to a share of the provider; one reminder to those still silent;
at the end each UD gets the list of its silent organisations. Sending waits while
a real event is mobilising. Who confirmed lives in the store (the page writes
there directly), so the workflow holds only the plan and where it stands; it
continues as new when its history grows long (a national campaign)."""

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
        VerificationProgress,
        VerificationResume,
        VerificationStage,
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
    from workflows.outreach import BATCH_HEARTBEAT, BATCH_TIMEOUT
    from workflows.send_policy import GIVE_UP_AFTER, SEND_RETRY
    from workflows.store_calls import (
        STORE_RETRY,
        STORE_TIMEOUT,
        call_store,
        close_all_reply_codes,
    )

SEEN_REPLIES = 500


class HistoryTooLongError(Exception):
    """Raised where the campaign may stop and hand its state to a new run."""


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
        state = start.resume
        if state is None:
            self._progress = VerificationProgress(campaign_id=start.campaign_id)
            plan = await call_store(stubs.plan_verification, start)
            self._progress.organisations = len(plan.organisations)
            state = VerificationResume(plan=plan, begun=workflow.now(), progress=self._progress)
        else:
            self._progress = state.progress
            self._seen = [*state.seen, *self._seen]
        try:
            await self._campaign(start, state)
        except HistoryTooLongError:
            await self._record_answers()
            await workflow.wait_condition(workflow.all_handlers_finished)
            state.progress, state.seen = self._progress, self._seen
            workflow.continue_as_new(start.model_copy(update={"resume": state}))
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

    async def _campaign(self, start: VerificationStart, state: VerificationResume) -> None:
        """From the stage the state names up to the report."""
        deadlines = {
            VerificationStage.AWAITING: state.begun + start.reminder_after,
            VerificationStage.AWAITING_LAST: state.begun + start.silent_after,
        }
        while state.stage < VerificationStage.REPORTING:
            if state.stage in deadlines:
                await self._answers_until(deadlines[state.stage])
            else:
                await self._send(start, state)
                state.next_offset = 0
            state.stage = VerificationStage(state.stage + 1)

    async def _send(self, start: VerificationStart, state: VerificationResume) -> None:
        reminder = state.stage is VerificationStage.REMINDING
        organisations = state.plan.organisations
        while state.next_offset < len(organisations):
            _continue_if_long()
            await self._wait_for_quiet()
            offset = state.next_offset
            batch = VerificationBatch(
                campaign_id=start.campaign_id,
                organisations=organisations[offset : offset + VERIFICATION_BATCH],
                reminder=reminder,
                links_valid_until=state.plan.links_valid_until,
            )
            messages = await call_store(stubs.verification_messages, batch)
            if (
                messages.directory_imported_at != state.plan.directory_imported_at
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
            state.next_offset = offset + VERIFICATION_BATCH
            await self._record_answers()

    async def _wait_for_quiet(self) -> None:
        """Holds the campaign while a real event mobilises: its messages come first."""
        while await workflow.execute_local_activity(
            stubs.live_event_mobilising,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        ):
            self._progress.paused = True
            await self._answers_until(workflow.now() + LIVE_EVENT_CHECK)
        self._progress.paused = False

    async def _answers_until(self, deadline: datetime) -> None:
        while (left := deadline - workflow.now()) > timedelta(0):
            _continue_if_long()
            try:
                await workflow.wait_condition(lambda: bool(self._answers), timeout=left)
            except TimeoutError:
                return
            await self._record_answers()

    async def _record_answers(self) -> None:
        """Every answer waiting, in one activity."""
        if not self._answers:
            return
        answers, self._answers = self._answers, []
        await call_store(
            stubs.record_verification_answers,
            [
                VerificationAnswer(
                    campaign_id=self._progress.campaign_id,
                    organisation_id=received.task_key,
                    contact_id=received.contact_id,
                    at=received.received_at,
                )
                for received in answers
            ],
        )
        self._progress.confirmed_by_sms += len(answers)


def _continue_if_long() -> None:
    if workflow.info().is_continue_as_new_suggested():
        raise HistoryTooLongError
