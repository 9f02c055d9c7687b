"""The liaison with the victims' committees (CLAV), for as many months as they meet.

One workflow per event (``EVENT/committee``), started when the event enters its
committee phase. Staff and the representative register committees and meetings and
record what each meeting decided (updates); the workflow sends invitations with their
.ics, reminds of meetings and of actions, chases late actions, and every quarter
sends a point d'étape. Every wait is one timer for the next thing due, so eighteen
months cost a few hundred events; it continues as new carrying its state, and ends
when staff close the committee phase.
"""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.awaited_replies import AwaitedTask, ReplyCodeRequest, ReplyReceived
    from definitions.committee import (
        Checkpoint,
        Committee,
        CommitteeRegistration,
        CommitteeStart,
        CommitteeState,
        CommitteeStatus,
        CommitteeTask,
        Meeting,
        MeetingCancellation,
        MeetingMove,
        MeetingRegistration,
        MeetingReport,
        in_paris,
        task_due_at,
    )
    from definitions.crisis_log import SYSTEM_ACTOR, CrisisLogKind
    from definitions.local_time import PARIS_ZONE, ZONE_OF_DEPARTMENT, in_zone
    from definitions.long_runs import SeenMessages
    from definitions.meeting_reminders import reminders_notice
    from definitions.messages import MessageStep
    from definitions.outgoing import CalendarInvite, CalendarMethod, Channel
    from definitions.people import Person
    from definitions.replies import ReplyKeyword
    from definitions.temporal_names import (
        CANCEL_MEETING_UPDATE,
        COMMITTEE_LIAISON_WORKFLOW,
        MOVE_MEETING_UPDATE,
        REGISTER_COMMITTEE_UPDATE,
        REGISTER_MEETING_UPDATE,
        REPLY_SIGNAL,
        REPORT_MEETING_UPDATE,
        REPRESENTATIVE_SIGNAL,
        STATUS_QUERY,
        STOP_SIGNAL,
    )
    from workflows.crisis_log import CrisisLogBuffer, CrisisLogWriter
    from workflows.long_runs import LongRun, refusal
    from workflows.outreach import Outreach
    from workflows.store_calls import call_store, close_all_reply_codes, close_reply_codes
    from workflows.tracked_tasks import TrackedTasks

SEEN_MESSAGES_KEPT = 200
CHECKPOINT_PREFIX = "point-etape-"
CENTRES_NAMED = 5
COMMITTEE_ORIGIN = "À l'issue du comité local d'aide aux victimes"


def _has_mobile(person: Person) -> bool:
    """A fixed line gets no SMS reminder (opted-out numbers are refused when sent)."""
    return bool(person.phone) and not person.fixed_line


@workflow.defn(name=COMMITTEE_LIAISON_WORKFLOW)
class CommitteeLiaisonWorkflow:
    @workflow.init
    def __init__(self, start: CommitteeStart) -> None:
        self._start = start
        self._state = start.state or CommitteeState(
            started_at=workflow.now(),
            representative=start.representative,
            seen=SeenMessages(kept=SEEN_MESSAGES_KEPT),
        )
        self._run = LongRun(
            start.history_limit,
            lambda: start.model_copy(update={"state": self._state.next_generation()}),
        )
        self._writer = CrisisLogWriter(start.event_id, workflow.info().workflow_id, self._state.log)
        self._log = CrisisLogBuffer(self._writer)
        self._tasks = TrackedTasks(start.rules, self._log, self._state.tasks, COMMITTEE_ORIGIN)
        self._staff: list[Person] = []
        self._busy = asyncio.Lock()
        self._outreach: Outreach | None = None

    @workflow.run
    async def run(self, start: CommitteeStart) -> CommitteeStatus:
        async with self._busy:
            self._outreach = await Outreach.for_event(
                start.event_id, start.declaration, start.header, self._writer
            )
            self._staff = await call_store(stubs.load_on_call_staff)
        if start.state is None:
            self._log.add(
                CrisisLogKind.LIAISON_OPENED,
                SYSTEM_ACTOR,
                "Suivi des comités locaux d'aide aux victimes ouvert ; premier point d'étape le "
                f"{in_paris(self._next_checkpoint_at())}.",
            )
        while True:
            async with self._busy:
                await self._turn()
            if self._state.stopped:
                break
            await self._run.between_turns(self._next_deadline(), self._has_work)
        await self._run.end(self._close)
        return self.status()

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> CommitteeStatus:
        state = self._state
        return CommitteeStatus(
            event_id=self._start.event_id,
            started_at=state.started_at,
            generation=state.generation + 1,
            representative=state.representative,
            committees=list(state.committees.values()),
            meetings=list(state.meetings.values()),
            tasks=self._tasks.all,
            checkpoints=state.checkpoints,
            centres_needing_support=self._start.centres_needing_support,
            finished=self._run.ended,
        )

    @workflow.signal(name=REPLY_SIGNAL)
    def reply(self, reply: ReplyReceived) -> None:
        if self._state.seen.first_time(reply.message_sid):
            self._state.replies.append(reply)

    @workflow.signal(name=REPRESENTATIVE_SIGNAL)
    def representative(self, person: Person) -> None:
        self._state.representative = person

    @workflow.signal(name=STOP_SIGNAL)
    def stop(self) -> None:
        self._state.stopped = True

    @workflow.update(name=REGISTER_COMMITTEE_UPDATE)
    async def register_committee(self, registration: CommitteeRegistration) -> CommitteeStatus:
        people = await self._people(registration.member_ids)
        code = registration.department_code
        async with self._busy:
            same = sum(1 for c in self._state.committees.values() if c.department_code == code)
            committee_id = f"clav-{code}" + (f"-{same + 1}" if same else "")
            committee = Committee(
                committee_id=committee_id,
                department_code=code,
                name=registration.name,
                place=registration.place,
                members=[people[key] for key in registration.member_ids],
                registered_by=registration.registered_by,
                registered_at=workflow.now(),
            )
            self._state.committees[committee_id] = committee
            self._log.add(
                CrisisLogKind.COMMITTEE_REGISTERED,
                registration.registered_by,
                f"Comité enregistré ({committee_id}) : {committee.name}, {committee.place}, "
                f"{len(committee.members)} membre(s).",
            )
            await self._log.flush()
        return self.status()

    @register_committee.validator
    def _validate_committee(self, registration: CommitteeRegistration) -> None:
        self._refuse_if_stopped()
        code = registration.department_code
        if code not in self._start.departments:
            raise refusal(
                f"le département {code} n'est pas touché par cet événement "
                f"(départements : {', '.join(self._start.departments)})",
                "UnknownDepartment",
            )

    @workflow.update(name=REGISTER_MEETING_UPDATE)
    async def register_meeting(self, registration: MeetingRegistration) -> CommitteeStatus:
        committee = self._state.committees[registration.committee_id]
        people = await self._people(registration.invitee_ids)
        invitees = [self._state.representative] + [
            people[key]
            for key in registration.invitee_ids
            if key != self._state.representative.contact_id
        ]
        async with self._busy:
            meeting_id = f"reunion-{len(self._state.meetings) + 1}"
            meeting = Meeting(
                meeting_id=meeting_id,
                committee_id=committee.committee_id,
                uid=f"{meeting_id}.{workflow.info().workflow_id.replace('/', '.')}@tocsin",
                starts_at=registration.starts_at,
                ends_at=registration.starts_at + registration.length,
                place=registration.place or committee.place,
                invitees=invitees,
            )
            meeting.reminders_sent = self._reminders_passed(meeting)
            self._state.meetings[meeting_id] = meeting
            self._log.add(
                CrisisLogKind.MEETING_SCHEDULED,
                registration.registered_by,
                f"Réunion {meeting_id} de {committee.name} le {in_paris(meeting.starts_at)}, "
                f"{meeting.place} ; invitation à {len(invitees)} personne(s).",
            )
            await self._invite(meeting, "Invitation", "")
        return self.status()

    @register_meeting.validator
    def _validate_meeting(self, registration: MeetingRegistration) -> None:
        self._refuse_if_stopped()
        if registration.committee_id not in self._state.committees:
            raise refusal(
                f"comité inconnu : {registration.committee_id} "
                f"(comités : {', '.join(self._state.committees) or 'aucun'})",
                "UnknownCommittee",
            )
        self._refuse_if_past(registration.starts_at)

    @workflow.update(name=MOVE_MEETING_UPDATE)
    async def move_meeting(self, move: MeetingMove) -> CommitteeStatus:
        meeting = self._state.meetings[move.meeting_id]
        async with self._busy:
            before = meeting.starts_at
            length = meeting.ends_at - meeting.starts_at
            meeting.sequence += 1
            meeting.starts_at = move.starts_at
            meeting.ends_at = move.starts_at + length
            meeting.place = move.place or meeting.place
            meeting.reminders_sent = self._reminders_passed(meeting)
            self._log.add(
                CrisisLogKind.MEETING_MOVED,
                move.requested_by,
                f"Réunion {meeting.meeting_id} déplacée du {in_paris(before)} au "
                f"{in_paris(meeting.starts_at)}, {meeting.place}.",
            )
            await self._invite(
                meeting,
                "Mise à jour",
                f"La réunion prévue le {in_paris(before)} est déplacée au "
                f"{in_paris(meeting.starts_at)}.",
            )
        return self.status()

    @move_meeting.validator
    def _validate_move(self, move: MeetingMove) -> None:
        self._refuse_if_stopped()
        self._upcoming(move.meeting_id)
        self._refuse_if_past(move.starts_at)

    @workflow.update(name=CANCEL_MEETING_UPDATE)
    async def cancel_meeting(self, cancellation: MeetingCancellation) -> CommitteeStatus:
        meeting = self._state.meetings[cancellation.meeting_id]
        async with self._busy:
            meeting.sequence += 1
            meeting.cancelled_at = workflow.now()
            reason = f" : {cancellation.reason}" if cancellation.reason else ""
            self._log.add(
                CrisisLogKind.MEETING_CANCELLED,
                cancellation.requested_by,
                f"Réunion {meeting.meeting_id} du {in_paris(meeting.starts_at)} annulée{reason}.",
            )
            await self._invite(meeting, "Annulation", f"La réunion est annulée{reason}.")
        return self.status()

    @cancel_meeting.validator
    def _validate_cancellation(self, cancellation: MeetingCancellation) -> None:
        self._refuse_if_stopped()
        self._upcoming(cancellation.meeting_id)

    @workflow.update(name=REPORT_MEETING_UPDATE)
    async def report_meeting(self, report: MeetingReport) -> CommitteeStatus:
        meeting = self._state.meetings[report.meeting_id]
        people = await self._people([item.assignee_id for item in report.actions])
        async with self._busy:
            if meeting.summary is not None:
                raise refusal(f"compte rendu déjà enregistré : {meeting.meeting_id}", "Reported")
            meeting.summary = report.summary
            tasks = [
                CommitteeTask(
                    task_id=f"action-{len(self._tasks.by_id) + index}",
                    meeting_id=meeting.meeting_id,
                    what=item.what,
                    assignee=people[item.assignee_id],
                    due_at=task_due_at(item.due, people[item.assignee_id].time_zone),
                    assigned_at=workflow.now(),
                )
                for index, item in enumerate(report.actions, start=1)
            ]
            self._log.add(
                CrisisLogKind.MEETING_REPORTED,
                report.recorded_by,
                f"Compte rendu de la réunion {meeting.meeting_id} : {report.summary[:300]}"
                f" ({len(tasks)} action(s)).",
            )
            assert self._outreach is not None
            await self._tasks.assign(tasks, self._outreach, self._start.event_id)
        return self.status()

    @report_meeting.validator
    def _validate_report(self, report: MeetingReport) -> None:
        self._refuse_if_stopped()
        meeting = self._state.meetings.get(report.meeting_id)
        if meeting is None or meeting.cancelled_at is not None:
            raise refusal(f"réunion inconnue ou annulée : {report.meeting_id}", "UnknownMeeting")
        if meeting.summary is not None:
            raise refusal(
                f"le compte rendu de {meeting.meeting_id} est déjà enregistré", "AlreadyReported"
            )
        if workflow.now() < meeting.starts_at:
            raise refusal(
                f"la réunion {meeting.meeting_id} n'a pas encore eu lieu "
                f"({in_paris(meeting.starts_at)})",
                "NotHeldYet",
            )

    @staticmethod
    async def _people(ids: list[str]) -> dict[str, Person]:
        """Contacts or organisations of the directory (the gateway checked they exist)."""
        if not ids:
            return {}
        return await call_store(stubs.load_people, sorted(set(ids)))

    def _refuse_if_stopped(self) -> None:
        if self._state.stopped:
            raise refusal("la phase de suivi des comités est close", "CommitteePhaseClosed")

    def _refuse_if_past(self, starts_at: datetime) -> None:
        if starts_at <= workflow.now():
            raise refusal(
                f"la date de réunion est passée : {in_paris(starts_at)}", "MeetingInThePast"
            )

    def _upcoming(self, meeting_id: str) -> Meeting:
        meeting = self._state.meetings.get(meeting_id)
        if meeting is None:
            raise refusal(f"réunion inconnue : {meeting_id}", "UnknownMeeting")
        if meeting.cancelled_at is not None:
            raise refusal(f"la réunion {meeting_id} est déjà annulée", "MeetingCancelled")
        if meeting.starts_at <= workflow.now():
            raise refusal(f"la réunion {meeting_id} a déjà commencé", "MeetingStarted")
        return meeting

    def _has_work(self) -> bool:
        return bool(self._state.stopped or self._state.replies or self._log.pending)

    @property
    def _reminders_before(self) -> list[timedelta]:
        """The protocol's meeting reminders, the earliest first."""
        return sorted(self._start.rules.meeting_reminders_before, reverse=True)

    def _reminders_passed(self, meeting: Meeting) -> int:
        """Reminders whose time is already gone when a meeting is set: the invitation
        stands in for them."""
        now = workflow.now()
        return sum(1 for before in self._reminders_before if meeting.starts_at - before <= now)

    def _next_checkpoint_at(self) -> datetime:
        every = self._start.rules.checkpoint_every
        return self._state.started_at + every * (len(self._state.checkpoints) + 1)

    def _meeting_deadlines(self, meeting: Meeting) -> list[datetime]:
        if meeting.cancelled_at is not None or meeting.reminders_sent >= len(
            self._reminders_before
        ):
            return []
        return [meeting.starts_at - self._reminders_before[meeting.reminders_sent]]

    def _next_deadline(self) -> datetime:
        deadlines = [self._next_checkpoint_at()]
        for meeting in self._state.meetings.values():
            deadlines += self._meeting_deadlines(meeting)
        return min(deadlines + self._tasks.next_deadlines())

    async def _turn(self) -> None:
        await self._take_replies()
        now = workflow.now()
        for meeting in self._state.meetings.values():
            if any(due <= now for due in self._meeting_deadlines(meeting)):
                await self._remind_meeting(meeting)
        assert self._outreach is not None
        await self._tasks.follow_due(self._outreach, self._state.representative, self._staff)
        if self._next_checkpoint_at() <= now:
            await self._checkpoint()
        await self._log.flush()

    async def _take_replies(self) -> None:
        replies, self._state.replies = self._state.replies, []
        closed: list[str] = []
        for reply in replies:
            by = self._tasks.replier(reply, [self._state.representative, *self._staff])
            if self._tasks.take_done(reply, by):
                closed.append(reply.task_key)
                continue
            checkpoint = self._checkpoint_of(reply.task_key)
            if checkpoint is not None and checkpoint.confirmed_at is None:
                checkpoint.confirmed_at = workflow.now()
                checkpoint.confirmed_by = by
                closed.append(reply.task_key)
                self._log.add(
                    CrisisLogKind.CHECKPOINT_CONFIRMED,
                    by,
                    f"Point d'étape n°{checkpoint.number} : {by} confirme que le suivi continue.",
                )
        await close_reply_codes(closed)

    def _checkpoint_of(self, task_key: str) -> Checkpoint | None:
        if not task_key.startswith(CHECKPOINT_PREFIX):
            return None
        number = task_key.removeprefix(CHECKPOINT_PREFIX)
        return next((c for c in self._state.checkpoints if str(c.number) == number), None)

    def _meeting_values(self, meeting: Meeting, person: Person) -> dict[str, str]:
        """The meeting's time in the invitee's time zone."""
        committee = self._state.committees[meeting.committee_id]
        return {
            "meeting": committee.name,
            "when": in_zone(meeting.starts_at, person.time_zone),
            "place": meeting.place,
        }

    async def _invite(self, meeting: Meeting, change: str, note: str) -> None:
        """Every invitee with an email gets the invitation's new version."""
        assert self._outreach is not None
        cancelled = meeting.cancelled_at is not None
        committee = self._state.committees[meeting.committee_id]
        invite = CalendarInvite(
            uid=meeting.uid,
            sequence=meeting.sequence,
            method=CalendarMethod.CANCEL if cancelled else CalendarMethod.REQUEST,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            summary=committee.name,
            location=meeting.place,
            description=f"{self._start.declaration.title} — suivi UNCCAS.",
            time_zone=ZONE_OF_DEPARTMENT.get(committee.department_code, PARIS_ZONE),
        )
        values = {"change": change, "note": note}
        await asyncio.gather(
            *(
                self._outreach.send(
                    person,
                    MessageStep.MEETING_INVITATION,
                    {
                        **self._meeting_values(meeting, person),
                        **values,
                        "reminders": self._reminders_notice(meeting, person),
                    },
                    channels={Channel.EMAIL},
                    instance=f"-{meeting.meeting_id}-{meeting.sequence}",
                    calendar=invite,
                )
                for person in meeting.invitees
                if person.email
            )
        )

    def _reminders_notice(self, meeting: Meeting, person: Person) -> str:
        if meeting.cancelled_at is not None:
            return "Les rappels prévus pour cette réunion ne seront pas envoyés."
        return reminders_notice(
            self._reminders_before, meeting.starts_at, workflow.now(), by_sms=_has_mobile(person)
        )

    async def _remind_meeting(self, meeting: Meeting) -> None:
        assert self._outreach is not None
        number = meeting.reminders_sent
        meeting.reminders_sent += 1
        if workflow.now() >= meeting.starts_at:
            return
        by_sms = [person for person in meeting.invitees if _has_mobile(person)]
        await self._outreach.send_many(
            MessageStep.MEETING_REMINDER,
            [(person, self._meeting_values(meeting, person)) for person in by_sms],
            channels={Channel.SMS},
            instance=f"-{meeting.meeting_id}-{meeting.sequence}-{number}",
        )
        self._log.add(
            CrisisLogKind.MEETING_REMINDED,
            SYSTEM_ACTOR,
            f"Rappel SMS de la réunion {meeting.meeting_id} "
            f"({in_paris(meeting.starts_at)}) à {len(by_sms)} personne(s).",
        )

    async def _checkpoint(self) -> None:
        """The quarter in figures, to the representative and on-call staff, who
        confirm with OUI that the liaison goes on."""
        assert self._outreach is not None
        now = workflow.now()
        since = now - self._start.rules.checkpoint_every
        number = len(self._state.checkpoints) + 1
        task_key = f"{CHECKPOINT_PREFIX}{number}"
        told = [self._state.representative, *self._staff]
        codes = await call_store(
            stubs.open_reply_codes,
            ReplyCodeRequest(
                workflow_id=workflow.info().workflow_id,
                event_id=self._start.event_id,
                tasks=[AwaitedTask.from_people(task_key, [ReplyKeyword.YES], told)],
            ),
        )
        needing = self._start.centres_needing_support
        checkpoint = Checkpoint(
            number=number,
            at=now,
            meetings_held=sum(
                1 for m in self._state.meetings.values() if m.held and since <= m.starts_at <= now
            ),
            tasks_done=sum(
                1 for t in self._tasks.all if t.done_at is not None and since <= t.done_at
            ),
            tasks_open=self._tasks.open,
            centres_needing_support=needing,
            code=codes[task_key],
        )
        self._state.checkpoints.append(checkpoint)
        named = ", ".join(needing[:CENTRES_NAMED]) + (
            f" et {len(needing) - CENTRES_NAMED} autre(s)" if len(needing) > CENTRES_NAMED else ""
        )
        values = {
            "number": str(number),
            "meetings_held": str(checkpoint.meetings_held),
            "tasks_done": str(checkpoint.tasks_done),
            "tasks_open": str(checkpoint.tasks_open),
            "support": named or "aucun",
            "code": checkpoint.code,
        }
        await self._outreach.send_many(
            MessageStep.CHECKPOINT, [(person, values) for person in told], instance=f"-{number}"
        )
        self._log.add(
            CrisisLogKind.CHECKPOINT,
            SYSTEM_ACTOR,
            f"Point d'étape n°{number} : {checkpoint.meetings_held} réunion(s) tenue(s), "
            f"{checkpoint.tasks_done} action(s) faite(s), {checkpoint.tasks_open} en cours, "
            f"{len(needing)} CCAS/CIAS ayant demandé du soutien ; envoyé à {len(told)} "
            "personne(s).",
        )

    async def _close(self) -> None:
        """The last replies taken, every code closed, the liaison's figures logged."""
        async with self._busy:
            await self._take_replies()
            await close_all_reply_codes()
            held = sum(1 for m in self._state.meetings.values() if m.held)
            self._log.add(
                CrisisLogKind.LIAISON_CLOSED,
                SYSTEM_ACTOR,
                f"Suivi des comités clos : {held} réunion(s) tenue(s), "
                f"{len(self._tasks.by_id)} action(s) dont {self._tasks.open} encore "
                f"ouverte(s), {len(self._state.checkpoints)} point(s) d'étape.",
            )
            await self._log.flush()
