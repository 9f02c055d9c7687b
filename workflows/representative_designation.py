"""Designating the UNCCAS representative, then telling the State who it is.

The roster is walked by rank. Each candidate gets a code to quote (``OUI 4821``);
a refusal moves on at once, silence at the protocol's deadline. Codes stay open
until someone is designated, so an earlier candidate may still accept: the first
acceptance wins and everyone still asked is thanked and released. A whole round
without anyone: on-call staff are alerted and a new round starts after the pause.
Staff may designate someone by hand at any moment.
"""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.awaited_replies import (
        AwaitedTask,
        DeliveryFailed,
        ReplyCodeRequest,
        ReplyReceived,
    )
    from definitions.crisis_log import SYSTEM_ACTOR, CrisisLogKind
    from definitions.designation import (
        Answer,
        Attempt,
        BriefingRequest,
        ClaimOutcome,
        DesignationMode,
        DesignationStart,
        DesignationStatus,
        Representative,
        RepresentativeChange,
        RepresentativeClaim,
    )
    from definitions.durations import format_duration
    from definitions.long_runs import SeenMessages
    from definitions.messages import MessageStep
    from definitions.outgoing import Channel
    from definitions.people import Person
    from definitions.replies import ReplyKeyword
    from definitions.temporal_names import (
        DELIVERY_FAILED_SIGNAL,
        DESIGNATE_SIGNAL,
        DESIGNATION_PROGRESS_SIGNAL,
        REPLY_SIGNAL,
        REPRESENTATIVE_DESIGNATION_WORKFLOW,
        STATUS_QUERY,
        STOP_SIGNAL,
    )
    from definitions.voice_calls import designation_speech, staff_alert_speech
    from workflows.crisis_log import CrisisLogWriter
    from workflows.outreach import Delivery, Outreach
    from workflows.phone_calls import call_request, place_call
    from workflows.send_policy import GIVE_UP_AFTER, SEND_RETRY, SEND_TIMEOUT
    from workflows.store_calls import call_store, close_all_reply_codes

DESIGNATION_KEYWORDS = [ReplyKeyword.YES, ReplyKeyword.NO]
SEEN_MESSAGES_KEPT = 500
DEPARTEMENT_GROUP = "Département(s)"
"""Told as a UD is, and only where the protocol names it, so that the crisis log of
the others reads as before."""


@workflow.defn(name=REPRESENTATIVE_DESIGNATION_WORKFLOW)
class RepresentativeDesignationWorkflow:
    @workflow.init
    def __init__(self, start: DesignationStart) -> None:
        self._start = start
        self._status = DesignationStatus(
            generation=start.generation, searching=start.manual is None
        )
        self._replies: list[ReplyReceived] = []
        self._changes: list[RepresentativeChange] = [start.manual] if start.manual else []
        self._bounces: list[DeliveryFailed] = []
        self._stopped = False
        self._seen = SeenMessages(kept=SEEN_MESSAGES_KEPT)
        self._people: dict[str, Person] = {}
        self._allow_busy = False

    @workflow.run
    async def run(self, start: DesignationStart) -> DesignationStatus:
        info = workflow.info()
        self._log = CrisisLogWriter(start.event_id, info.workflow_id)
        self._outreach = await Outreach.for_event(
            start.event_id, start.declaration, start.header, self._log
        )
        if start.manual is None:
            await self._search()
        else:
            await self._handle_pending()
        representative = self._status.representative
        if representative is not None:
            await self._announce(representative)
        await self._release_waiting()
        await close_all_reply_codes()
        self._status.searching = False
        self._status.finished = True
        await self._report()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> DesignationStatus:
        return self._status

    @workflow.signal(name=REPLY_SIGNAL)
    def reply(self, reply: ReplyReceived) -> None:
        self._replies.append(reply)

    @workflow.signal(name=DESIGNATE_SIGNAL)
    def designate(self, change: RepresentativeChange) -> None:
        self._changes.append(change)

    @workflow.signal(name=DELIVERY_FAILED_SIGNAL)
    def delivery_failed(self, failure: DeliveryFailed) -> None:
        self._bounces.append(failure)

    @workflow.signal(name=STOP_SIGNAL)
    def stop(self) -> None:
        self._stopped = True

    def _done(self) -> bool:
        return self._stopped or self._status.representative is not None

    def _pending(self) -> bool:
        return bool(self._replies or self._changes or self._bounces or self._stopped)

    async def _search(self) -> None:
        start = self._start
        roster = await call_store(stubs.load_roster)
        self._people = {person.contact_id: person for person in roster}
        if not roster:
            await self._alert_staff(
                0, "Aucun(e) représentant(e) d'astreinte dans l'annuaire : désignation à la main"
            )
            await self._wait(None)
        while not self._done():
            self._status.round += 1
            busy = await call_store(stubs.busy_representatives, start.event_id)
            free = [person for person in roster if person.contact_id not in busy]
            self._allow_busy = not free
            candidates = free or roster
            for person in candidates:
                if self._done():
                    break
                await self._await_answer(person, await self._ask(person))
            if self._done():
                break
            pause = format_duration(start.rules.round_pause)
            await self._alert_staff(
                len(candidates),
                f"Aucun(e) représentant(e) après le tour {self._status.round} "
                f"({len(candidates)} sollicité(s)), nouveau tour dans {pause}",
            )
            await self._wait(start.rules.round_pause)

    async def _wait(self, duration: timedelta | None, attempt: Attempt | None = None) -> None:
        """Handles what comes in until the end, the deadline (if any) or, when waiting
        for ``attempt``, its answer."""
        deadline = None if duration is None else workflow.now() + duration
        while True:
            await self._handle_pending()
            if self._done() or (attempt is not None and attempt.answer is not Answer.WAITING):
                return
            remaining = None if deadline is None else deadline - workflow.now()
            if remaining is not None and remaining <= timedelta(0):
                return
            try:
                await workflow.wait_condition(self._pending, timeout=remaining)
            except TimeoutError:
                return

    async def _await_answer(self, person: Person, attempt: Attempt) -> None:
        """Until the answer deadline; a candidate still silent at the protocol's
        ``call_after`` is called, the answer then comes by SMS or keypad alike."""
        rules = self._start.rules
        call_after = rules.call_after
        if call_after is None or call_after >= rules.answer_deadline or person.phone is None:
            await self._wait(rules.answer_deadline, attempt)
            return
        await self._wait(call_after, attempt)
        if not self._done() and attempt.answer is Answer.WAITING:
            await self._call(person, attempt)
        await self._wait(attempt.asked_at + rules.answer_deadline - workflow.now(), attempt)

    async def _call(self, person: Person, attempt: Attempt) -> None:
        start = self._start
        assert person.phone is not None and start.rules.call_after is not None
        speech = designation_speech(
            exercise=start.declaration.exercise,
            title=start.declaration.title,
            area=start.territory.area(),
            candidate_name=person.name,
        )
        request = call_request(
            event_id=start.event_id,
            step=MessageStep.DESIGNATION_REQUEST.value,
            instance=f"#{attempt.round}",
            contact_id=person.contact_id,
            phone=person.phone,
            speech=speech,
            code=attempt.code,
        )
        window = attempt.asked_at + start.rules.answer_deadline - workflow.now()
        refused = await place_call(request, window)
        silent = format_duration(start.rules.call_after)
        if refused is None:
            attempt.channels = sorted({*attempt.channels, Channel.VOICE})
            text = f"{person.name} appelé(e), sans réponse {silent} après la demande."
        else:
            text = f"Appel à {person.name} impossible ({refused})."
        await self._log.append(CrisisLogKind.CANDIDATE_ASKED, SYSTEM_ACTOR, text)
        await self._report()

    async def _ask(self, person: Person) -> Attempt:
        round_number = self._status.round
        code = await self._code_for(person)
        attempt = Attempt(
            contact_id=person.contact_id,
            name=person.name,
            code=code,
            round=round_number,
            asked_at=workflow.now(),
            channels=[],
        )
        self._status.attempts.append(attempt)
        delivery = await self._request(person, attempt)
        attempt.channels = sorted(delivery.sent)
        if not delivery.reached:
            self._answer(attempt, Answer.UNREACHABLE)
        channels = (
            " et ".join(channel.value.upper() for channel in attempt.channels) or "aucun canal"
        )
        await self._log.append(
            CrisisLogKind.CANDIDATE_ASKED,
            SYSTEM_ACTOR,
            f"{person.name} sollicité(e) comme représentant(e), tour {round_number}, "
            f"code {code} ({channels}).",
        )
        await self._report()
        return attempt

    async def _request(
        self, person: Person, attempt: Attempt, channels: set[Channel] | None = None
    ) -> Delivery:
        """The question for one attempt; sent again, it is the same message."""
        return await self._outreach.send(
            person,
            MessageStep.DESIGNATION_REQUEST,
            {
                "candidate_name": person.name,
                "area": self._start.territory.area(),
                "code": attempt.code,
                "deadline": format_duration(self._start.rules.answer_deadline),
            },
            channels=channels,
            instance=f"#{attempt.round}",
        )

    async def _code_for(self, person: Person) -> str:
        codes = await call_store(
            stubs.open_reply_codes,
            ReplyCodeRequest(
                workflow_id=workflow.info().workflow_id,
                event_id=self._start.event_id,
                tasks=[AwaitedTask.from_people(person.contact_id, DESIGNATION_KEYWORDS, [person])],
            ),
        )
        return codes[person.contact_id]

    def _answer(self, attempt: Attempt, answer: Answer) -> None:
        attempt.answer = answer
        attempt.answered_at = workflow.now()

    def _latest_attempt(self, contact_id: str) -> Attempt | None:
        for attempt in reversed(self._status.attempts):
            if attempt.contact_id == contact_id:
                return attempt
        return None

    async def _handle_pending(self) -> None:
        while self._changes and not self._stopped:
            await self._designate_by_hand(self._changes.pop(0))
        while self._replies:
            await self._handle_reply(self._replies.pop(0))
        while self._bounces:
            await self._handle_bounce(self._bounces.pop(0))

    async def _designate_by_hand(self, change: RepresentativeChange) -> None:
        if self._status.representative is not None or change.contact_id is None:
            return
        try:
            person = await call_store(stubs.load_person, change.contact_id)
        except ActivityError as error:
            workflow.logger.warning("manual designation refused: %s", error.cause)
            return
        await self._claim(person, allow_busy=True)
        await self._designated(person, DesignationMode.MANUAL, change.requested_by)

    async def _handle_reply(self, reply: ReplyReceived) -> None:
        if not self._seen.first_time(reply.message_sid):
            return
        attempt = self._latest_attempt(reply.task_key)
        person = self._people.get(reply.task_key)
        if attempt is None or person is None or self._done():
            return
        if reply.keyword is ReplyKeyword.NO:
            if attempt.answer is Answer.WAITING:
                self._answer(attempt, Answer.DECLINED)
                await self._log_answer(person, "a décliné (NON)")
            return
        if attempt.answer in (Answer.ACCEPTED, Answer.BUSY, Answer.RELEASED):
            return
        outcome = await self._claim(person, allow_busy=self._allow_busy)
        if not outcome.granted:
            for earlier in self._status.attempts:
                if earlier.contact_id == person.contact_id:
                    self._answer(earlier, Answer.BUSY)
            await self._log_answer(
                person, f"a accepté, mais représente déjà l'événement {outcome.busy_with}"
            )
            await self._outreach.send(
                person,
                MessageStep.DESIGNATION_BUSY,
                {"candidate_name": person.name, "other_event": outcome.busy_with or ""},
            )
            await self._report()
            return
        self._answer(attempt, Answer.ACCEPTED)
        await self._log_answer(person, f"a accepté (OUI {reply.code})")
        await self._designated(person, DesignationMode.ROSTER, person.name)

    async def _handle_bounce(self, failure: DeliveryFailed) -> None:
        """An SMS request that never arrived: email instead, or move on."""
        attempt = self._latest_attempt(failure.task_key)
        person = self._people.get(failure.task_key)
        if attempt is None or person is None or attempt.answer is not Answer.WAITING:
            return
        channels = [channel for channel in attempt.channels if channel is not failure.channel]
        text = f"{failure.channel.value.upper()} non remis à {person.name} ({failure.error_code})"
        if not channels and person.email and Channel.EMAIL not in attempt.channels:
            delivery = await self._request(person, attempt, channels={Channel.EMAIL})
            channels = sorted(delivery.sent)
            text += " : demande renvoyée par email" if channels else " ; email refusé"
        attempt.channels = channels
        if not channels:
            self._answer(attempt, Answer.UNREACHABLE)
            text += " : personne suivante"
        await self._log.append(CrisisLogKind.DELIVERY_FALLBACK, SYSTEM_ACTOR, text + ".")
        await self._report()

    async def _log_answer(self, person: Person, what: str) -> None:
        await self._log.append(
            CrisisLogKind.CANDIDATE_ANSWERED, person.name, f"{person.name} {what}."
        )

    async def _claim(self, person: Person, allow_busy: bool) -> ClaimOutcome:
        return await call_store(
            stubs.claim_representative,
            RepresentativeClaim(
                event_id=self._start.event_id, contact_id=person.contact_id, allow_busy=allow_busy
            ),
        )

    async def _designated(self, person: Person, mode: DesignationMode, by: str) -> None:
        self._status.representative = Representative(
            person=person, designated_at=workflow.now(), mode=mode, designated_by=by
        )
        how = "a accepté par SMS" if mode is DesignationMode.ROSTER else f"désigné(e) par {by}"
        previous = self._start.previous
        succeeds = f", succède à {previous.person.name}" if previous else ""
        await self._log.append(
            CrisisLogKind.REPRESENTATIVE_DESIGNATED,
            by,
            f"Représentant(e) UNCCAS : {person.name} ({how}{succeeds}).",
        )
        await self._report()

    async def _alert_staff(self, asked: int, text: str) -> None:
        staff = await call_store(stubs.load_on_call_staff)
        round_number = self._status.round
        deliveries = await asyncio.gather(
            *(
                self._outreach.send(
                    person,
                    MessageStep.DESIGNATION_FAILED,
                    {"asked": str(asked), "round": str(round_number)},
                    instance=f"#{round_number}",
                )
                for person in staff
            )
        )
        reached = sum(delivery.reached for delivery in deliveries)
        called = await self._call_staff(staff, asked) if self._start.rules.call_after else ""
        await self._log.append(
            CrisisLogKind.STAFF_ALERTED,
            SYSTEM_ACTOR,
            f"{text} : astreinte alertée ({reached}/{len(staff)} joint(s){called}).",
        )

    async def _call_staff(self, staff: list[Person], asked: int) -> str:
        """Where the protocol calls candidates, on-call staff are called too: the
        round found nobody, and an SMS at night may go unseen."""
        start = self._start
        round_number = self._status.round
        speech = staff_alert_speech(
            exercise=start.declaration.exercise,
            title=start.declaration.title,
            round_number=round_number,
            asked=asked,
        )
        phones = [person for person in staff if person.phone is not None]
        refusals = await asyncio.gather(
            *(
                place_call(
                    call_request(
                        event_id=start.event_id,
                        step=MessageStep.DESIGNATION_FAILED.value,
                        instance=f"#{round_number}",
                        contact_id=person.contact_id,
                        phone=person.phone or "",
                        speech=speech,
                    ),
                    start.rules.round_pause,
                )
                for person in phones
            )
        )
        placed = sum(refusal is None for refusal in refusals)
        return f", {placed}/{len(staff)} appelé(s)"

    async def _announce(self, representative: Representative) -> None:
        """All at once: the representative's confirmation and briefing, the DIAV,
        the prefectures and the UDs."""
        start = self._start
        rules = start.recipients
        state = await call_store(
            stubs.load_state_recipients,
            [department.code for department in start.territory.departments],
        )
        person = representative.person
        previous = start.previous
        area = start.territory.area()
        competent = start.territory.competent_ccas + start.territory.competent_cias
        state_values = {
            "representative_name": person.name,
            "representative_phone": person.phone or "non renseigné",
            "representative_email": person.email or "non renseignée",
            "area": area,
            "change_note": (
                f"Il/elle succède à {previous.person.name}, désormais déchargé(e) de cette mission."
                if previous
                else ""
            ),
        }
        groups = {
            "DIAV": state.diav if rules.diav else [],
            "préfecture(s)": state.prefectures if rules.prefectures else [],
            "UD": state.uds if rules.uds else [],
        }
        if rules.departements:
            groups[DEPARTEMENT_GROUP] = state.departements
        ud_values = {
            "representative_name": person.name,
            "representative_phone": person.phone or "",
            "area": area,
            "competent_count": str(competent),
        }
        instance = f"#{start.generation}"

        async def inform(group: str, recipients: list[Person]) -> str:
            step, values = (
                (MessageStep.UD_INFORMATION, ud_values)
                if group in {"UD", DEPARTEMENT_GROUP}
                else (MessageStep.STATE_INFORMATION, state_values)
            )
            deliveries = await asyncio.gather(
                *(
                    self._outreach.send(recipient, step, values, instance=instance)
                    for recipient in recipients
                )
            )
            reached = sum(delivery.reached for delivery in deliveries)
            return f"{group} {reached}/{len(recipients)}"

        async def inform_all() -> list[str]:
            return await asyncio.gather(
                *(inform(group, people) for group, people in groups.items())
            )

        confirmation, briefing, informed = await asyncio.gather(
            self._outreach.send(
                person,
                MessageStep.DESIGNATION_CONFIRMED,
                {"representative_name": person.name},
                instance=instance,
            ),
            self._send_briefing(person, competent),
            inform_all(),
        )
        await self._log.append(
            CrisisLogKind.STATE_INFORMED,
            SYSTEM_ACTOR,
            f"Identité de {person.name} transmise (destinataires joints) : "
            f"{', '.join(informed)} ; confirmation "
            f"{'envoyée' if confirmation.reached else 'non remise'}, briefing "
            f"{'envoyé' if briefing.reached else 'non remis'}.",
        )

    async def _send_briefing(self, person: Person, competent: int) -> Delivery:
        """By email only: its CSV attachments are built where the directory is."""
        delivery = Delivery()
        start = self._start
        if person.email is None:
            delivery.refused[Channel.EMAIL] = "absent"
            return delivery
        email = self._outreach.email_request(
            person,
            MessageStep.REPRESENTATIVE_BRIEFING,
            {
                "representative_name": person.name,
                "area": start.territory.area(),
                "competent_count": str(competent),
                "uncovered_count": str(start.territory.uncovered_communes),
            },
            instance=f"#{start.generation}",
        )
        try:
            await workflow.execute_activity(
                stubs.send_representative_briefing,
                BriefingRequest(email=email, declaration=start.declaration),
                start_to_close_timeout=SEND_TIMEOUT,
                schedule_to_close_timeout=GIVE_UP_AFTER,
                retry_policy=SEND_RETRY,
            )
        except ActivityError as error:
            delivery.refused[Channel.EMAIL] = str(error.cause)
            await self._log.append(
                CrisisLogKind.DELIVERY_FAILED,
                SYSTEM_ACTOR,
                f"Briefing non remis à {person.name} : {error.cause}.",
            )
        else:
            delivery.sent.add(Channel.EMAIL)
        return delivery

    async def _release_waiting(self) -> None:
        """Everyone still asked is thanked and told their answer is no longer awaited."""
        representative = self._status.representative
        released: dict[str, Person] = {}
        for attempt in self._status.attempts:
            if attempt.answer is Answer.WAITING:
                self._answer(attempt, Answer.RELEASED)
                if representative is not None and attempt.contact_id in self._people:
                    released[attempt.contact_id] = self._people[attempt.contact_id]
        released.pop(representative.person.contact_id if representative else "", None)
        await asyncio.gather(
            *(
                self._outreach.send(
                    person, MessageStep.DESIGNATION_RELEASED, {"candidate_name": person.name}
                )
                for person in released.values()
            )
        )

    async def _report(self) -> None:
        parent = workflow.info().parent
        if parent is not None:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                DESIGNATION_PROGRESS_SIGNAL, self._status
            )
