"""Connecting to a production Temporal: mutual TLS, through a proxy that demands a
client certificate, in front of the real dev server."""

import os
import subprocess
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import SCRIPTS
from tests.tls_proxy import make_certificates, mutual_tls_proxy
from worker.settings import Settings
from worker.temporal_client import connect_temporal


async def test_a_client_certificate_opens_the_connection_and_none_is_refused(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    certificates = make_certificates(tmp_path)
    in_the_clear = dev_env.client.service_client.config.target_host
    async with mutual_tls_proxy(certificates, in_the_clear) as address:
        settings = Settings(
            state_dir=tmp_path,
            temporal_address=address,
            temporal_tls_ca=certificates.ca,
            temporal_tls_cert=certificates.client_cert,
            temporal_tls_key=certificates.client_key,
        )
        client = await connect_temporal(settings)
        seen = await client.count_workflows()
        assert seen.count == (await dev_env.client.count_workflows()).count

        no_certificate = settings.model_copy(
            update={"temporal_tls_cert": None, "temporal_tls_key": None, "temporal_tls": True}
        )
        with pytest.raises(RuntimeError):
            await connect_temporal(no_certificate)


def test_a_certificate_without_its_key_is_refused_with_an_explanation(tmp_path: Path) -> None:
    certificates = make_certificates(tmp_path)
    result = subprocess.run(
        [str(SCRIPTS / "tocsin"), "status", "inondation-20261123-abcd"],
        env={**os.environ, "TOCSIN_TEMPORAL_TLS_CERT": str(certificates.client_cert)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "TOCSIN_TEMPORAL_TLS_KEY" in result.stderr
