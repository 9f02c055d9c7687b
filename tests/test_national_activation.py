"""A national activation on the time-skipping server: every department of France is
mobilised, the largest with all its CCAS/CIAS and the others with a few, through
the real senders and the local providers; every centre is asked once and no
workflow's history comes near Temporal's limits; the console's event page reaches
every centre, page by page. The event's own workflow carries all 101 departments and
the largest department its full load, which is what bounds histories; the full
national directory (about 4,000 centres) is the benchmark's
(benchmarks/national_activation.py)."""

import html
import re
from dataclasses import replace

import httpx
import pytest
from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from definitions.directory import Directory, OrganisationKind
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.temporal_names import (
    SEND_EMAIL_BATCH,
    SEND_SMS_BATCH,
    mobilisation_workflow_id,
)
from definitions.territory import Territory, load_territory
from gateway.console.event_pages import CENTRES_PER_PAGE
from operations.mobilisation_reads import MobilisationReads
from store.database import Store
from store.directory import replace_directory
from tests.conftest import Phone, stand_down, start_event, until_status
from worker.demo_directory import demo_directory
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import TwilioSandbox
from worker.temporal_workers import Messaging, running_workers

pytestmark = pytest.mark.heavy
HISTORY_WARNING = 10_000
CENTRES_ELSEWHERE = 3
"""CCAS/CIAS kept in each department other than the largest."""
SUPPORT_REQUEST_MARK = "votre centre est-il mobilis"
LARGEST_DEPARTMENT = "59"


async def _batches_in_order(client: Client, workflow_id: str) -> list[tuple[str, str]]:
    """(what happened, which batch activity) in history order."""
    scheduled: dict[int, str] = {}
    order = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == HistoryEventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[event.event_id] = name
            order.append(("scheduled", name))
        elif event.event_type == HistoryEventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attributes = event.activity_task_completed_event_attributes
            order.append(("completed", scheduled[attributes.scheduled_event_id]))
    return order


async def _centres_in_console(http: httpx.AsyncClient, event_id: str) -> list[str]:
    """The centres of the event's page, following its pages' "next" links: each page
    refreshes its own part of the table."""
    shown: list[str] = []
    url: str | None = f"/evenements/{event_id}"
    while url is not None:
        page = await http.get(url)
        assert page.status_code == 200, page.text
        rows = re.findall(r'data-organisation="([^"]+)"', page.text)
        assert 0 < len(rows) <= CENTRES_PER_PAGE
        number = len(shown) // CENTRES_PER_PAGE + 1
        refreshed = await http.get(f"/evenements/{event_id}/situation?page={number}")
        assert re.findall(r'data-organisation="([^"]+)"', refreshed.text) == rows
        shown += rows
        following = re.search(r'href="([^"]+)" rel="next">Page suivante', page.text)
        url = html.unescape(following.group(1)) if following else None
    assert f"Page {number} sur {number} (" in html.unescape(page.text)
    return shown


def _largest_in_full(directory: Directory, territory: Territory) -> Directory:
    """The demo directory with every CCAS/CIAS of the largest department and the
    first few of each other one."""
    kept_by_department: dict[str, int] = {}
    organisations = []
    for organisation in directory.organisations:
        if organisation.kind in {OrganisationKind.CCAS, OrganisationKind.CIAS}:
            commune = territory.commune(organisation.insee_code or "")
            department = commune.department_code if commune else organisation.department_code
            if department != LARGEST_DEPARTMENT:
                kept = kept_by_department.get(department or "", 0)
                if kept >= CENTRES_ELSEWHERE:
                    continue
                kept_by_department[department or ""] = kept + 1
        organisations.append(organisation)
    kept_ids = {organisation.id for organisation in organisations}
    return Directory(
        organisations=organisations,
        contacts=[c for c in directory.contacts if c.organisation_id in kept_ids],
    )


async def test_every_department_is_mobilised_each_centre_asked_once_and_histories_stay_small(
    time_skipping_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    twilio_sandbox: TwilioSandbox,
    mail_sandbox: MailSandbox,
    phone: Phone,
) -> None:
    territory = load_territory()
    with store.session() as session:
        replace_directory(session, _largest_in_full(demo_directory(territory), territory))
        session.commit()
    declaration = EventDeclaration(
        type=EventType.INONDATION,
        departments=sorted(territory.departments),
        title="Exercice national",
        exercise=True,
    )
    client = time_skipping_env.client
    unthrottled = replace(messaging, sms_per_second=1_000_000.0)
    async with running_workers(client, store, task_queue, definitions, unthrottled):
        handle = await start_event(client, task_queue, declaration, f"national-{task_queue[-6:]}")
        await until_status(handle, lambda s: bool(s.designation and s.designation.attempts))
        await phone.reply("+33639980004", "oui")
        status = await until_status(handle, lambda s: len(s.mobilised_departments) == 101)
        overview = None
        for _ in range(1200):
            overview = await MobilisationReads(client, store).overview(handle.id)
            counted = len(overview.departments) == len(territory.departments)
            if counted and overview.total.requested == overview.total.centres:
                break
            await time_skipping_env.sleep(0)
        assert overview is not None
        total = overview.total
        largest = overview.departments[LARGEST_DEPARTMENT]
        assert largest.requested == largest.centres > 100, largest
        assert total.requested == total.centres >= largest.centres + 100, total
        assert total.unreachable == 0
        requests = [m for m in twilio_sandbox.messages if SUPPORT_REQUEST_MARK in m.body]
        assert len(requests) == total.centres
        assert len({m.to for m in requests}) == len(requests)
        lengths = {}
        for code in status.mobilised_departments:
            described = await client.get_workflow_handle(
                mobilisation_workflow_id(handle.id, code)
            ).describe()
            lengths[code] = described.raw_description.workflow_execution_info.history_length
        event = await handle.describe()
        lengths["event"] = event.raw_description.workflow_execution_info.history_length
        assert max(lengths.values()) < HISTORY_WARNING, lengths
        centres = await _centres_in_console(phone.http, handle.id)
        assert sorted(centres) == sorted(
            centre.organisation_id
            for department in await MobilisationReads(client, store).departments(handle.id)
            for centre in department.centres
        )
        # The largest department has four SMS batches: its email leaves alongside them.
        batches = await _batches_in_order(
            client, mobilisation_workflow_id(handle.id, LARGEST_DEPARTMENT)
        )
        first_email = batches.index(("scheduled", SEND_EMAIL_BATCH))
        sms_done = [i for i, step in enumerate(batches) if step == ("completed", SEND_SMS_BATCH)]
        assert len(sms_done) >= 4 and first_email < sms_done[0], batches
        await stand_down(handle)
    assert len(mail_sandbox.received) >= total.centres
