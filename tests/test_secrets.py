"""Secrets as a deployment hands them over: never shown, read from mounted files,
shared by every instance on PostgreSQL, and a link secret that can change."""

import asyncio
import base64
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from definitions.answer_links import AnswerLinkClaim, ForgedLinkError, read_link, sign_link
from tests.conftest import SCRIPTS
from worker.settings import SECRETS_DIR_VARIABLE, Settings

POSTGRESQL = "postgresql+psycopg://tocsin@127.0.0.1:1/tocsin"
PAYLOAD_KEY = base64.b64encode(b"k" * 32).decode()
CLAIM = AnswerLinkClaim(
    workflow_id="inondation-20261122-k3f9/59",
    task_key="ccas-59350",
    code="4821",
    expires_at=datetime.now(UTC) + timedelta(days=1),
)


async def _refusal(environment: dict[str, str], command: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(SCRIPTS / "tocsin"),
        command,
        env={**os.environ, **environment},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


@pytest.mark.parametrize("command", ["worker", "api"])
async def test_a_process_on_postgresql_refuses_to_start_without_the_shared_secrets(
    tmp_path: Path, command: str
) -> None:
    """Each would otherwise make its own key and secret, which the other instances
    cannot read: it says which are missing, before connecting to anything."""
    environment = {"TOCSIN_DATABASE_URL": POSTGRESQL, "TOCSIN_STATE_DIR": str(tmp_path)}
    code, output = await _refusal(environment, command)
    assert code == 1
    assert "TOCSIN_PAYLOAD_KEY et TOCSIN_LINK_SECRET requis" in output
    code, output = await _refusal({**environment, "TOCSIN_PAYLOAD_KEY": PAYLOAD_KEY}, command)
    assert code == 1 and "TOCSIN_LINK_SECRET requis" in output
    assert not await asyncio.to_thread(os.listdir, tmp_path), "no secret was generated"


def test_secrets_come_from_files_and_are_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As Kubernetes mounts them: a ``*_FILE`` variable, or a folder of files named
    after the variables."""
    key_file = tmp_path / "payload-key"
    key_file.write_text(PAYLOAD_KEY + "\n")
    folder = tmp_path / "secrets"
    folder.mkdir()
    link_secret = secrets.token_urlsafe(32)
    (folder / "TOCSIN_LINK_SECRET").write_text(link_secret)
    (folder / "TWILIO_AUTH_TOKEN").write_text("jeton-twilio-de-test")
    monkeypatch.setenv("TOCSIN_PAYLOAD_KEY_FILE", str(key_file))
    monkeypatch.setenv(SECRETS_DIR_VARIABLE, str(folder))
    monkeypatch.setenv("TOCSIN_DATABASE_URL", POSTGRESQL)
    settings = Settings()
    assert settings.payload_key.get_secret_value() == PAYLOAD_KEY
    assert settings.link_secret.get_secret_value() == link_secret
    assert settings.twilio_auth_token.get_secret_value() == "jeton-twilio-de-test"
    assert settings.missing_shared_secrets() == []
    shown = f"{settings!r} {settings} {settings.model_dump()}"
    for secret in (PAYLOAD_KEY, link_secret, "jeton-twilio-de-test"):
        assert secret not in shown


def test_a_link_signed_with_the_previous_secret_still_opens_after_a_change() -> None:
    old, new = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    sent_before = sign_link(Settings(link_secret=old).answer_link_secret(), CLAIM)
    changed = Settings(link_secret=new, link_secrets_previous=old).answer_link_secret()
    sent_after = sign_link(changed, CLAIM)
    assert read_link(changed, sent_before, AnswerLinkClaim) == CLAIM
    assert read_link(changed, sent_after, AnswerLinkClaim) == CLAIM
    assert read_link(new, sent_after, AnswerLinkClaim) == CLAIM, "signed with the new one"
    with pytest.raises(ForgedLinkError):
        read_link(Settings(link_secret=new).answer_link_secret(), sent_before, AnswerLinkClaim)
