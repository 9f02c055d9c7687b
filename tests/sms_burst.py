"""A workflow that only sends SMS, many at once, to measure the SMS queue's rate
limit with the real SMS worker: the product's workflows never send that fast
from one place."""

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from definitions.outgoing import SendResult, SmsRequest
    from definitions.temporal_names import SEND_SMS


@workflow.defn
class SmsBurstWorkflow:
    @workflow.run
    async def run(self, sms_task_queue: str, requests: list[SmsRequest]) -> int:
        results = await asyncio.gather(
            *(
                workflow.execute_activity(
                    SEND_SMS,
                    request,
                    result_type=SendResult,
                    task_queue=sms_task_queue,
                    start_to_close_timeout=timedelta(seconds=30),
                )
                for request in requests
            )
        )
        return len(results)
