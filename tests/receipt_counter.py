"""A workflow that only counts the delivery receipts it is signalled, to see how
often the gateway tells a workflow that a message reached its phone."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from definitions.awaited_replies import DeliveryReceipts
    from definitions.temporal_names import DELIVERIES_SIGNAL

RECEIPTS_QUERY = "receipts"


@workflow.defn
class ReceiptCounterWorkflow:
    def __init__(self) -> None:
        self._receipts = 0

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal(name=DELIVERIES_SIGNAL)
    def deliveries(self, bundle: DeliveryReceipts) -> None:
        self._receipts += len(bundle.receipts)

    @workflow.query(name=RECEIPTS_QUERY)
    def receipts(self) -> int:
        return self._receipts
