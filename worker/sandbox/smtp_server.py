"""A real SMTP server (aiosmtpd) that keeps what it receives, read back as MIME."""

import asyncio
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class _MailHandler:
    """aiosmtpd's hooks; kept apart from the sandbox, whose properties aiosmtpd
    would otherwise evaluate at every connection."""

    def __init__(self, mailbox: Path | None) -> None:
        self.raw: list[bytes] = []
        self.refused: set[str] = set()
        self.answer_delay = 0.0
        self._mailbox = mailbox

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 Adresse inconnue"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        self.raw.append(content)
        if self._mailbox is not None:
            self._mailbox.mkdir(parents=True, exist_ok=True)
            (self._mailbox / f"{len(self.raw):05d}.eml").write_bytes(content)
        await asyncio.sleep(self.answer_delay)
        return "250 Message accepted for delivery"


class MailSandbox:
    """Listens on loopback; addresses in ``refused`` get a permanent 550. With a
    ``mailbox`` folder, each mail is also saved there as an ``.eml`` file that any
    mail client opens. Stopped and started again, it keeps what it received, as a
    mail server back from an outage would."""

    def __init__(self, port: int, host: str = "127.0.0.1", mailbox: Path | None = None) -> None:
        self._handler = _MailHandler(mailbox)
        self._parsed: list[EmailMessage] = []
        self._host = host
        self._port = port
        self._controller: Controller | None = None

    @property
    def refused(self) -> set[str]:
        return self._handler.refused

    def answer_slowly(self, seconds: float) -> None:
        """Each mail kept at once, its acceptance answered ``seconds`` later: a slow
        server, whose sender does not know for that long whether the mail left."""
        self._handler.answer_delay = seconds

    @property
    def received(self) -> list[EmailMessage]:
        """Parsed when first read: parsing as they arrive made the sandbox, not
        Tocsin, the slowest part of a national run."""
        for content in self._handler.raw[len(self._parsed) :]:
            parsed = message_from_bytes(content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            self._parsed.append(parsed)
        return list(self._parsed)

    @property
    def received_count(self) -> int:
        return len(self._handler.raw)

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> None:
        """aiosmtpd's controller cannot start twice: each start has its own."""
        self._controller = Controller(self._handler, hostname=self._host, port=self._port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def sent_to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.received if message["To"] == address]
