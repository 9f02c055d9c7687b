"""What the long-running workflows share, seen from outside on the time-skipping
server: a wait with no deadline left, and codes closed only for what has ended."""

import asyncio
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from definitions.committee import TaskState
from definitions.competence import resolve_competence
from definitions.crisis_log import CrisisLogKind
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.mobilisation import MobilisationStart, SupportState
from definitions.people import Person
from definitions.review import PlannedAction, ReviewStart, ReviewStatus
from definitions.temporal_names import (
    PLAN_ACTION_UPDATE,
    mobilisation_workflow_id,
    review_workflow_id,
)
from definitions.territory import load_territory
from definitions.territory.declared_area import affected_communes
from store import directory, events
from store.database import Store
from tests.conftest import Phone, idle, record_event, until_department
from worker.temporal_workers import Messaging, running_workers
from workflows.after_action_review import AfterActionReviewWorkflow
from workflows.department_mobilisation import DepartmentMobilisationWorkflow

ARGENTRE_DIRECTOR = ("ccas-35006-direction", "+33639981340")
PARIS = "75"
"""The demo directory's only CCAS of its department: no neighbour to ask."""
REPRESENTATIVE = Person(
    contact_id="unccas-representant-1",
    name="Représentant",
    organisation_id="unccas",
    phone="+33639980004",
)


async def _closed_flood_review(
    env: WorkflowEnvironment,
    store: Store,
    definitions: Definitions,
    event_id: str,
    representative: Person | None,
) -> ReviewStart:
    """A flood of the Vilaine closed now, recorded in the store, and its review's
    start with nobody to question: the tests follow only its action plan."""
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=["35006"], title="Crue de la Vilaine"
    )
    closed_at = await env.get_current_time()
    record_event(store, event_id, declaration, closed_at)
    protocol = definitions.protocols[EventType.INONDATION]
    return ReviewStart(
        event_id=event_id,
        declaration=declaration,
        header="UNCCAS - INONDATION Ille-et-Vilaine (35)",
        rules=protocol.review,
        task_rules=protocol.committee,
        questions=protocol.questions,
        representative=representative,
        respondents=[],
        closed_at=closed_at,
    )


async def _until_finished(env: WorkflowEnvironment, workflow_id: str) -> ReviewStatus:
    handle = env.client.get_workflow_handle(workflow_id)
    status = None
    for _ in range(300):
        status = await handle.query(AfterActionReviewWorkflow.status)
        if status.finished:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"the review never finished; last status: {status}")


async def test_an_action_escalated_before_the_report_is_still_awaited_after_it(
    time_skipping_env: WorkflowEnvironment,
    demo_store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
) -> None:
    """An action of the plan due before the formal round closes is escalated to
    on-call staff (the event had no representative); once the report is compiled
    nothing is due any more, and the review waits for its FAIT."""
    env = time_skipping_env
    start = await _closed_flood_review(
        env, demo_store, definitions, f"inondation-plan-{task_queue[-6:]}", None
    )
    event_id, review, closed_at = start.event_id, start.rules, start.closed_at
    async with running_workers(env.client, demo_store, task_queue, definitions, messaging):
        handle = await env.client.start_workflow(
            AfterActionReviewWorkflow.run,
            start,
            id=review_workflow_id(event_id),
            task_queue=task_queue,
        )
        planned = await handle.execute_update(
            PLAN_ACTION_UPDATE,
            PlannedAction(
                what="Tenir à jour les numéros d'astreinte",
                owner_id=ARGENTRE_DIRECTOR[0],
                due=(closed_at + review.formal_review_after + timedelta(days=7)).date(),
                planned_by="astreinte",
            ),
            result_type=ReviewStatus,
        )
        [task] = planned.tasks
        await env.sleep(review.formal_review_after + review.answer_deadline + timedelta(days=1))
        await idle(env, handle.id)
        compiled = await handle.query(AfterActionReviewWorkflow.status)
        assert compiled.report_version == 1
        assert compiled.tasks[0].state is TaskState.ESCALATED

        assert "bien reçue" in await phone.reply(ARGENTRE_DIRECTOR[1], f"FAIT {task.code}")
        finished = await _until_finished(env, handle.id)
    assert finished.tasks[0].done_at is not None


async def test_a_support_action_without_neighbours_leaves_the_centre_able_to_answer(
    time_skipping_env: WorkflowEnvironment,
    demo_store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
) -> None:
    """Paris answers AIDE; no CCAS of its department can be asked for reinforcement,
    and the support action closes at its deadline with nothing to close. Paris's own
    code stays open: its later OK counts."""
    env = time_skipping_env
    event_id = f"inondation-paris-{task_queue[-6:]}"
    declaration = EventDeclaration(
        type=EventType.INONDATION, communes=["75056"], title="Crue de la Seine"
    )
    with demo_store.session() as session:
        organisations = directory.organisations(session)
    territory = load_territory()
    [department] = resolve_competence(
        affected_communes(declaration, territory), organisations, territory
    ).departments
    rules = definitions.protocols[EventType.INONDATION].mobilisation
    start = MobilisationStart(
        event_id=event_id,
        department=department,
        declaration=declaration,
        header="UNCCAS - INONDATION Paris (75)",
        rules=rules,
        representative=REPRESENTATIVE,
    )
    record_event(demo_store, event_id, declaration, await env.get_current_time())
    workflow_id = mobilisation_workflow_id(event_id, PARIS)
    async with running_workers(env.client, demo_store, task_queue, definitions, messaging):
        handle = await env.client.start_workflow(
            DepartmentMobilisationWorkflow.run, start, id=workflow_id, task_queue=task_queue
        )
        requested = await until_department(
            env.client, event_id, PARIS, lambda d: d.counts.requested == 1
        )
        [paris] = requested.centres
        director = paris.recipients[0].phone
        assert director is not None
        await phone.reply(director, f"AIDE {paris.code}")
        opened = await until_department(env.client, event_id, PARIS, lambda d: bool(d.actions))
        assert opened.actions[0].neighbours == []

        await idle(env, workflow_id)
        await env.sleep(rules.reinforcement_answer_deadline)
        await until_department(env.client, event_id, PARIS, lambda d: d.actions[0].closed)
        await idle(env, workflow_id)
        await phone.reply(director, f"OK {paris.code}")
        await until_department(env.client, event_id, PARIS, lambda d: d.counts.mobilised == 1)
        await handle.signal(DepartmentMobilisationWorkflow.stop)
        result = await handle.result()
    assert [centre.state for centre in result.centres] == [SupportState.MOBILISED]


async def _runs(env: WorkflowEnvironment, workflow_id: str, run_id: str | None) -> int:
    """How many runs the workflow went through, following its continue-as-new chain."""
    runs = 0
    while run_id:
        runs += 1
        history = await env.client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        last = history.events[-1]
        continued = last.HasField("workflow_execution_continued_as_new_event_attributes")
        attributes = last.workflow_execution_continued_as_new_event_attributes
        run_id = attributes.new_execution_run_id if continued else None
    return runs


async def test_a_long_review_continues_as_new_and_loses_nothing(
    time_skipping_env: WorkflowEnvironment,
    demo_store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
) -> None:
    """An action plan followed for months: the review starts new runs as its history
    grows, and keeps its rounds, report, plan and crisis-log numbering across them."""
    env = time_skipping_env
    opened = await _closed_flood_review(
        env, demo_store, definitions, f"inondation-long-{task_queue[-6:]}", REPRESENTATIVE
    )
    start = opened.model_copy(update={"history_limit": 30})
    event_id, review, closed_at = start.event_id, start.rules, start.closed_at
    report_due = review.formal_review_after + review.answer_deadline
    async with running_workers(env.client, demo_store, task_queue, definitions, messaging):
        handle = await env.client.start_workflow(
            AfterActionReviewWorkflow.run,
            start,
            id=review_workflow_id(event_id),
            task_queue=task_queue,
        )
        for what in ("Tenir à jour les numéros d'astreinte", "Former deux agents d'accueil"):
            await handle.execute_update(
                PLAN_ACTION_UPDATE,
                PlannedAction(
                    what=what,
                    owner_id=ARGENTRE_DIRECTOR[0],
                    due=(closed_at + report_due + timedelta(days=90)).date(),
                    planned_by="astreinte",
                ),
                result_type=ReviewStatus,
            )
        await env.sleep(report_due + timedelta(days=1))
        await idle(env, handle.id)
        compiled = await handle.query(AfterActionReviewWorkflow.status)
        assert await _runs(env, handle.id, handle.first_execution_run_id) > 1
        assert compiled.report_version == 1 and compiled.compiled_at is not None
        assert all(progress.closed for progress in compiled.rounds)
        assert [task.what for task in compiled.tasks] == [
            "Tenir à jour les numéros d'astreinte",
            "Former deux agents d'accueil",
        ]
        for task in compiled.tasks:
            assert "bien reçue" in await phone.reply(ARGENTRE_DIRECTOR[1], f"FAIT {task.code}")
        finished = await _until_finished(env, handle.id)
    assert all(task.done_at is not None for task in finished.tasks)
    with demo_store.session() as session:
        kinds = [entry.kind for entry in events.crisis_log(session, event_id)]
    assert kinds.count(CrisisLogKind.REVIEW_OPENED) == 1
    assert kinds.count(CrisisLogKind.REVIEW_COMPILED) == 1
    assert kinds[-1] is CrisisLogKind.REVIEW_FINISHED
