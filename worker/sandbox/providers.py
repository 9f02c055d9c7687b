"""``tocsin dev`` without credentials: the local Twilio-compatible and SMTP servers
stand in for the providers, and the settings are pointed at them."""

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from worker.asgi_server import AsgiServer
from worker.ports import free_port
from worker.sandbox.credentials import sandbox_auth_token
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import TwilioSandbox
from worker.settings import Settings

SANDBOX_ACCOUNT_SID = "AC" + "0" * 32
SANDBOX_SENDER = "UNCCAS"


@dataclass
class SandboxProviders:
    settings: Settings
    twilio: TwilioSandbox | None = None
    mail: MailSandbox | None = None
    http_server: AsgiServer | None = field(default=None, repr=False)

    def describe(self) -> list[str]:
        sms = f"bac à sable local {self.settings.twilio_base_url}" if self.twilio else "Twilio"
        mail = (
            f"serveur SMTP local 127.0.0.1:{self.settings.smtp_port} "
            f"(courriels dans {sandbox_mailbox(self.settings)})"
            if self.mail
            else f"{self.settings.smtp_host}:{self.settings.smtp_port}"
        )
        return [f"  SMS             : {sms}", f"  Email           : {mail}"]

    def stop(self) -> None:
        if self.http_server is not None:
            self.http_server.stop()
        if self.mail is not None:
            self.mail.stop()


def sandbox_mailbox(settings: Settings) -> Path:
    """Where the local SMTP server saves what it receives, one ``.eml`` per mail."""
    return settings.state_dir / "sandbox-mail"


async def start_sandboxes(settings: Settings) -> SandboxProviders:
    """Start what is missing; the returned settings use it."""
    updates: dict[str, object] = {}
    providers = SandboxProviders(settings)
    if not settings.twilio_account_sid:
        token = sandbox_auth_token(settings)
        providers.twilio = TwilioSandbox(SANDBOX_ACCOUNT_SID, token)
        port = free_port()
        providers.http_server = AsgiServer(providers.twilio.app, "127.0.0.1", port)
        await providers.http_server.start()
        updates |= {
            "twilio_account_sid": SANDBOX_ACCOUNT_SID,
            "twilio_auth_token": SecretStr(token),
            "twilio_base_url": f"http://127.0.0.1:{port}",
            "twilio_from": settings.twilio_from or SANDBOX_SENDER,
        }
    if not settings.smtp_host:
        providers.mail = MailSandbox(free_port(), mailbox=sandbox_mailbox(settings))
        providers.mail.start()
        updates |= {"smtp_host": "127.0.0.1", "smtp_port": providers.mail.port}
    providers.settings = settings.model_copy(update=updates)
    return providers
