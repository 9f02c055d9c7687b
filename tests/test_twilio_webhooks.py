"""Twilio's webhooks: signatures, replays, replies, opt-out and delivery callbacks."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker
from twilio.request_validator import RequestValidator

from definitions.awaited_replies import AwaitedRecipient, AwaitedTask
from definitions.outgoing import (
    PERMANENT_DELIVERY_ERROR,
    Channel,
    OutboxStatus,
    SmsRequest,
    idempotency_key,
)
from definitions.replies import ReplyKeyword
from gateway.reply_routing import CLOSED, NOT_UNDERSTOOD, NOTHING_AWAITED, OPTED_OUT
from store import outbox, parked_receipts, reply_codes
from store.database import Store
from store.tables import InboundSmsRow, ParkedReceiptRow
from tests.conftest import TWILIO_AUTH_TOKEN, Phone, in_process_gateway, sms_sender
from tests.receipt_counter import ReceiptCounterWorkflow
from worker.sandbox.twilio_server import Fault, TwilioSandbox

PUBLIC_URL = "https://tocsin.example.org"
PHONE = "+33639980077"


@pytest_asyncio.fixture(loop_scope="session")
async def gateway(
    time_skipping_env: WorkflowEnvironment, store: Store
) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_gateway(time_skipping_env.client, store, PUBLIC_URL) as client:
        yield client


def _signed(path: str, params: dict[str, str], token: str = TWILIO_AUTH_TOKEN) -> dict[str, str]:
    signature = RequestValidator(token).compute_signature(PUBLIC_URL + path, params)
    return {"X-Twilio-Signature": signature}


async def _sms(
    gateway: httpx.AsyncClient, body: str, sid: str, sender: str = PHONE
) -> httpx.Response:
    params = {"MessageSid": sid, "From": sender, "To": "+33639989999", "Body": body}
    return await gateway.post(
        "/webhooks/twilio/sms", data=params, headers=_signed("/webhooks/twilio/sms", params)
    )


async def _receipt(gateway: httpx.AsyncClient, sid: str, status: str = "delivered") -> int:
    params = {"MessageSid": sid, "MessageStatus": status, "To": PHONE}
    path = "/webhooks/twilio/status"
    return (await gateway.post(path, data=params, headers=_signed(path, params))).status_code


def _inbound_count(store: Store) -> int:
    with store.session() as session:
        return len(session.exec(select(InboundSmsRow)).all())


async def test_forged_unsigned_and_huge_webhooks_are_refused(
    gateway: httpx.AsyncClient, store: Store
) -> None:
    params = {"MessageSid": "SM1", "From": PHONE, "Body": "OUI 4821"}
    forged = _signed("/webhooks/twilio/sms", params, token="not-the-token")
    assert (
        await gateway.post("/webhooks/twilio/sms", data=params, headers=forged)
    ).status_code == 403
    assert (await gateway.post("/webhooks/twilio/sms", data=params)).status_code == 403
    tampered = {**params, "Body": "NON 4821"}
    headers = _signed("/webhooks/twilio/sms", params)
    response = await gateway.post("/webhooks/twilio/sms", data=tampered, headers=headers)
    assert response.status_code == 403
    huge = {**params, "Body": "x" * 100_000}
    response = await gateway.post(
        "/webhooks/twilio/sms", data=huge, headers=_signed("/webhooks/twilio/sms", huge)
    )
    assert response.status_code == 403
    assert _inbound_count(store) == 0


async def test_replies_are_answered_in_french_and_replays_change_nothing(
    gateway: httpx.AsyncClient, store: Store
) -> None:
    understood = await _sms(gateway, "oui 4821", "SM100")
    assert understood.status_code == 200
    assert understood.headers["content-type"].startswith("application/xml")
    assert f"<Message>{NOTHING_AWAITED}</Message>" in understood.text
    unclear = await _sms(gateway, "Bonjour, c'est qui ?", "SM101")
    assert f"<Message>{NOT_UNDERSTOOD}</Message>" in unclear.text
    replayed = await _sms(gateway, "oui 4821", "SM100")
    assert replayed.status_code == 200 and "<Message>" not in replayed.text
    assert _inbound_count(store) == 2


async def test_stop_opts_out_and_sms_then_fail_over(
    gateway: httpx.AsyncClient, store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    answer = await _sms(gateway, "Arrêt", "SM200")
    assert f"<Message>{OPTED_OUT}</Message>" in answer.text
    sender = sms_sender(store, twilio_sandbox)
    request = SmsRequest(
        key=idempotency_key("e", "step", "contact", Channel.SMS),
        event_id="e",
        step="step",
        to=PHONE,
        body="UNCCAS : test",
    )
    with pytest.raises(ApplicationError) as raised:
        await asyncio.to_thread(ActivityEnvironment().run, sender.send_sms, request)
    assert raised.value.type == PERMANENT_DELIVERY_ERROR and raised.value.details == ("opted_out",)
    assert twilio_sandbox.sent_to(PHONE) == []


@pytest.mark.parametrize(
    ("fault", "final", "code"),
    [(None, OutboxStatus.DELIVERED, None), (Fault.UNDELIVERED, OutboxStatus.UNDELIVERED, "30003")],
)
async def test_delivery_callbacks_update_the_outbox(
    store: Store,
    twilio_sandbox: TwilioSandbox,
    phone: Phone,
    fault: Fault | None,
    final: OutboxStatus,
    code: str | None,
) -> None:
    if fault:
        twilio_sandbox.faults.append(fault)
    sender = sms_sender(
        store, twilio_sandbox, status_callback=f"{phone.public_url}/webhooks/twilio/status"
    )
    request = SmsRequest(
        key=idempotency_key("e", "support_request", "ccas", Channel.SMS),
        event_id="e",
        step="support_request",
        to=PHONE,
        body="x",
    )
    await asyncio.to_thread(ActivityEnvironment().run, sender.send_sms, request)
    for _ in range(100):
        with store.session() as session:
            [entry] = outbox.entries(session)
        if entry.status is final:
            break
        await asyncio.sleep(0.05)
    assert (entry.status, entry.error_code) == (final, code)


async def test_a_receipt_that_outruns_the_record_of_its_sid_waits_for_it(
    gateway: httpx.AsyncClient, store: Store
) -> None:
    """Twilio may call back before the sending activity has written the sid it was
    given: the receipt is kept once the sid is there."""
    key = idempotency_key("e", "support_request", "ccas", Channel.SMS)
    claim = outbox.OutboxClaim(key, "e", Channel.SMS, "support_request", PHONE, "x")

    async def record_sid_late() -> None:
        await asyncio.sleep(1.0)
        with store.session() as session:
            now = datetime.now(UTC)
            outbox.claim_all(session, [claim], now)
            outbox.mark_all(session, [outbox.OutboxMark(key, OutboxStatus.QUEUED, "SMlate")], now)
            session.commit()

    recording = asyncio.create_task(record_sid_late())
    assert await _receipt(gateway, "SMlate") == 204
    await recording
    with store.session() as session:
        entries = outbox.entries(session)
    assert [(entry.provider_id, entry.status) for entry in entries] == [
        ("SMlate", OutboxStatus.DELIVERED)
    ]


async def test_a_receipt_whose_sid_is_recorded_after_its_wait_is_kept_until_then(
    gateway: httpx.AsyncClient, store: Store
) -> None:
    """A worker killed between the provider's answer and the record of the sid: the
    retry of its batch finds the message at the provider and records the sid about
    15 s later, after the receipt's wait. The receipt is parked, then lands, past an
    older one whose sid never comes."""
    key = idempotency_key("e", "support_request", "ccas", Channel.SMS)
    claim = outbox.OutboxClaim(key, "e", Channel.SMS, "support_request", PHONE, "x")
    with store.session() as session:
        now = datetime.now(UTC)
        outbox.claim_all(session, [claim], now)
        outbox.mark_all(session, [outbox.OutboxMark(key, OutboxStatus.SENDING)], now)
        parked_receipts.park(session, "SMforeign", OutboxStatus.DELIVERED, None, now)
        session.commit()
    assert await _receipt(gateway, "SMparked") == 204
    with store.session() as session:
        [entry] = outbox.entries(session)
        waiting = session.exec(select(ParkedReceiptRow.message_sid, ParkedReceiptRow.status)).all()
    assert (entry.provider_id, entry.status) == (None, OutboxStatus.SENDING)
    assert sorted(waiting) == [
        ("SMforeign", OutboxStatus.DELIVERED.value),
        ("SMparked", OutboxStatus.DELIVERED.value),
    ]
    with store.session() as session:
        marks = [outbox.OutboxMark(key, OutboxStatus.QUEUED, "SMparked")]
        outbox.mark_all(session, marks, datetime.now(UTC))
        session.commit()
    for _ in range(100):
        with store.session() as session:
            [entry] = outbox.entries(session)
            still_parked = session.exec(select(ParkedReceiptRow.message_sid)).all()
        if entry.status is OutboxStatus.DELIVERED:
            break
        await asyncio.sleep(0.05)
    assert (entry.provider_id, entry.status) == ("SMparked", OutboxStatus.DELIVERED)
    assert still_parked == ["SMforeign"], "a receipt no message takes waits without holding others"


async def test_an_answer_to_a_workflow_that_has_ended_is_told_so_and_closes_its_code(
    gateway: httpx.AsyncClient, store: Store
) -> None:
    """The code was still open when its workflow ended (a crash between the two): the
    phone is told the request is closed, and the code is closed with it."""
    task = AwaitedTask(
        task_key="ccas-29019",
        keywords=[ReplyKeyword.MOBILISED],
        recipients=[AwaitedRecipient(contact_id="c-1", phone=PHONE)],
    )
    with store.session() as session:
        codes = reply_codes.open_codes(session, "ended-workflow", "e", [task], datetime.now(UTC))
        session.commit()
    answer = f"OK {codes['ccas-29019']}"
    closed = await _sms(gateway, answer, "SM300")
    assert f"<Message>{CLOSED}</Message>" in closed.text
    with store.session() as session:
        [row] = reply_codes.codes_of_phone(session, PHONE)
    assert row.closed_at is not None


async def test_callbacks_out_of_order_leave_the_message_delivered_and_tell_its_workflow_once(
    time_skipping_env: WorkflowEnvironment, gateway: httpx.AsyncClient, store: Store
) -> None:
    """Twilio may post a message's callbacks in any order, and again: the status only
    moves forward, every callback is kept in the outbox, and the workflow awaiting
    the answer hears of the delivery once."""
    client = time_skipping_env.client
    queue = f"receipts-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[ReceiptCounterWorkflow]):
        handle = await client.start_workflow(ReceiptCounterWorkflow.run, id=queue, task_queue=queue)
        key = idempotency_key(handle.id, "support_request", "c-1", Channel.SMS)
        claim = outbox.OutboxClaim(key, "e", Channel.SMS, "support_request", PHONE, "x")
        task = AwaitedTask(
            task_key="ccas-29019",
            keywords=[ReplyKeyword.MOBILISED],
            recipients=[AwaitedRecipient(contact_id="c-1", phone=PHONE)],
        )
        with store.session() as session:
            now = datetime.now(UTC)
            outbox.claim_all(session, [claim], now)
            outbox.mark_all(session, [outbox.OutboxMark(key, OutboxStatus.QUEUED, "SMorder")], now)
            reply_codes.open_codes(session, handle.id, "e", [task], now)
            session.commit()
        for status in ("delivered", "sent", "queued", "delivered"):
            assert await _receipt(gateway, "SMorder", status) == 204
        async with asyncio.timeout(30):
            while True:
                if await handle.query(ReceiptCounterWorkflow.receipts):
                    break
                await asyncio.sleep(0.1)
        told = await handle.query(ReceiptCounterWorkflow.receipts)
        await handle.terminate()
    with store.session() as session:
        [entry] = [entry for entry in outbox.entries(session) if entry.key == key]
        history = outbox.callbacks(session, key)
    assert entry.status is OutboxStatus.DELIVERED
    assert [(callback.status, callback.applied) for callback in history] == [
        (OutboxStatus.DELIVERED, True),
        (OutboxStatus.SENT, False),
        (OutboxStatus.QUEUED, False),
        (OutboxStatus.DELIVERED, False),
    ]
    assert told == 1
