"""The diffusion of one edition of a type's guide of good practice: the edition
made (or found unchanged), then its emails in batches on the email queue, one
SMTP connection each. Each recipient's email is idempotent in the outbox, so a
second run of the same edition sends only what the first did not."""

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.guide import (
        GuideBatchOutcome,
        GuideDiffusionProgress,
        GuideDiffusionStart,
    )
    from definitions.temporal_names import (
        GUIDE_DIFFUSION_WORKFLOW,
        GUIDE_PROGRESS_QUERY,
        email_task_queue,
    )
    from workflows.outreach import BATCH_HEARTBEAT, BATCH_TIMEOUT
    from workflows.send_policy import GIVE_UP_AFTER, SEND_RETRY
    from workflows.store_calls import call_store


@workflow.defn(name=GUIDE_DIFFUSION_WORKFLOW)
class GuideDiffusionWorkflow:
    def __init__(self) -> None:
        self._progress = GuideDiffusionProgress()

    @workflow.query(name=GUIDE_PROGRESS_QUERY)
    def progress(self) -> GuideDiffusionProgress:
        return self._progress

    @workflow.run
    async def run(self, start: GuideDiffusionStart) -> GuideDiffusionProgress:
        prepared = await call_store(stubs.prepare_guide_edition, start)
        progress = self._progress
        progress.edition, progress.recipients = prepared.edition, prepared.recipients
        for batch, size in prepared.batches(start.department):
            try:
                outcome = await workflow.execute_activity(
                    stubs.send_guide_batch,
                    batch,
                    start_to_close_timeout=BATCH_TIMEOUT,
                    heartbeat_timeout=BATCH_HEARTBEAT,
                    schedule_to_close_timeout=GIVE_UP_AFTER,
                    retry_policy=SEND_RETRY,
                    task_queue=email_task_queue(workflow.info().task_queue),
                )
            except ActivityError as error:
                workflow.logger.warning("guide batch given up: %s", error.cause)
                outcome = GuideBatchOutcome(failed=size)
            progress.add(outcome, size)
        progress.finished = True
        return progress
