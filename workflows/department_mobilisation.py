"""Mobilising the competent CCAS/CIAS of one department (the UD level).

Every centre is an entity in this workflow's state, not a workflow of its own:
support requests leave in batches (one activity per batch of messages), answers
come in as signals and change the state at once, and one timer waits for the
next deadline (reminder, escalation, end of a support action). Side effects of
answers (crisis log lines, support actions, offers passed on) are done together
at the next turn, where the centres that changed are also written to the store
for status reads. The history stays bounded by continuing as new, carrying the
whole state.
"""

import asyncio
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.answer_links import ANSWER_LINK_VALIDITY, WEB_ANSWER
    from definitions.awaited_replies import (
        AwaitedTask,
        DeliveryFailed,
        DeliveryReceipts,
        ReplyCodeRequest,
        ReplyReceived,
    )
    from definitions.crisis_log import SYSTEM_ACTOR, CrisisLogKind
    from definitions.durations import format_duration
    from definitions.event import EventDeclaration
    from definitions.long_runs import SeenMessages
    from definitions.messages import MessageStep
    from definitions.mobilisation import (
        AreaChange,
        CentreSupport,
        MobilisationStart,
        MobilisationState,
        MobilisationStatus,
        NeighboursRequest,
        ReinforcementOffer,
        SituationReport,
        SupportAction,
        SupportCounts,
        SupportState,
        SupportTarget,
        TargetsRequest,
    )
    from definitions.outgoing import Channel
    from definitions.people import Person
    from definitions.replies import ReplyKeyword
    from definitions.temporal_names import (
        AREA_CHANGE_SIGNAL,
        CENTRES_QUERY,
        COUNTS_QUERY,
        DELIVERIES_SIGNAL,
        DELIVERY_FAILED_SIGNAL,
        DEPARTMENT_MOBILISATION_WORKFLOW,
        REPLY_SIGNAL,
        REPRESENTATIVE_SIGNAL,
        SITUATION_REPORT_SIGNAL,
        STATUS_QUERY,
        STOP_SIGNAL,
    )
    from definitions.voice_calls import support_speech
    from workflows.centre_records import CentreRecorder
    from workflows.crisis_log import CrisisLogBuffer, CrisisLogWriter
    from workflows.long_runs import LongRun
    from workflows.outreach import Delivery, Outreach
    from workflows.phone_calls import call_request, place_call
    from workflows.store_calls import call_store, close_all_reply_codes, close_reply_codes

SUPPORT_KEYWORDS = [ReplyKeyword.MOBILISED, ReplyKeyword.HELP]
NEIGHBOURS_ASKED = 3
CENTRES_NAMED = 2
SEEN_MESSAGES_KEPT = 1000
REINFORCEMENT_PREFIX = "renfort:"
ANSWERED = {ReplyKeyword.MOBILISED: "mobilisé", ReplyKeyword.HELP: "besoin de soutien"}


def _reinforcement_task(needy_id: str, helper_id: str) -> str:
    return f"{REINFORCEMENT_PREFIX}{needy_id}:{helper_id}"


def _named(centres: list[CentreSupport]) -> str:
    """``CCAS de A, CCAS de B et 12 autre(s)``: short enough for an SMS."""
    names = ", ".join(centre.name for centre in centres[:CENTRES_NAMED])
    others = len(centres) - CENTRES_NAMED
    return names + (f" et {others} autre(s)" if others > 0 else "")


def _details(centres: list[CentreSupport]) -> str:
    """One line per centre with whom to call, for the email."""
    lines = []
    for centre in centres:
        people = "; ".join(
            f"{person.name} {person.phone or ''} {person.email or ''}".strip()
            for person in centre.recipients
        )
        lines.append(f"- {centre.name} : {people}")
    return "\n".join(lines)


@workflow.defn(name=DEPARTMENT_MOBILISATION_WORKFLOW)
class DepartmentMobilisationWorkflow:
    @workflow.init
    def __init__(self, start: MobilisationStart) -> None:
        self._start = start
        self._state = start.state or MobilisationState(
            representative=start.representative, seen=SeenMessages(kept=SEEN_MESSAGES_KEPT)
        )
        self._run = LongRun(
            start.history_limit,
            lambda: start.model_copy(update={"state": self._state.next_generation()}),
        )
        self._writer = CrisisLogWriter(start.event_id, workflow.info().workflow_id, self._state.log)
        self._log = CrisisLogBuffer(self._writer)
        # Here, not in run(): answers that came with the run's start reach the
        # handlers before run() begins, and what they change must be recorded.
        self._records = CentreRecorder(start.event_id, start.department.code, self._state)

    @workflow.run
    async def run(self, start: MobilisationStart) -> MobilisationStatus:
        self._outreach = await Outreach.for_event(
            start.event_id, start.declaration, start.header, self._writer
        )
        if start.state is None:
            await self._begin()
        while True:
            await self._turn()
            if self._state.stopped:
                break
            await self._run.between_turns(self._next_deadline(), self._has_work)
        await self._run.end(self._close)
        return self.status()

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> MobilisationStatus:
        centres = list(self._state.centres.values())
        return MobilisationStatus(
            department_code=self._start.department.code,
            department_name=self._start.department.name,
            counts=SupportCounts.of(centres),
            centres=centres,
            actions=list(self._state.actions.values()),
            reports_sent=self._state.reports_sent,
            finished=self._run.ended,
        )

    @workflow.query(name=COUNTS_QUERY)
    def counts(self) -> SupportCounts:
        return SupportCounts.of(list(self._state.centres.values()))

    @workflow.query(name=CENTRES_QUERY)
    def centres(self, organisation_ids: list[str]) -> list[CentreSupport]:
        """The named centres (unknown ids left out), for readers of a few at once."""
        return [self._state.centres[key] for key in organisation_ids if key in self._state.centres]

    @workflow.signal(name=REPLY_SIGNAL)
    def reply(self, reply: ReplyReceived) -> None:
        """Applied at once, so that a status read right after shows it."""
        if not self._state.seen.first_time(reply.message_sid):
            return
        if reply.task_key.startswith(REINFORCEMENT_PREFIX):
            self._reinforcement_answer(reply)
        else:
            self._centre_answer(reply)

    @workflow.signal(name=DELIVERIES_SIGNAL)
    def deliveries(self, bundle: DeliveryReceipts) -> None:
        for receipt in bundle.receipts:
            centre = self._state.centres.get(receipt.task_key)
            if centre is not None and centre.delivered_at is None:
                centre.delivered_at = workflow.now()
                self._records.changed(centre)

    @workflow.signal(name=DELIVERY_FAILED_SIGNAL)
    def delivery_failed(self, failure: DeliveryFailed) -> None:
        """A bounced request: the centre is unreachable once no channel is left."""
        centre = self._state.centres.get(failure.task_key)
        if centre is None or failure.step != MessageStep.SUPPORT_REQUEST.value:
            return
        centre.reached = [
            item for item in centre.reached if item != f"{failure.contact_id}/{failure.channel}"
        ]
        if not centre.reached and centre.awaits_answer:
            centre.unreachable_at = workflow.now()
        self._records.changed(centre)

    @workflow.signal(name=SITUATION_REPORT_SIGNAL)
    def situation_report(self, report: SituationReport) -> None:
        self._state.reports.append(report)

    @workflow.signal(name=AREA_CHANGE_SIGNAL)
    def area_change(self, change: AreaChange) -> None:
        self._state.area_changes.append(change)

    @workflow.signal(name=REPRESENTATIVE_SIGNAL)
    def representative(self, person: Person) -> None:
        self._state.representative = person

    @workflow.signal(name=STOP_SIGNAL)
    def stop(self) -> None:
        self._state.stopped = True

    def _centre_answer(self, reply: ReplyReceived) -> None:
        centre = self._state.centres.get(reply.task_key)
        if centre is None or reply.keyword not in ANSWERED:
            return
        if centre.answer == reply.keyword.value:
            return
        by = next(
            (person.name for person in centre.recipients if person.contact_id == reply.contact_id),
            "lien web" if reply.contact_id == WEB_ANSWER else reply.contact_id,
        )
        centre.answer = reply.keyword.value
        centre.answered_at = workflow.now()
        centre.answered_by = by
        centre.unreachable_at = None
        self._records.changed(centre)
        self._log.add(
            CrisisLogKind.SUPPORT_ANSWERED,
            by,
            f"{centre.name} : {ANSWERED[reply.keyword]} "
            f"({reply.keyword.value} {reply.code}, {by}).",
            subject=centre.organisation_id,
            figures={"needs_support": int(reply.keyword is ReplyKeyword.HELP)},
        )
        opens_action = reply.keyword is ReplyKeyword.HELP and centre.organisation_id not in (
            *self._state.actions,
            *self._state.needs,
        )
        if opens_action:
            self._state.needs.append(centre.organisation_id)

    def _reinforcement_answer(self, reply: ReplyReceived) -> None:
        needy_id, _, helper_id = reply.task_key.removeprefix(REINFORCEMENT_PREFIX).partition(":")
        action = self._state.actions.get(needy_id)
        helper = (
            next((n for n in action.neighbours if n.organisation_id == helper_id), None)
            if action
            else None
        )
        if action is None or helper is None or action.closed or reply.accepts is None:
            return
        if helper.accepts == reply.accepts:
            return
        helper.accepts = reply.accepts
        helper.answered_at = workflow.now()
        offer = "propose un renfort" if reply.accepts else "ne peut pas envoyer de renfort"
        self._log.add(
            CrisisLogKind.REINFORCEMENT_ANSWERED,
            helper.director.name,
            f"{helper.name} {offer} à {action.name}.",
        )
        if reply.accepts:
            self._state.offers.append((needy_id, helper_id))

    async def _write(self) -> None:
        """The turn's crisis-log lines, with the centres that changed."""
        await self._records.write(self._log.take())

    async def _close(self) -> None:
        """The summary line, the codes closed, and what is left written."""
        self._summarise()
        await close_all_reply_codes()
        await self._write()

    def _summarise(self) -> None:
        """The department's reach in one line, with its figures for the report."""
        counts = SupportCounts.of(list(self._state.centres.values()))
        actions = self._state.actions
        offers = sum(len(action.offers) for action in actions.values())
        department = self._start.department
        self._log.add(
            CrisisLogKind.MOBILISATION_SUMMARY,
            SYSTEM_ACTOR,
            f"Bilan de la mobilisation {department.name} ({department.code}) : "
            f"{counts.centres} CCAS/CIAS, {counts.requested} demande(s) remise(s) aux "
            f"fournisseurs, {counts.delivered} reçue(s), {counts.mobilised} mobilisé(s), "
            f"{counts.needs_support} avec besoin de soutien, {counts.unanswered} sans réponse, "
            f"{counts.unreachable} injoignable(s) ; {len(actions)} action(s) de soutien, "
            f"{offers} renfort(s) proposé(s).",
            subject=department.code,
            figures={
                **counts.model_dump(),
                "support_actions": len(actions),
                "reinforcement_offers": offers,
            },
        )

    def _has_work(self) -> bool:
        return bool(
            self._state.stopped
            or self._log.pending
            or self._state.reports
            or self._state.area_changes
            or self._state.needs
            or self._state.offers
            or self._unrequested()
            or self._to_flag()
        )

    def _to_flag(self) -> list[CentreSupport]:
        return [
            centre
            for centre in self._state.centres.values()
            if centre.state is SupportState.UNREACHABLE and centre.escalated_at is None
        ]

    def _next_deadline(self) -> datetime | None:
        state = self._state
        deadlines = [action.deadline for action in state.actions.values() if not action.closed]
        deadlines += [due for centre in state.centres.values() if (due := self._follow_up(centre))]
        if due := self._records.due:
            deadlines.append(due)
        return min(deadlines, default=None)

    def _follow_up(self, centre: CentreSupport) -> datetime | None:
        """When a silent centre is next reminded (then escalated); None once both are done."""
        rules = self._start.rules
        if not centre.awaits_answer or centre.requested_at is None:
            return None
        if centre.reminded_at is None:
            return centre.requested_at + rules.reminder_after
        if centre.escalated_at is None:
            return centre.reminded_at + rules.escalation_after
        return None

    def _due(self, reminded: bool) -> list[CentreSupport]:
        """Silent centres whose reminder (or, once reminded, escalation) is due now."""
        now = workflow.now()
        return [
            centre
            for centre in self._state.centres.values()
            if (due := self._follow_up(centre)) is not None
            and due <= now
            and (centre.reminded_at is not None) == reminded
        ]

    def _unrequested(self) -> list[CentreSupport]:
        return [
            centre
            for centre in self._state.centres.values()
            if centre.requested_at is None and centre.unreachable_at is None
        ]

    async def _begin(self) -> None:
        start = self._start
        recipients = await call_store(stubs.load_state_recipients, [start.department.code])
        self._state.ud = recipients.uds
        targets = await self._targets(start.declaration, start.previous)
        department = start.department
        self._log.add(
            CrisisLogKind.MOBILISATION_STARTED,
            SYSTEM_ACTOR,
            f"Mobilisation {department.name} ({department.code}) : {len(targets)} CCAS/CIAS "
            f"compétent(s), {department.uncovered_communes} commune(s) sans CCAS ni CIAS.",
        )

    async def _targets(
        self, declaration: EventDeclaration, previous: EventDeclaration | None
    ) -> list[SupportTarget]:
        """Adds the centres competent for ``declaration`` and not for ``previous``."""
        targets = await call_store(
            stubs.load_support_targets,
            TargetsRequest(
                department_code=self._start.department.code,
                declaration=declaration,
                previous=previous,
                ask_deputy=self._start.rules.ask_deputy,
            ),
        )
        new = [target for target in targets if target.organisation_id not in self._state.centres]
        for target in new:
            self._state.centres[target.organisation_id] = CentreSupport(
                organisation_id=target.organisation_id,
                kind=target.kind,
                name=target.name,
                recipients=target.recipients,
            )
        self._records.changed(*(self._state.centres[target.organisation_id] for target in new))
        return new

    async def _turn(self) -> None:
        if not self._state.stopped:
            await self._extend_area()
            await self._request_support()
            await self._open_support_actions()
            await self._pass_offers()
            await self._send_reports()
            await self._remind()
            await self._escalate()
            await self._close_support_actions()
        await self._write()

    async def _extend_area(self) -> None:
        while self._state.area_changes:
            change = self._state.area_changes.pop(0)
            new = await self._targets(change.declaration, change.previous)
            self._log.add(
                CrisisLogKind.AREA_EXTENDED,
                SYSTEM_ACTOR,
                f"Zone étendue ({self._start.department.name}) : {len(new)} nouveau(x) "
                "centre(s) compétent(s) sollicité(s).",
            )

    def _representative_values(self) -> dict[str, str]:
        person = self._state.representative
        return {
            "representative_name": person.name,
            "representative_phone": person.phone or "non renseigné",
        }

    async def _request_support(self) -> None:
        centres = self._unrequested()
        if not centres:
            return
        links = await call_store(
            stubs.open_answer_links,
            ReplyCodeRequest(
                workflow_id=workflow.info().workflow_id,
                event_id=self._start.event_id,
                tasks=[
                    AwaitedTask.from_people(
                        centre.organisation_id, SUPPORT_KEYWORDS, centre.recipients
                    )
                    for centre in centres
                ],
            ),
        )
        common = {
            **self._representative_values(),
            "link_validity": format_duration(ANSWER_LINK_VALIDITY),
        }
        messages = []
        for centre in centres:
            link = links[centre.organisation_id]
            centre.code = link.code
            values = {
                **common,
                "organisation_name": centre.name,
                "code": link.code,
                "answer_url": link.url,
            }
            messages += [(person, values) for person in centre.recipients]
        deliveries = await self._outreach.send_many(MessageStep.SUPPORT_REQUEST, messages)
        now = workflow.now()
        for centre in centres:
            centre.reached = self._reached(centre.recipients, deliveries)
            if centre.reached:
                centre.requested_at = now
            elif centre.awaits_answer:
                centre.unreachable_at = now
        self._records.changed(*centres)
        sent = [centre for centre in centres if centre.requested_at is not None]
        by_channel = {
            channel: sum(channel in centre.channels for centre in sent) for channel in Channel
        }
        self._log.add(
            CrisisLogKind.SUPPORT_REQUESTED,
            SYSTEM_ACTOR,
            f"Demandes de soutien remises aux fournisseurs pour {len(sent)}/{len(centres)} "
            f"centre(s) ({by_channel[Channel.SMS]} par SMS, "
            f"{by_channel[Channel.EMAIL]} par email"
            + (f", {called} par appel" if (called := by_channel[Channel.VOICE]) else "")
            + ").",
        )

    @staticmethod
    def _reached(people: list[Person], deliveries: dict[str, Delivery]) -> list[str]:
        return [
            f"{person.contact_id}/{channel.value}"
            for person in people
            for channel in sorted(deliveries[person.contact_id].sent)
        ]

    async def _remind(self) -> None:
        centres = self._due(reminded=False)
        if not centres:
            return
        messages = [
            (person, {"code": centre.code}) for centre in centres for person in centre.recipients
        ]
        await self._outreach.send_many(MessageStep.SUPPORT_REMINDER, messages)
        now = workflow.now()
        for centre in centres:
            centre.reminded_at = now
        self._records.changed(*centres)
        self._log.add(
            CrisisLogKind.SUPPORT_REMINDED,
            SYSTEM_ACTOR,
            f"Rappel envoyé à {len(centres)} centre(s) sans réponse : {_named(centres)}.",
        )

    async def _escalate(self) -> None:
        """Centres still silent after the reminder, and those no channel reaches, are
        named to the UD and the representative, a message for all of them; where the
        protocol says so, the silent ones are called as well."""
        rules = self._start.rules
        waited = format_duration(rules.reminder_after + rules.escalation_after)
        silent = self._due(reminded=True)
        groups = (
            (silent, f"sans réponse depuis {waited}"),
            (self._to_flag(), "injoignable(s) (SMS et email en échec)"),
        )
        for centres, reason in groups:
            if not centres:
                continue
            self._state.escalations += 1
            values = {
                "count": str(len(centres)),
                "reason": reason,
                "centres": _named(centres),
                "details": _details(centres),
            }
            people = [*self._state.ud, self._state.representative]
            deliveries = await self._outreach.send_many(
                MessageStep.SUPPORT_ESCALATION,
                [(person, values) for person in people],
                instance=f"#{self._state.escalations}",
            )
            called = (
                await self._call_silent(centres)
                if centres is silent and rules.call_at_escalation
                else ""
            )
            now = workflow.now()
            for centre in centres:
                centre.escalated_at = now
            self._records.changed(*centres)
            reached = sum(delivery.reached for delivery in deliveries.values())
            self._log.add(
                CrisisLogKind.SUPPORT_ESCALATED,
                SYSTEM_ACTOR,
                f"{len(centres)} centre(s) {reason} signalé(s) à l'UD et au/à la représentant(e) "
                f"({reached}/{len(people)} joint(s)) : {_named(centres)}{called}.",
            )

    async def _call_silent(self, centres: list[CentreSupport]) -> str:
        """Each silent centre's people with a phone are called: an SMS may have gone
        unseen, and the keypad answers the request as the SMS would (1 = OK,
        2 = AIDE)."""
        start = self._start
        callees = [
            (centre, person)
            for centre in centres
            for person in centre.recipients
            if person.phone is not None and centre.code is not None
        ]
        refusals = await asyncio.gather(
            *(
                place_call(
                    call_request(
                        event_id=start.event_id,
                        step=MessageStep.SUPPORT_ESCALATION.value,
                        instance=f"#{centre.organisation_id}",
                        contact_id=person.contact_id,
                        phone=person.phone or "",
                        speech=support_speech(
                            exercise=start.declaration.exercise,
                            title=start.declaration.title,
                            person_name=person.name,
                            centre_name=centre.name,
                        ),
                        code=centre.code,
                    ),
                    start.rules.escalation_after,
                )
                for centre, person in callees
            )
        )
        placed = sum(refusal is None for refusal in refusals)
        return f" ; {placed}/{len(callees)} appel(s) placé(s)"

    async def _open_support_actions(self) -> None:
        """AIDE: the representative and the UD are told, and the nearest CCAS of the
        department are asked whether they can send reinforcement."""
        while self._state.needs:
            centre = self._state.centres[self._state.needs.pop(0)]
            now = workflow.now()
            action = SupportAction(
                organisation_id=centre.organisation_id,
                name=centre.name,
                opened_at=now,
                deadline=now + self._start.rules.reinforcement_answer_deadline,
            )
            self._state.actions[centre.organisation_id] = action
            contact = centre.recipients[0]
            values = {
                "organisation_name": centre.name,
                "contact_name": contact.name,
                "contact_phone": contact.phone or contact.email or "non renseigné",
            }
            await self._outreach.send_many(
                MessageStep.SUPPORT_ACTION,
                [(person, values) for person in [self._state.representative, *self._state.ud]],
                instance=f"#{centre.organisation_id}",
            )
            action.neighbours = await self._ask_neighbours(centre)
            asked = ", ".join(
                f"{neighbour.name} ({neighbour.distance_km} km)" for neighbour in action.neighbours
            )
            self._log.add(
                CrisisLogKind.SUPPORT_ACTION,
                SYSTEM_ACTOR,
                f"Action de soutien ouverte pour {centre.name} : représentant(e) et UD "
                f"informés ; renfort demandé à {asked or 'aucun CCAS voisin connu'}.",
            )

    async def _ask_neighbours(self, centre: CentreSupport) -> list[ReinforcementOffer]:
        in_need = [
            organisation_id
            for organisation_id, other in self._state.centres.items()
            if other.state is SupportState.NEEDS_SUPPORT
        ]
        neighbours = await call_store(
            stubs.load_neighbours,
            NeighboursRequest(
                organisation_id=centre.organisation_id,
                department_code=self._start.department.code,
                count=NEIGHBOURS_ASKED,
                excluded=in_need,
            ),
        )
        if not neighbours:
            return []
        codes = await call_store(
            stubs.open_reply_codes,
            ReplyCodeRequest(
                workflow_id=workflow.info().workflow_id,
                event_id=self._start.event_id,
                tasks=[
                    AwaitedTask.from_people(
                        _reinforcement_task(centre.organisation_id, n.organisation_id),
                        [ReplyKeyword.REINFORCEMENT],
                        [n.director],
                    )
                    for n in neighbours
                ],
            ),
        )
        messages = []
        for neighbour in neighbours:
            neighbour.code = codes[
                _reinforcement_task(centre.organisation_id, neighbour.organisation_id)
            ]
            values = {
                "organisation_name": centre.name,
                "distance_km": f"{neighbour.distance_km:g}",
                "code": neighbour.code,
            }
            messages.append((neighbour.director, values))
        await self._outreach.send_many(
            MessageStep.REINFORCEMENT_REQUEST, messages, instance=f"#{centre.organisation_id}"
        )
        return neighbours

    async def _pass_offers(self) -> None:
        """Each offer goes to the centre in need and to the representative."""
        while self._state.offers:
            needy_id, helper_id = self._state.offers.pop(0)
            needy = self._state.centres[needy_id]
            neighbours = self._state.actions[needy_id].neighbours
            helper = next(n for n in neighbours if n.organisation_id == helper_id)
            values = {
                "helper_name": helper.name,
                "organisation_name": needy.name,
                "contact_name": helper.director.name,
                "contact_phone": helper.director.phone or helper.director.email or "",
            }
            await self._outreach.send_many(
                MessageStep.REINFORCEMENT_OFFER,
                [(person, values) for person in [*needy.recipients, self._state.representative]],
                instance=f"#{needy_id}:{helper_id}",
            )

    async def _close_support_actions(self) -> None:
        now = workflow.now()
        due = [a for a in self._state.actions.values() if not a.closed and a.deadline <= now]
        for action in due:
            action.closed = True
            await close_reply_codes(
                [
                    _reinforcement_task(action.organisation_id, n.organisation_id)
                    for n in action.neighbours
                ]
            )
            offers = action.offers
            if not offers:
                values = {
                    "organisation_name": action.name,
                    "deadline": format_duration(self._start.rules.reinforcement_answer_deadline),
                }
                await self._outreach.send_many(
                    MessageStep.REINFORCEMENT_NONE,
                    [(person, values) for person in [self._state.representative, *self._state.ud]],
                    instance=f"#{action.organisation_id}",
                )
            self._log.add(
                CrisisLogKind.SUPPORT_ACTION,
                SYSTEM_ACTOR,
                f"Action de soutien pour {action.name} : "
                + (
                    f"{len(offers)} renfort(s) proposé(s) ({', '.join(o.name for o in offers)})."
                    if offers
                    else "aucun renfort proposé, représentant(e) et UD prévenus."
                ),
            )

    async def _send_reports(self) -> None:
        while self._state.reports:
            report = self._state.reports.pop(0)
            self._state.reports_sent += 1
            centres = [
                centre
                for centre in self._state.centres.values()
                if centre.state in (SupportState.MOBILISED, SupportState.NEEDS_SUPPORT)
            ]
            values = {"report": report.text, "author": report.author}
            deliveries = await self._outreach.send_many(
                MessageStep.SITUATION_REPORT,
                [(person, values) for centre in centres for person in centre.recipients],
                instance=f"#{self._state.reports_sent}",
            )
            reached = sum(
                any(deliveries[person.contact_id].reached for person in centre.recipients)
                for centre in centres
            )
            self._log.add(
                CrisisLogKind.SITUATION_REPORT,
                report.author,
                f"Point de situation de {report.author} transmis à {reached}/{len(centres)} "
                f"centre(s) mobilisé(s) ({self._start.department.name}).",
            )
