"""The one way every process connects to Temporal: a local dev server in the clear,
or a production cluster over TLS, with a client certificate (mTLS) or an API key."""

import functools
from pathlib import Path

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig

from worker.payload_codec import encrypted_converter, payload_key, previous_payload_keys
from worker.settings import Settings


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


def temporal_tls(settings: Settings) -> TLSConfig | bool:
    """False in the clear; an API key or a client certificate implies TLS."""
    api_key = settings.temporal_api_key.get_secret_value()
    wanted = settings.temporal_tls or api_key or settings.temporal_tls_cert
    if not wanted:
        return False
    return TLSConfig(
        server_root_ca_cert=_read(settings.temporal_tls_ca),
        client_cert=_read(settings.temporal_tls_cert),
        client_private_key=_read(settings.temporal_tls_key),
        domain=settings.temporal_tls_server_name or None,
    )


class MetricsAddressError(ValueError):
    """TOCSIN_METRICS_ADDRESS malformed, or its port taken."""


@functools.cache
def _prometheus_runtime(bind_address: str) -> Runtime:
    """One per address and process: its HTTP server binds the port for good."""
    config = PrometheusConfig(
        bind_address=bind_address, counters_total_suffix=True, durations_as_seconds=True
    )
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=config))
    except ValueError as error:
        raise MetricsAddressError(f"{bind_address} : {error}") from error


def telemetry_runtime(settings: Settings) -> Runtime:
    """With TOCSIN_METRICS_ADDRESS, the SDK's metrics and Tocsin's own are served
    there for Prometheus (at /metrics)."""
    if not settings.metrics_address:
        return Runtime.default()
    return _prometheus_runtime(settings.metrics_address)


async def connect_temporal(settings: Settings) -> Client:
    """Payloads are encrypted: every process must share TOCSIN_PAYLOAD_KEY."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        api_key=settings.temporal_api_key.get_secret_value() or None,
        tls=temporal_tls(settings),
        data_converter=encrypted_converter(payload_key(settings), previous_payload_keys(settings)),
        runtime=telemetry_runtime(settings),
    )
