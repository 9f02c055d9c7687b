"""Sending email to a real SMTP server and reading it back as MIME."""

import os
import subprocess

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.email import EmailActivities, SmtpSettings, message_id
from definitions.outgoing import (
    PERMANENT_DELIVERY_ERROR,
    Attachment,
    Channel,
    EmailRequest,
    OutboxStatus,
    idempotency_key,
)
from store import outbox
from store.database import Store
from tests.conftest import BOTH_DATABASES, SCRIPTS
from worker.sandbox.smtp_server import MailSandbox
from worker.settings import Settings

TO = "prefecture-59@example.org"
EVENT = "inondation-20261122-k3f9"


def _sender(
    store: Store, sandbox: MailSandbox, mail_from: str = "tocsin@example.org"
) -> EmailActivities:
    return EmailActivities(
        store, SmtpSettings(host="127.0.0.1", port=sandbox.port, mail_from=mail_from)
    )


def _request(**changes: object) -> EmailRequest:
    request = EmailRequest(
        key=idempotency_key(EVENT, "state_information", "prefecture-59", Channel.EMAIL),
        event_id="inondation-20261122-k3f9",
        step="state_information",
        to=TO,
        subject="UNCCAS - INONDATION Nord (59) : représentant(e) de l'UNCCAS",
        text="Madame, Monsieur,\n\nL'UNCCAS a désigné Camille Martin.\nTéléphone : +33639980001",
        attachments=[
            Attachment(
                filename="ccas-competents.csv",
                content_type="text/csv",
                content=b"id,nom\nccas-59350,CCAS de Lille\n",
            )
        ],
    )
    return request.model_copy(update=changes)


@BOTH_DATABASES
async def test_a_french_multipart_mail_with_attachment_arrives_once(
    store: Store, mail_sandbox: MailSandbox
) -> None:
    sender = _sender(store, mail_sandbox)
    result = await ActivityEnvironment().run(sender.send_email, _request())
    again = await ActivityEnvironment().run(sender.send_email, _request())
    assert again.provider_id == result.provider_id == message_id(_request().key, "example.org")
    [mail] = mail_sandbox.sent_to(TO)
    assert mail["Subject"] == "UNCCAS - INONDATION Nord (59) : représentant(e) de l'UNCCAS"
    assert mail["Message-ID"] == result.provider_id
    assert mail["Content-Language"] == "fr"
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None and "L'UNCCAS a désigné Camille Martin." in text.get_content()
    assert html is not None and "<p>Madame, Monsieur,</p>" in html.get_content()
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == "ccas-competents.csv"
    assert attached.get_content() == "id,nom\nccas-59350,CCAS de Lille\n"
    with store.session() as session:
        [row] = outbox.entries(session)
    assert (row.status, row.provider_calls) == (OutboxStatus.SENT, 1)


@BOTH_DATABASES
async def test_replies_stay_in_their_thread(store: Store, mail_sandbox: MailSandbox) -> None:
    first = _request()
    follow_up = _request(
        key=idempotency_key(EVENT, "handover", "prefecture-59", Channel.EMAIL),
        in_reply_to=message_id(first.key, "example.org"),
    )
    sender = _sender(store, mail_sandbox)
    await ActivityEnvironment().run(sender.send_email, first)
    await ActivityEnvironment().run(sender.send_email, follow_up)
    original, reply = mail_sandbox.sent_to(TO)
    assert reply["In-Reply-To"] == original["Message-ID"] == reply["References"]


async def test_message_ids_name_the_sender_s_domain(
    store: Store, mail_sandbox: MailSandbox
) -> None:
    """A deployment claims no domain but its own: spam filters hold a foreign one
    against it."""
    sender = _sender(store, mail_sandbox, mail_from="UNCCAS Tocsin <alerte@crise.example.org>")
    result = await ActivityEnvironment().run(sender.send_email, _request())
    [mail] = mail_sandbox.sent_to(TO)
    assert mail["Message-ID"] == result.provider_id
    assert mail["Message-ID"].endswith("@crise.example.org>")
    assert mail["From"] == "UNCCAS Tocsin <alerte@crise.example.org>"
    with pytest.raises(ValidationError, match="expéditeur sans domaine"):
        Settings(mail_from="UNCCAS Tocsin <alerte>")


@BOTH_DATABASES
async def test_a_rejected_address_is_a_permanent_error(
    store: Store, mail_sandbox: MailSandbox
) -> None:
    mail_sandbox.refused.add(TO)
    sender = _sender(store, mail_sandbox)
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(sender.send_email, _request())
    assert raised.value.non_retryable and raised.value.type == PERMANENT_DELIVERY_ERROR
    assert raised.value.details == ("550",)
    with store.session() as session:
        [row] = outbox.entries(session)
    assert (row.status, row.error_code) == (OutboxStatus.FAILED, "550")
    assert mail_sandbox.received == []


@BOTH_DATABASES
async def test_an_unreachable_server_is_retried_later(store: Store) -> None:
    closed = EmailActivities(
        store, SmtpSettings(host="127.0.0.1", port=1, mail_from="tocsin@example.org")
    )
    with pytest.raises(OSError):
        await ActivityEnvironment().run(closed.send_email, _request())
    with store.session() as session:
        [row] = outbox.entries(session)
    assert row.status is OutboxStatus.SENDING


def _outbox_listing(store: Store) -> str:
    return subprocess.run(
        [str(SCRIPTS / "tocsin"), "outbox"],
        env={**os.environ, "TOCSIN_DATABASE_URL": store.url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


async def test_an_email_sent_again_after_an_unknown_outcome_is_shown_as_a_possible_duplicate(
    store: Store, mail_sandbox: MailSandbox
) -> None:
    """SMTP cannot be asked what it received: the email sent again is counted in the
    outbox, and ``tocsin outbox`` says which one may have arrived twice; the emails
    of a batch that never left before are sent once, without that doubt."""
    closed = EmailActivities(
        store, SmtpSettings(host="127.0.0.1", port=1, mail_from="tocsin@example.org")
    )
    with pytest.raises(OSError):
        await ActivityEnvironment().run(closed.send_email, _request())
    others = [_request(key=f"{_request().key}-{n}", to=f"mairie-{n}@example.org") for n in (1, 2)]
    sender = _sender(store, mail_sandbox)
    await ActivityEnvironment().run(sender.send_email_batch, [_request(), *others])
    with store.session() as session:
        rows = {row.key: row for row in outbox.entries(session)}
    assert [rows[request.key].possible_duplicates for request in [_request(), *others]] == [
        1,
        0,
        0,
    ]
    listed = _outbox_listing(store)
    assert f"clé {_request().key}, renvoyé 1 fois : doublon possible" in listed
    assert "3 message(s), dont 1 peut-être reçu(s) en double." in listed
