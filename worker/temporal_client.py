"""The one way every process connects to Temporal."""

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from worker.settings import Settings


async def connect_temporal(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )
