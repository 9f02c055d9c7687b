"""The day's directory corrections, told to each UD (its department's) and to
UNCCAS staff (all of them) in one email each, started daily by a schedule."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.directory_verification import DigestOutcome
    from definitions.temporal_names import DIRECTORY_DIGEST_WORKFLOW, email_task_queue
    from workflows.outreach import BATCH_HEARTBEAT, BATCH_TIMEOUT
    from workflows.send_policy import SEND_RETRY


@workflow.defn(name=DIRECTORY_DIGEST_WORKFLOW)
class DirectoryDigestWorkflow:
    @workflow.run
    async def run(self) -> DigestOutcome:
        return await workflow.execute_activity(
            stubs.send_directory_digest,
            start_to_close_timeout=BATCH_TIMEOUT,
            heartbeat_timeout=BATCH_HEARTBEAT,
            retry_policy=SEND_RETRY,
            task_queue=email_task_queue(workflow.info().task_queue),
        )
