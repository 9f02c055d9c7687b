"""Determinism: recorded histories of every workflow type replay against the
current code, so that a change which would break an event already running fails here.

Tocsin 1.0 starts from histories without any patch: no run from before it is
replayed. After 1.0, a change that breaks replay goes through Temporal's stages,
each released on its own: ``workflow.patched`` (the old path kept for the runs that
started before), then ``workflow.deprecate_patch`` once no run predates the patch,
then removal once no run predates the deprecation. The recorded histories of each
stage stay beside the new ones, named ``<id>--<type>--before-<patch>.json``, until
the patch is removed. ``make histories`` records the current ones anew (see
docs/development.md, "Versioning workflows")."""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from definitions.directory import OrganisationKind
from definitions.directory_verification import (
    VerificationProgress,
    VerificationStart,
    verification_workflow_id,
)
from definitions.event import CloseRequest, EventDeclaration
from definitions.event_type import EventType
from definitions.guide import guide_diffusion_workflow_id
from definitions.loader import Definitions
from definitions.staff_notice import StaffNoticeStart, staff_notice_workflow_id
from definitions.temporal_names import (
    CLOSE_UPDATE,
    VERIFICATION_PROGRESS_QUERY,
    committee_workflow_id,
    designation_workflow_id,
    mobilisation_workflow_id,
    review_workflow_id,
)
from operations import guide_control
from store.database import Store
from tests.conftest import (
    Phone,
    candidates_asked,
    gateway_phone,
    record_event,
    start_event,
    time_skipping_server,
    until_department,
    until_status,
)
from worker.temporal_workers import Messaging, running_workers
from workflows.after_action_review import AfterActionReviewWorkflow
from workflows.committee_liaison import CommitteeLiaisonWorkflow
from workflows.department_mobilisation import DepartmentMobilisationWorkflow
from workflows.directory_digest import DirectoryDigestWorkflow
from workflows.directory_verification import DirectoryVerificationWorkflow
from workflows.guide_diffusion import GuideDiffusionWorkflow
from workflows.major_event import MajorEventWorkflow
from workflows.representative_designation import RepresentativeDesignationWorkflow
from workflows.staff_notice import StaffNoticeWorkflow

HISTORIES = Path(__file__).parent / "histories"
RECORDING = os.environ.get("TOCSIN_RECORD_HISTORIES") == "1"
WORKFLOWS = [
    MajorEventWorkflow,
    RepresentativeDesignationWorkflow,
    DepartmentMobilisationWorkflow,
    CommitteeLiaisonWorkflow,
    AfterActionReviewWorkflow,
    GuideDiffusionWorkflow,
    StaffNoticeWorkflow,
    DirectoryVerificationWorkflow,
    DirectoryDigestWorkflow,
]
LILLE_DIRECTOR = "+33639980001"


def _recorded() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def test_every_workflow_type_has_a_recorded_history() -> None:
    types = {path.stem.split("--")[1] for path in _recorded()}
    assert types == {workflow.__name__ for workflow in WORKFLOWS}


@pytest.mark.parametrize("path", _recorded(), ids=lambda path: path.stem)
async def test_recorded_history_replays(path: Path) -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    workflow_id = path.stem.split("--")[0].replace("~", "/")
    await replayer.replay_workflow(
        WorkflowHistory.from_json(
            workflow_id, await asyncio.to_thread(path.read_text, encoding="utf-8")
        )
    )


async def _save(env: WorkflowEnvironment, workflows: dict[str, type]) -> None:
    for workflow_id, workflow_type in workflows.items():
        history = await env.client.get_workflow_handle(workflow_id).fetch_history()
        path = HISTORIES / f"{workflow_id.replace('/', '~')}--{workflow_type.__name__}.json"
        await asyncio.to_thread(path.write_text, history.to_json(), encoding="utf-8")


@dataclass
class Recording:
    env: WorkflowEnvironment
    phone: Phone
    task_queue: str


@contextlib.asynccontextmanager
async def _recording(
    store: Store, task_queue: str, definitions: Definitions, messaging: Messaging
) -> AsyncIterator[Recording]:
    """A time-skipping server per scenario: once an event's review outlives it (an
    abandoned child), a server stops skipping time for the next ones."""
    async with (
        time_skipping_server() as env,
        running_workers(env.client, store, task_queue, definitions, messaging),
        gateway_phone(env.client, store) as phone,
    ):
        yield Recording(env, phone, task_queue)


@pytest.mark.skipif(not RECORDING, reason="make histories records them")
async def test_record_histories(
    store_with_network: Store, task_queue: str, definitions: Definitions, messaging: Messaging
) -> None:
    """A designation by SMS, a CCAS answering OK, then closure and the after-action
    review up to its report; a search stopped by closure without review; an event
    through its committee phase (a committee, a meeting, its report with an action
    done by SMS). Files of the same name are overwritten; the others stay, as a
    ``<id>--<type>--before-<patch>.json`` kept while that patch is in the code."""
    parts = (store_with_network, task_queue, definitions, messaging)
    for answer in ("OUI", None):
        async with _recording(*parts) as recording:
            await _record_designation(recording, answer)
    async with _recording(*parts) as recording:
        await _record_committee_phase(recording)


@pytest.mark.skipif(not RECORDING, reason="make histories records them")
async def test_record_histories_of_the_guide(
    store_with_network: Store, task_queue: str, definitions: Definitions, messaging: Messaging
) -> None:
    """An edition of the flood guide diffused to the Nord's CCAS director and UD."""
    async with _recording(store_with_network, task_queue, definitions, messaging) as recording:
        await guide_control.publish(
            recording.env.client, task_queue, EventType.INONDATION, department="59"
        )
        workflow_id = guide_diffusion_workflow_id(EventType.INONDATION, "59")
        await _save(recording.env, {workflow_id: GuideDiffusionWorkflow})


@pytest.mark.skipif(not RECORDING, reason="make histories records them")
async def test_record_histories_of_the_staff_notice(
    store_with_network: Store, task_queue: str, definitions: Definitions, messaging: Messaging
) -> None:
    """On-call staff told of a real flood in the Nord declared by its UD."""
    event_id = "recorded-ud"
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=["59350"], title="Enregistrement"
    )
    record_event(store_with_network, event_id, declaration, datetime.now(UTC))
    async with _recording(store_with_network, task_queue, definitions, messaging) as recording:
        notice = StaffNoticeStart(event_id=event_id, declaration=declaration, declared_by="UD")
        workflow_id = staff_notice_workflow_id(event_id)
        await recording.env.client.execute_workflow(
            StaffNoticeWorkflow.run, notice, id=workflow_id, task_queue=task_queue
        )
        await _save(recording.env, {workflow_id: StaffNoticeWorkflow})


@pytest.mark.skipif(not RECORDING, reason="make histories records them")
async def test_record_histories_of_the_directory_verification(
    store_with_network: Store, task_queue: str, definitions: Definitions, messaging: Messaging
) -> None:
    """A verification campaign over the Nord's CCAS: Lille's director answers OK,
    the others are reminded, then listed to the UD; then the day's digest."""
    workflow_id = verification_workflow_id("recorded")
    async with _recording(store_with_network, task_queue, definitions, messaging) as recording:
        handle = await recording.env.client.start_workflow(
            DirectoryVerificationWorkflow.run,
            VerificationStart(
                campaign_id="recorded", departments=["59"], kinds=[OrganisationKind.CCAS]
            ),
            id=workflow_id,
            task_queue=task_queue,
        )
        for _ in range(200):
            progress = await handle.query(
                VERIFICATION_PROGRESS_QUERY, result_type=VerificationProgress
            )
            if progress.batches_sent and progress.organisations:
                break
            await asyncio.sleep(0.05)
        assert "bien reçue" in await recording.phone.reply(LILLE_DIRECTOR, "OK")
        await handle.result()
        await _save(recording.env, {workflow_id: DirectoryVerificationWorkflow})
        digest_id = "verification-digest-recorded"
        await recording.env.client.execute_workflow(
            DirectoryDigestWorkflow.run, id=digest_id, task_queue=task_queue
        )
        await _save(recording.env, {digest_id: DirectoryDigestWorkflow})


async def _record_designation(recording: Recording, answer: str | None) -> None:
    env, phone = recording.env, recording.phone
    event_id = "recorded-mobilised" if answer else "recorded-stopped"
    declaration = EventDeclaration(
        type=EventType.ATTENTAT, communes=["59350"], title="Enregistrement"
    )
    handle = await start_event(env.client, recording.task_queue, declaration, event_id)
    await until_status(handle, candidates_asked(1))
    workflows: dict[str, type] = {
        event_id: MajorEventWorkflow,
        designation_workflow_id(event_id, 1): RepresentativeDesignationWorkflow,
    }
    if answer:
        await phone.reply("+33639980101", answer)
        department = await until_department(
            env.client, event_id, "59", lambda d: d.counts.requested == 1
        )
        await phone.reply(LILLE_DIRECTOR, f"OK {department.centres[0].code}")
        await until_department(env.client, event_id, "59", lambda d: d.counts.mobilised == 1)
        workflows[mobilisation_workflow_id(event_id, "59")] = DepartmentMobilisationWorkflow
        workflows[review_workflow_id(event_id)] = AfterActionReviewWorkflow
    closure = CloseRequest(closed_by="a", review=answer is not None)
    await handle.execute_update(CLOSE_UPDATE, closure)
    await handle.result()
    await _save(env, workflows)


async def _record_committee_phase(recording: Recording) -> None:
    env, phone, task_queue = recording.env, recording.phone, recording.task_queue
    event_id = "recorded-committee"
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=["59350"], title="Enregistrement"
    )
    handle = await start_event(env.client, task_queue, declaration, event_id)
    await until_status(handle, candidates_asked(1))
    await phone.reply("+33639980101", "OUI")
    await until_department(env.client, event_id, "59", lambda d: d.counts.requested == 1)
    api = f"/api/events/{event_id}"
    meeting = await env.get_current_time() + timedelta(days=2)
    for path, body in (
        ("/committee-phase", {}),
        ("/committees", {"department_code": "59", "name": "CLAV du Nord", "place": "Lille"}),
        ("/meetings", {"committee_id": "clav-59", "starts_at": meeting.isoformat()}),
    ):
        assert (await phone.http.post(api + path, json=body)).status_code in (200, 201)
    await env.sleep(timedelta(days=3))
    reported = await phone.http.post(
        api + "/meetings/reunion-1/report",
        json={
            "summary": "Premier comité.",
            "actions": [
                {"what": "Recenser", "assignee_id": "ccas-59350-direction", "due": "2100-01-01"}
            ],
        },
    )
    assert reported.status_code == 200, reported.text
    code = reported.json()["tasks"][0]["code"]
    assert "bien reçue" in await phone.reply(LILLE_DIRECTOR, f"FAIT {code}")
    await handle.execute_update(CLOSE_UPDATE, CloseRequest(closed_by="a"))
    await handle.result()
    await _save(
        env,
        {
            event_id: MajorEventWorkflow,
            committee_workflow_id(event_id): CommitteeLiaisonWorkflow,
        },
    )
