"""The one way every process connects to Temporal: a local dev server in the clear,
or a production cluster over TLS, with a client certificate (mTLS) or an API key."""

from pathlib import Path

from temporalio.client import Client
from temporalio.service import TLSConfig

from worker.payload_codec import encrypted_converter, payload_key
from worker.settings import Settings


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


def temporal_tls(settings: Settings) -> TLSConfig | bool:
    """False in the clear; an API key or a client certificate implies TLS."""
    wanted = settings.temporal_tls or settings.temporal_api_key or settings.temporal_tls_cert
    if not wanted:
        return False
    return TLSConfig(
        server_root_ca_cert=_read(settings.temporal_tls_ca),
        client_cert=_read(settings.temporal_tls_cert),
        client_private_key=_read(settings.temporal_tls_key),
        domain=settings.temporal_tls_server_name or None,
    )


async def connect_temporal(settings: Settings) -> Client:
    """Payloads are encrypted: every process must share TOCSIN_PAYLOAD_KEY."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        api_key=settings.temporal_api_key or None,
        tls=temporal_tls(settings),
        data_converter=encrypted_converter(payload_key(settings)),
    )
