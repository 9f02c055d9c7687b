"""Sending email over SMTP, each message once, in French, text and HTML.

SMTP cannot be asked what already left, so a retry after an unknown outcome
sends again: the Message-ID is derived from the idempotency key, so mail
clients fold such a duplicate into one, and the outbox counts it. Each email is
marked ``sending`` in the database before it leaves, with the outcome of the one
before: a worker that dies mid-batch leaves one email at most whose fate is
unknown.
"""

import asyncio
import functools
import hashlib
import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from typing import Any, NoReturn

import aiosmtplib
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.calendar_invites import invitation_ics
from activities.outbox_ledger import (
    OutboxLedger,
    earlier_outcome,
    heartbeating,
    permanent_failure,
    send_each,
)
from definitions.contact_points import sender_domain
from definitions.outgoing import (
    Attachment,
    BatchItemResult,
    Channel,
    EmailRequest,
    OutboxEntry,
    OutboxStatus,
    SendResult,
)
from definitions.temporal_names import SEND_EMAIL, SEND_EMAIL_BATCH
from store.database import Store
from store.outbox import OutboxClaim

log = structlog.get_logger(__name__)

INVITATION_FILE = "invitation.ics"
"""Calendars that do not read the inline text/calendar part open this attachment."""
UTF8 = Charset("utf-8")
UTF8.body_encoding = QP
"""Quoted-printable: the French text stays readable in the raw message."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    mail_from: str
    username: str = ""
    password: str = ""
    tls: str = "none"
    timeout_seconds: float = 30.0


def message_id(key: str, domain: str) -> str:
    """Stable across retries: the same message always has the same Message-ID, in
    the sender's domain (a domain the deployment does not own counts against it)."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def _html(text: str) -> str:
    paragraphs = "".join(
        f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>" for block in text.split("\n\n")
    )
    return f'<!DOCTYPE html><html lang="fr"><body>{paragraphs}</body></html>'


def _attached(attachment: Attachment) -> MIMEBase:
    maintype, subtype = attachment.content_type.split("/", 1)
    part = MIMEBase(maintype, subtype)
    part.set_payload(attachment.content)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
    return part


def build_message(request: EmailRequest, mail_from: str, domain: str) -> Message:
    """Built with the classic MIME classes: the modern ``Message`` parses every
    header it is given, and cost more than the SMTP exchange at national scale."""
    message = MIMEMultipart("alternative")
    # typeshed types MIMEText's charset and a header's value as str; these classic
    # classes also take the Charset and Header objects that give quoted-printable UTF-8.
    message.attach(MIMEText(request.text, "plain", UTF8))  # type: ignore[arg-type]
    message.attach(MIMEText(_html(request.text), "html", UTF8))  # type: ignore[arg-type]
    attachments = list(request.attachments)
    if request.calendar is not None:
        ics = invitation_ics(request.calendar, mail_from, request.to)
        inline = MIMEText(ics.decode(), "calendar", "utf-8")
        inline.set_param("method", request.calendar.method.value)
        message.attach(inline)
        attachments.append(
            Attachment(filename=INVITATION_FILE, content_type="application/ics", content=ics)
        )
    if attachments:
        message = MIMEMultipart("mixed", _subparts=[message])
        for attachment in attachments:
            message.attach(_attached(attachment))
    message["From"] = mail_from
    message["To"] = request.to
    message["Subject"] = Header(request.subject, UTF8)  # type: ignore[assignment]  # see above
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id(request.key, domain)
    if request.in_reply_to:
        message["In-Reply-To"] = request.in_reply_to
        message["References"] = request.in_reply_to
    message["Content-Language"] = "fr"
    return message


def _claim(request: EmailRequest) -> OutboxClaim:
    return OutboxClaim(
        key=request.key,
        event_id=request.event_id,
        channel=Channel.EMAIL,
        step=request.step,
        recipient=request.to,
        subject=request.subject,
        body=request.text,
    )


class EmailActivities:
    def __init__(self, store: Store, smtp: SmtpSettings) -> None:
        self._ledger = OutboxLedger(store, Channel.EMAIL)
        self._smtp = smtp
        self._domain = sender_domain(smtp.mail_from)

    @activity.defn(name=SEND_EMAIL)
    async def send_email(self, request: EmailRequest) -> SendResult:
        claimed = await asyncio.to_thread(self._ledger.claim_all, [_claim(request)])
        try:
            return await self._send_claimed(request, claimed[request.key], self._send_alone)
        finally:
            await asyncio.to_thread(self._ledger.write_noted)

    @activity.defn(name=SEND_EMAIL_BATCH)
    async def send_email_batch(self, requests: list[EmailRequest]) -> list[BatchItemResult]:
        """Each email once, over one SMTP connection; a retry skips those already sent."""
        with heartbeating():
            claimed = await asyncio.to_thread(
                self._ledger.claim_all, [_claim(request) for request in requests]
            )
            async with aiosmtplib.SMTP(**self._smtp_options()) as connection:

                async def send(message: Message) -> None:
                    await connection.send_message(message)

                return await send_each(
                    requests,
                    lambda request: self._send_claimed(request, claimed[request.key], send),
                    self._ledger,
                )

    async def _send_alone(self, message: Message) -> None:
        await aiosmtplib.send(message, **self._smtp_options())

    def _smtp_options(self) -> dict[str, Any]:
        smtp = self._smtp
        return {
            "hostname": smtp.host,
            "port": smtp.port,
            "username": smtp.username or None,
            "password": smtp.password or None,
            "use_tls": smtp.tls == "tls",
            "start_tls": smtp.tls == "starttls",
            "timeout": smtp.timeout_seconds,
        }

    async def _send_claimed(
        self,
        request: EmailRequest,
        entry: OutboxEntry,
        send: Callable[[Message], Awaitable[None]],
    ) -> SendResult:
        if (earlier := earlier_outcome(entry, "email")) is not None:
            return earlier
        unsure = entry.status is OutboxStatus.SENDING
        await asyncio.to_thread(
            functools.partial(
                self._ledger.mark, request.key, OutboxStatus.SENDING, possible_duplicate=unsure
            )
        )
        try:
            await send(build_message(request, self._smtp.mail_from, self._domain))
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as error:
            self._refused(request, error)
        except (aiosmtplib.SMTPException, OSError):
            log.warning("email.outcome_unknown", step=request.step)
            raise
        provider_id = message_id(request.key, self._domain)
        self._ledger.note(request.key, OutboxStatus.SENT, provider_id=provider_id)
        if unsure:
            log.warning("email.possible_duplicate", step=request.step)
        log.info("email.sent", step=request.step, attachments=len(request.attachments))
        return SendResult(
            key=request.key,
            status=OutboxStatus.SENT,
            provider_id=provider_id,
            duplicate_suspected=unsure,
        )

    def _refused(
        self,
        request: EmailRequest,
        error: aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPResponseException,
    ) -> NoReturn:
        """5xx is permanent (rejected address); 4xx is retried by Temporal."""
        if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
            code = error.recipients[0].code if error.recipients else 550
        else:
            code = error.code
        if code >= 500:
            self._ledger.note(request.key, OutboxStatus.FAILED, error_code=str(code))
            log.warning("email.refused", step=request.step, code=code)
            permanent_failure("email", str(code))
        self._ledger.note(request.key, OutboxStatus.PENDING)
        raise ApplicationError(f"serveur SMTP indisponible ({code})", str(code))

    @property
    def all(self) -> list[Callable[..., object]]:
        return [self.send_email, self.send_email_batch]
