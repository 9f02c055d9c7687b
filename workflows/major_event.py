"""One major event, from declaration to stand-down: the root of its workflow tree."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.alert_levels import AlertLevelChange, LevelChanged, level_problem, level_report
    from definitions.committee import CommitteePhaseRequest, CommitteeStart, CommitteeStatus
    from definitions.competence import DepartmentTerritory
    from definitions.crisis_log import (
        SYSTEM_ACTOR,
        AreaRecord,
        CrisisLogEntry,
        CrisisLogKind,
        DeclarationRecord,
        PhaseRecord,
    )
    from definitions.designation import (
        DesignationStart,
        DesignationStatus,
        RepresentativeChange,
    )
    from definitions.event import (
        CloseRequest,
        EventDeclaration,
        EventStart,
        Phase,
        describe_area,
    )
    from definitions.event_status import EventCounters, EventStatus, PhaseChange
    from definitions.messages import message_header
    from definitions.mobilisation import (
        AreaChange,
        AreaExtension,
        MobilisationStart,
        MobilisationStatus,
        SituationReport,
        SupportState,
    )
    from definitions.protocol import Protocol
    from definitions.review import CompiledReport, Respondent, RespondentRole, ReviewStart
    from definitions.temporal_names import (
        ALERT_LEVEL_UPDATE,
        AREA_CHANGE_SIGNAL,
        BROADCAST_UPDATE,
        CHANGE_REPRESENTATIVE_UPDATE,
        CLOSE_UPDATE,
        DESIGNATE_SIGNAL,
        DESIGNATION_PROGRESS_SIGNAL,
        ENTER_COMMITTEE_UPDATE,
        EXTEND_AREA_UPDATE,
        MAJOR_EVENT_WORKFLOW,
        REPRESENTATIVE_SIGNAL,
        REVIEW_COMPILED_SIGNAL,
        SITUATION_REPORT_SIGNAL,
        STATUS_QUERY,
        STOP_SIGNAL,
        committee_workflow_id,
        designation_workflow_id,
        mobilisation_workflow_id,
        review_workflow_id,
    )
    from workflows.after_action_review import AfterActionReviewWorkflow
    from workflows.committee_liaison import CommitteeLiaisonWorkflow
    from workflows.crisis_log import CrisisLogWriter
    from workflows.department_mobilisation import DepartmentMobilisationWorkflow
    from workflows.representative_designation import RepresentativeDesignationWorkflow
    from workflows.store_calls import call_store


@workflow.defn(name=MAJOR_EVENT_WORKFLOW)
class MajorEventWorkflow:
    """Walks the protocol's phases; its id is the event id.

    The representative phase is a child workflow that lasts until someone is
    designated; a handover later runs another one. Mobilisation lasts until staff
    move the event to its committee phase (a child workflow that follows the
    committees for months) or stand it down; standing down leads through the
    after-action review to closure.
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
        self._log = CrisisLogWriter(start.event_id, start.event_id)
        self._start = start
        self._header = ""
        self._designation: (
            ChildWorkflowHandle[RepresentativeDesignationWorkflow, DesignationStatus] | None
        ) = None
        self._early_change: RepresentativeChange | None = None
        self._departments: dict[
            str, ChildWorkflowHandle[DepartmentMobilisationWorkflow, MobilisationStatus]
        ] = {}
        self._representative_news = False
        self._area_lock = asyncio.Lock()
        self._mobilisation_stopped = False
        self._committee_request: CommitteePhaseRequest | None = None
        self._committee: ChildWorkflowHandle[CommitteeLiaisonWorkflow, CommitteeStatus] | None = (
            None
        )
        self._final_departments: list[MobilisationStatus] = []
        self._review_compiled = False

    @workflow.run
    async def run(self, start: EventStart) -> EventStatus:
        await self._record_declaration(start)
        await self._prepare(start)
        if self._close_request is None:
            await self._enter(Phase.REPRESENTATIVE)
            await self._start_designation(self._early_change)
            await workflow.wait_condition(
                lambda: not self._designation_running or self._close_request is not None
            )
        if self._close_request is None:
            await self._enter(Phase.MOBILISATION)
            await self._start_mobilisation()
            await self._pass_on_representative(
                lambda: list(self._departments.values()),
                until=lambda: self._committee_request is not None,
            )
        if self._committee_request is not None and self._close_request is None:
            await self._start_committee()
            await self._pass_on_representative(
                lambda: [self._committee] if self._committee else [], until=lambda: False
            )
        await workflow.wait_condition(lambda: self._close_request is not None)
        await self._stop_designation()
        await self._stop_mobilisation()
        await self._stop_committee()
        await self._record_close_request()
        await self._enter(Phase.REVIEW)
        assert self._close_request is not None
        if self._close_request.review:
            self._closure_recorded = True
            await self._start_review()
            await workflow.wait_condition(lambda: self._review_compiled)
        await self._enter(Phase.CLOSED)
        self._closure_recorded = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> EventStatus:
        return self._status

    @workflow.signal(name=REVIEW_COMPILED_SIGNAL)
    def review_compiled(self, report: CompiledReport) -> None:
        self._review_compiled = True

    @workflow.update(name=CLOSE_UPDATE)
    async def close(self, request: CloseRequest) -> EventStatus:
        """Stand the event down; answers once its closure is in the crisis log and
        its after-action review has started (the event is closed once the review's
        report is there). A search for a representative still going on is stopped."""
        self._close_request = request
        await workflow.wait_condition(lambda: self._closure_recorded)
        return self._status

    @close.validator
    def _validate_close(self, request: CloseRequest) -> None:
        self._refuse_if_closing()

    def _refuse_if_closing(self) -> None:
        if self._status.phase is Phase.CLOSED:
            raise ApplicationError("l'événement est déjà clos", type="AlreadyClosed")
        if self._close_request is not None:
            raise ApplicationError(
                f"la clôture est déjà en cours (demandée par {self._close_request.closed_by})",
                type="AlreadyClosing",
            )

    @workflow.update(name=CHANGE_REPRESENTATIVE_UPDATE)
    async def change_representative(self, change: RepresentativeChange) -> EventStatus:
        """Designate someone by hand (ending a search) or hand over to them, and
        answer once it is done; or start a new search and answer once it started."""
        if self._designation_running:
            await self._signal_designation(DESIGNATE_SIGNAL, change)
        elif self._designation_generation == 0:
            self._early_change = change
            await workflow.wait_condition(
                lambda: self._designation_generation > 0 or self._close_request is not None
            )
        else:
            await self._start_designation(change)
        if change.contact_id is not None:
            await workflow.wait_condition(lambda: not self._designation_running)
        return self._status

    @change_representative.validator
    def _validate_change(self, change: RepresentativeChange) -> None:
        self._refuse_if_closing()
        designation = self._status.designation
        searching = designation is not None and designation.searching
        if self._designation_running and searching and change.contact_id is None:
            raise ApplicationError(
                "une recherche de représentant(e) est déjà en cours", type="AlreadySearching"
            )
        if self._designation_running and not searching:
            raise ApplicationError(
                "un changement de représentant(e) est déjà en cours", type="AlreadyChanging"
            )
        current = self._status.representative
        if current is not None and current.person.contact_id == change.contact_id:
            raise ApplicationError(
                f"{current.person.name} est déjà représentant(e) de cet événement",
                type="AlreadyRepresentative",
            )

    @workflow.signal(name=DESIGNATION_PROGRESS_SIGNAL)
    def designation_progress(self, progress: DesignationStatus) -> None:
        if progress.generation != self._designation_generation:
            return
        self._status.designation = progress
        if progress.representative is not None:
            self._representative_news = self._representative_news or (
                self._status.representative != progress.representative
            )
            self._status.representative = progress.representative

    @workflow.update(name=ENTER_COMMITTEE_UPDATE)
    async def enter_committee(self, request: CommitteePhaseRequest) -> EventStatus:
        """End the acute phase: departments stop asking, and the liaison with the
        committees starts; answers once it runs."""
        self._committee_request = request
        await workflow.wait_condition(
            lambda: self._committee is not None or self._close_request is not None
        )
        return self._status

    @enter_committee.validator
    def _validate_committee(self, request: CommitteePhaseRequest) -> None:
        self._refuse_if_closing()
        if self._committee_request is not None:
            raise ApplicationError(
                "l'événement est déjà en phase de suivi des comités", type="AlreadyInCommittee"
            )
        if self._status.phase is not Phase.MOBILISATION or not self._departments:
            raise ApplicationError(
                "la phase de suivi des comités suit la mobilisation des CCAS/CIAS, "
                "qui n'a pas commencé",
                type="NotMobilised",
            )

    @workflow.update(name=BROADCAST_UPDATE)
    async def broadcast(self, report: SituationReport) -> EventStatus:
        """A point de situation to every mobilised centre, through each department."""
        await self._next_entry_written(
            CrisisLogKind.SITUATION_REPORT,
            report.author,
            f"Point de situation de {report.author} diffusé aux CCAS/CIAS mobilisés de "
            f"{len(self._departments)} département(s) : {report.text}",
        )
        await asyncio.gather(
            *(
                handle.signal(SITUATION_REPORT_SIGNAL, report)
                for handle in self._departments.values()
            )
        )
        return self._status

    @broadcast.validator
    def _validate_broadcast(self, report: SituationReport) -> None:
        self._refuse_if_closing()
        self._refuse_after_mobilisation()
        if not self._departments:
            raise ApplicationError(
                "la mobilisation des CCAS/CIAS n'a pas commencé : aucun centre à informer",
                type="NotMobilised",
            )

    @workflow.update(name=ALERT_LEVEL_UPDATE)
    async def change_alert_level(self, change: AlertLevelChange) -> EventStatus:
        """The level the prefecture announced: in the status and the crisis log, and
        with its instructions as a situation report to every mobilised centre."""
        protocol, codes = self._alert_context()
        zone = protocol.alert_zone(codes)
        level = zone.level(change.level) if zone else None
        assert zone is not None and level is not None
        self._status.alert_levels.append(
            LevelChanged(zone=zone.name, level=level.id, label=level.label)
        )
        told = (
            f"aux CCAS/CIAS mobilisés de {len(self._departments)} département(s)"
            if self._departments
            else "avant la mobilisation : aucun CCAS/CIAS à informer pour l'instant"
        )
        await self._next_entry_written(
            CrisisLogKind.ALERT_LEVEL_CHANGED,
            change.changed_by,
            f"Niveau d'alerte : {level.label} ({zone.name}), annoncé par {change.changed_by} "
            f"{told}.",
        )
        report = SituationReport(text=level_report(zone, level), author=change.changed_by)
        await asyncio.gather(
            *(
                handle.signal(SITUATION_REPORT_SIGNAL, report)
                for handle in self._departments.values()
            )
        )
        return self._status

    @change_alert_level.validator
    def _validate_alert_level(self, change: AlertLevelChange) -> None:
        self._refuse_if_closing()
        self._refuse_after_mobilisation()
        protocol, codes = self._alert_context()
        problem = level_problem(protocol, codes, change.level)
        if problem is not None:
            raise ApplicationError(problem, type="UnknownAlertLevel")

    def _alert_context(self) -> tuple[Protocol, list[str]]:
        protocol, territory = self._status.protocol, self._status.territory
        if protocol is None or territory is None:
            raise ApplicationError(
                "le territoire de l'événement n'est pas encore établi", type="NotResolved"
            )
        return protocol, [department.code for department in territory.departments]

    @workflow.update(name=EXTEND_AREA_UPDATE)
    async def extend_area(self, extension: AreaExtension) -> EventStatus:
        """Adds communes or departments; once mobilisation has begun, only the
        centres newly competent are asked for support."""
        async with self._area_lock:
            previous = self._start.declaration
            declaration = previous.model_copy(
                update={
                    "communes": list(dict.fromkeys([*previous.communes, *extension.communes])),
                    "departments": list(
                        dict.fromkeys([*previous.departments, *extension.departments])
                    ),
                }
            )
            territory = await call_store(stubs.resolve_territory, declaration)
            self._start = self._start.model_copy(update={"declaration": declaration})
            self._status.communes = declaration.communes
            self._status.departments = declaration.departments
            self._status.territory = territory
            added = describe_area(extension.communes, extension.departments)
            entry = self._next_entry(
                CrisisLogKind.AREA_EXTENDED,
                extension.requested_by,
                f"Zone étendue par {extension.requested_by} : {added}. Nouveau territoire : "
                f"{territory.area()}, {territory.competent_ccas + territory.competent_cias} "
                "CCAS/CIAS compétents.",
            )
            record = AreaRecord(
                communes=declaration.communes, departments=declaration.departments, entry=entry
            )
            await call_store(stubs.record_area, record)
            if self._departments:
                await self._mobilise(declaration, previous)
        return self._status

    @extend_area.validator
    def _validate_extension(self, extension: AreaExtension) -> None:
        self._refuse_if_closing()
        self._refuse_after_mobilisation()
        if not extension.communes and not extension.departments:
            raise ApplicationError("indiquez au moins une commune ou un département", type="Empty")

    def _refuse_after_mobilisation(self) -> None:
        if self._committee_request is not None:
            raise ApplicationError(
                "la mobilisation est terminée : l'événement est en phase de suivi des comités",
                type="MobilisationOver",
            )

    @property
    def _designation_generation(self) -> int:
        """1 for the first designation, one more per handover; 0 before any."""
        designation = self._status.designation
        return designation.generation if designation else 0

    @property
    def _designation_running(self) -> bool:
        """Until the child's last progress report, which says it has finished."""
        designation = self._status.designation
        return designation is not None and not designation.finished

    async def _signal_designation(self, name: str, *args: RepresentativeChange) -> None:
        """To the running designation, once its start has been acknowledged."""
        await workflow.wait_condition(lambda: self._designation is not None)
        assert self._designation is not None
        await self._designation.signal(name, *args)

    async def _stop_designation(self) -> None:
        """A search still going on when the event closes stops at its next step."""
        if self._designation_running:
            await self._signal_designation(STOP_SIGNAL)
            await workflow.wait_condition(lambda: not self._designation_running)

    def _designation_id(self) -> str:
        return designation_workflow_id(self._status.event_id, self._designation_generation)

    async def _start_designation(self, change: RepresentativeChange | None) -> None:
        """A search, or straight to ``change.contact_id``; its progress comes back
        as signals, the last one saying it has finished."""
        assert self._status.territory is not None and self._status.protocol is not None
        manual = change if change and change.contact_id else None
        self._status.designation = DesignationStatus(
            generation=self._designation_generation + 1, searching=manual is None
        )
        protocol = self._status.protocol
        start = DesignationStart(
            event_id=self._status.event_id,
            generation=self._designation_generation,
            declaration=self._start.declaration,
            header=self._header,
            rules=protocol.designation,
            recipients=protocol.recipients,
            territory=self._status.territory,
            manual=manual,
            previous=self._status.representative,
        )
        self._designation = None
        self._designation = await workflow.start_child_workflow(
            RepresentativeDesignationWorkflow.run, start, id=self._designation_id()
        )

    async def _start_mobilisation(self) -> None:
        async with self._area_lock:
            await self._mobilise(self._start.declaration, None)

    async def _mobilise(
        self, declaration: EventDeclaration, previous: EventDeclaration | None
    ) -> None:
        """A department workflow for every affected department not mobilised yet;
        those already running are told of the new area."""
        territory = self._status.territory
        assert territory is not None
        known = [d for d in territory.departments if d.code in self._departments]
        new = [d for d in territory.departments if d.code not in self._departments]
        assert previous is not None or not known
        change = AreaChange(declaration=declaration, previous=previous) if previous else None
        started, _ = await asyncio.gather(
            asyncio.gather(*(self._start_department(d, declaration, previous) for d in new)),
            asyncio.gather(
                *(self._departments[d.code].signal(AREA_CHANGE_SIGNAL, change) for d in known)
            ),
        )
        self._departments.update(zip((d.code for d in new), started, strict=True))
        self._status.mobilised_departments = list(self._departments)

    def _start_department(
        self,
        department: DepartmentTerritory,
        declaration: EventDeclaration,
        previous: EventDeclaration | None,
    ) -> Awaitable[ChildWorkflowHandle[DepartmentMobilisationWorkflow, MobilisationStatus]]:
        protocol = self._status.protocol
        territory = self._status.territory
        representative = self._status.representative
        assert protocol is not None and territory is not None and representative is not None
        return workflow.start_child_workflow(
            DepartmentMobilisationWorkflow.run,
            MobilisationStart(
                event_id=self._status.event_id,
                department=department,
                declaration=declaration,
                previous=previous,
                header=message_header(protocol.sms_label, territory),
                rules=protocol.mobilisation,
                representative=representative.person,
            ),
            id=mobilisation_workflow_id(self._status.event_id, department.code),
        )

    async def _pass_on_representative(
        self,
        children: Callable[[], Sequence[ChildWorkflowHandle[Any, Any]]],
        until: Callable[[], bool],
    ) -> None:
        """Until the event closes or ``until`` holds: each child hears of a new
        representative."""
        self._representative_news = False
        while True:
            await workflow.wait_condition(
                lambda: self._representative_news or self._close_request is not None or until()
            )
            if self._close_request is not None or until():
                return
            self._representative_news = False
            representative = self._status.representative
            assert representative is not None
            await asyncio.gather(
                *(
                    handle.signal(REPRESENTATIVE_SIGNAL, representative.person)
                    for handle in children()
                )
            )

    async def _stop_mobilisation(self) -> list[MobilisationStatus]:
        """Every department stops asking and closes its codes; their last status stays."""
        if self._mobilisation_stopped:
            return []
        self._mobilisation_stopped = True
        await asyncio.gather(*(handle.signal(STOP_SIGNAL) for handle in self._departments.values()))
        self._final_departments = list(await asyncio.gather(*self._departments.values()))
        return self._final_departments

    async def _start_committee(self) -> None:
        """After the departments' last status: the centres that asked for support
        stay in the committees' follow-up."""
        departments = await self._stop_mobilisation()
        await self._enter(Phase.COMMITTEE)
        protocol = self._status.protocol
        representative = self._status.representative
        assert protocol is not None and representative is not None
        self._committee = await workflow.start_child_workflow(
            CommitteeLiaisonWorkflow.run,
            CommitteeStart(
                event_id=self._status.event_id,
                declaration=self._start.declaration,
                header=self._header,
                rules=protocol.committee,
                representative=representative.person,
                departments=list(self._departments),
                centres_needing_support=[
                    centre.name
                    for department in departments
                    for centre in department.centres
                    if centre.state is SupportState.NEEDS_SUPPORT
                ],
            ),
            id=committee_workflow_id(self._status.event_id),
        )

    async def _stop_committee(self) -> None:
        if self._committee is not None:
            await self._committee.signal(STOP_SIGNAL)
            await self._committee

    async def _start_review(self) -> None:
        """Asks the representative, the centres that answered OK or AIDE and the UDs
        of the mobilised departments. The review outlives the event's workflow: it
        follows the action plan after the event is closed."""
        protocol = self._status.protocol
        territory = self._status.territory
        assert protocol is not None and territory is not None
        respondents = []
        representative = self._status.representative
        if representative is not None:
            respondents.append(
                Respondent(
                    respondent_id=representative.person.contact_id,
                    role=RespondentRole.REPRESENTATIVE,
                )
            )
        respondents += [
            Respondent(
                respondent_id=centre.organisation_id,
                role=RespondentRole.CENTRE,
                department_code=department.department_code,
            )
            for department in self._final_departments
            for centre in department.centres
            if centre.state in (SupportState.MOBILISED, SupportState.NEEDS_SUPPORT)
        ]
        respondents += [
            Respondent(
                respondent_id=department.ud_id,
                role=RespondentRole.UD,
                department_code=department.code,
            )
            for department in territory.departments
            if department.ud_id and department.code in self._departments
        ]
        await workflow.start_child_workflow(
            AfterActionReviewWorkflow.run,
            ReviewStart(
                event_id=self._status.event_id,
                declaration=self._start.declaration,
                header=self._header,
                rules=protocol.review,
                task_rules=protocol.committee,
                questions=protocol.questions,
                representative=representative.person if representative else None,
                respondents=respondents,
                closed_at=workflow.now(),
            ),
            id=review_workflow_id(self._status.event_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
        )

    async def _next_entry_written(self, kind: CrisisLogKind, actor: str, text: str) -> None:
        await call_store(stubs.append_crisis_log, self._next_entry(kind, actor, text))

    def _next_entry(self, kind: CrisisLogKind, actor: str, text: str) -> CrisisLogEntry:
        entry = self._log.entry(kind, actor, text)
        self._status.counters.crisis_log_entries = self._log.numbered
        return entry

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
        await call_store(stubs.record_declaration, record)

    async def _prepare(self, start: EventStart) -> None:
        """The protocol and the competent territory, held for every later phase."""
        self._status.protocol = await call_store(stubs.load_protocol, start.declaration.type)
        territory = await call_store(stubs.resolve_territory, start.declaration)
        self._status.territory = territory
        self._header = message_header(self._status.protocol.sms_label, territory)
        text = (
            f"Territoire : {territory.area()} ; {territory.competent_ccas} CCAS et "
            f"{territory.competent_cias} CIAS compétents, "
            f"{territory.uncovered_communes} commune(s) sans CCAS ni CIAS."
        )
        entry = self._next_entry(CrisisLogKind.TERRITORY_RESOLVED, SYSTEM_ACTOR, text)
        await call_store(stubs.append_crisis_log, entry)

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
        await call_store(stubs.record_phase, PhaseRecord(phase=phase, entry=entry))

    async def _record_close_request(self) -> None:
        request = self._close_request
        assert request is not None
        reason = f" : {request.reason}" if request.reason else ""
        text = f"Levée du dispositif demandée par {request.closed_by}{reason}."
        entry = self._next_entry(CrisisLogKind.CLOSE_REQUESTED, request.closed_by, text)
        await call_store(stubs.append_crisis_log, entry)
