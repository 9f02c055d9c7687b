"""Delivery receipts reach their workflows in bundles.

A national activation brings thousands of delivery callbacks within a minute:
one signal each kept the Temporal server and the department workflows busy with
news nobody waits for. The receipts of the last moments go out as one signal
per workflow instead. A gateway stopped in between loses at most that moment's
receipts for the workflows' counts; the outbox keeps every delivery.
"""

import asyncio

import structlog
from temporalio.client import Client
from temporalio.service import RPCError

from definitions.awaited_replies import DeliveryReceipt, DeliveryReceipts
from definitions.temporal_names import DELIVERIES_SIGNAL

log = structlog.get_logger(__name__)

BUNDLE_SECONDS = 2.0
"""Each bundle still costs its workflow a task: at 0.5 s, the hundred departments
of a national hand-over took two hundred a second. A receipt shows in the counts
within about 4 s (this, then the department's own batching of its writes)."""


class DeliveryReceiptRelay:
    def __init__(self, client: Client, bundle_seconds: float = BUNDLE_SECONDS) -> None:
        self._client = client
        self._bundle_seconds = bundle_seconds
        self._pending: dict[str, list[DeliveryReceipt]] = {}
        self._sending: asyncio.Task[None] | None = None

    def add(self, workflow_id: str, receipt: DeliveryReceipt) -> None:
        """Sent within the bundle's delay."""
        self._pending.setdefault(workflow_id, []).append(receipt)
        if self._sending is None:
            self._sending = asyncio.get_running_loop().create_task(self._send_later())

    async def _send_later(self) -> None:
        await asyncio.sleep(self._bundle_seconds)
        pending, self._pending, self._sending = self._pending, {}, None
        await asyncio.gather(
            *(self._signal(workflow_id, receipts) for workflow_id, receipts in pending.items())
        )

    async def _signal(self, workflow_id: str, receipts: list[DeliveryReceipt]) -> None:
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            await handle.signal(DELIVERIES_SIGNAL, DeliveryReceipts(receipts=receipts))
        except RPCError as error:
            log.warning(
                "sms.deliveries_not_signalled",
                workflow_id=workflow_id,
                receipts=len(receipts),
                error=str(error),
            )
            return
        log.info("sms.deliveries_signalled", workflow_id=workflow_id, receipts=len(receipts))
