"""One major event, from declaration to stand-down: the root of its workflow tree."""

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from definitions.competence import TerritorySummary
    from definitions.crisis_log import (
        SYSTEM_ACTOR,
        CrisisLogEntry,
        CrisisLogKind,
        DeclarationRecord,
        PhaseRecord,
    )
    from definitions.event import (
        CloseRequest,
        EventCounters,
        EventStart,
        EventStatus,
        Phase,
        PhaseChange,
        describe_area,
    )
    from definitions.protocol import Protocol
    from definitions.temporal_names import (
        APPEND_CRISIS_LOG,
        CLOSE_UPDATE,
        LOAD_PROTOCOL,
        MAJOR_EVENT_WORKFLOW,
        RECORD_DECLARATION,
        RECORD_PHASE,
        RESOLVE_TERRITORY,
        STATUS_QUERY,
    )

Result = TypeVar("Result")

RECORD_TIMEOUT = timedelta(seconds=30)
RECORD_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))
ACTIVE_PHASES = (Phase.REPRESENTATIVE, Phase.MOBILISATION, Phase.COMMITTEE)


@workflow.defn(name=MAJOR_EVENT_WORKFLOW)
class MajorEventWorkflow:
    """Walks the protocol's phases; its id is the event id.

    The acute phases (representative, mobilisation) will each be driven by a
    child workflow; the committee phase lasts until staff stand the event down,
    which leads through the after-action review to closure.
    """

    @workflow.init
    def __init__(self, start: EventStart) -> None:
        now = workflow.now()
        declaration = start.declaration
        self._status = EventStatus(
            event_id=start.event_id,
            type=declaration.type,
            title=declaration.title,
            exercise=declaration.exercise,
            communes=declaration.communes,
            departments=declaration.departments,
            declared_by=start.declared_by,
            phase=Phase.DECLARED,
            declared_at=now,
            phases=[PhaseChange(phase=Phase.DECLARED, at=now)],
            counters=EventCounters(),
        )
        self._close_request: CloseRequest | None = None
        self._closure_recorded = False

    @workflow.run
    async def run(self, start: EventStart) -> EventStatus:
        await self._record_declaration(start)
        await self._prepare(start)
        for phase in ACTIVE_PHASES:
            await self._enter(phase)
        await workflow.wait_condition(lambda: self._close_request is not None)
        await self._record_close_request()
        await self._enter(Phase.REVIEW)
        await self._enter(Phase.CLOSED)
        self._closure_recorded = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> EventStatus:
        return self._status

    @workflow.update(name=CLOSE_UPDATE)
    async def close(self, request: CloseRequest) -> EventStatus:
        """Stand the event down; answers once its closure is in the crisis log."""
        self._close_request = request
        await workflow.wait_condition(lambda: self._closure_recorded)
        return self._status

    @close.validator
    def _validate_close(self, request: CloseRequest) -> None:
        if self._status.phase is Phase.CLOSED:
            raise ApplicationError("l'événement est déjà clos", type="AlreadyClosed")
        if self._close_request is not None:
            raise ApplicationError(
                f"la clôture est déjà en cours (demandée par {self._close_request.closed_by})",
                type="AlreadyClosing",
            )

    def _next_entry(self, kind: CrisisLogKind, actor: str, text: str) -> CrisisLogEntry:
        counters = self._status.counters
        counters.crisis_log_entries += 1
        return CrisisLogEntry(
            entry_key=f"{self._status.event_id}/{counters.crisis_log_entries}",
            event_id=self._status.event_id,
            at=workflow.now(),
            actor=actor,
            kind=kind,
            text=text,
        )

    async def _record_declaration(self, start: EventStart) -> None:
        declaration = start.declaration
        drill = " (EXERCICE)" if declaration.exercise else ""
        area = describe_area(declaration.communes, declaration.departments)
        text = (
            f"Événement déclaré{drill} par {start.declared_by} : {declaration.type.label} "
            f"« {declaration.title} », {area}."
        )
        entry = self._next_entry(CrisisLogKind.EVENT_DECLARED, start.declared_by, text)
        record = DeclarationRecord(
            event_id=start.event_id,
            declaration=declaration,
            declared_by=start.declared_by,
            declared_at=self._status.declared_at,
            entry=entry,
        )
        await self._execute(RECORD_DECLARATION, record)

    async def _prepare(self, start: EventStart) -> None:
        """The protocol and the competent territory, held for every later phase."""
        self._status.protocol = await self._execute(
            LOAD_PROTOCOL, start.declaration.type, result_type=Protocol
        )
        territory = await self._execute(
            RESOLVE_TERRITORY, start.declaration, result_type=TerritorySummary
        )
        self._status.territory = territory
        text = (
            f"Territoire : {territory.area()} ; {territory.competent_ccas} CCAS et "
            f"{territory.competent_cias} CIAS compétents, "
            f"{territory.uncovered_communes} commune(s) sans CCAS ni CIAS."
        )
        entry = self._next_entry(CrisisLogKind.TERRITORY_RESOLVED, SYSTEM_ACTOR, text)
        await self._execute(APPEND_CRISIS_LOG, entry)

    async def _enter(self, phase: Phase) -> None:
        now = workflow.now()
        self._status.phase = phase
        self._status.phases.append(PhaseChange(phase=phase, at=now))
        if phase is Phase.CLOSED:
            self._status.closed_at = now
            text = "Événement clos."
        else:
            text = f"Début de la phase « {phase.label} »."
        workflow.logger.info("phase %s started", phase.value)
        entry = self._next_entry(CrisisLogKind.PHASE_STARTED, SYSTEM_ACTOR, text)
        await self._execute(RECORD_PHASE, PhaseRecord(phase=phase, entry=entry))

    async def _record_close_request(self) -> None:
        request = self._close_request
        assert request is not None
        reason = f" : {request.reason}" if request.reason else ""
        text = f"Levée du dispositif demandée par {request.closed_by}{reason}."
        entry = self._next_entry(CrisisLogKind.CLOSE_REQUESTED, request.closed_by, text)
        await self._execute(APPEND_CRISIS_LOG, entry)

    async def _execute(
        self, activity_name: str, argument: object, result_type: type[Result] | None = None
    ) -> Result:
        return await workflow.execute_activity(
            activity_name,
            argument,
            result_type=result_type,
            start_to_close_timeout=RECORD_TIMEOUT,
            retry_policy=RECORD_RETRY,
        )
