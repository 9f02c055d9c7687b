"""The one way every process connects to Temporal."""

from temporalio.client import Client

from worker.payload_codec import encrypted_converter, payload_key
from worker.settings import Settings


async def connect_temporal(settings: Settings) -> Client:
    """Payloads are encrypted: every process must share TOCSIN_PAYLOAD_KEY."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=encrypted_converter(payload_key(settings)),
    )
