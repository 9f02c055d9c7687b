"""The after-action review (retour d'expérience) of one closed event.

One workflow per event (``EVENT/review``), started when the event is stood down.
Two rounds of the protocol's questionnaire — a hot debrief at once, a formal review
weeks later — go to the representative, every mobilised CCAS/CIAS and the UDs,
each with its own signed link, a reminder, and a deadline after which the round
closes with what it has. Answers go straight from the web form to the database,
so that thousands of them cost this workflow nothing. After the formal round the
report is compiled (HTML and PDF) and the event told; the action plan staff wrote
meanwhile is then followed like the committees' actions, until every action is done.
"""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.awaited_replies import ReplyReceived
    from definitions.committee import CommitteeTask, in_paris, task_due_at
    from definitions.crisis_log import SYSTEM_ACTOR, CrisisLogKind
    from definitions.local_time import in_zone
    from definitions.long_runs import SeenMessages
    from definitions.messages import MessageStep
    from definitions.people import Person
    from definitions.review import (
        ACTION_PLAN_MEETING,
        PlannedAction,
        QuestionnaireClosing,
        QuestionnaireInvite,
        QuestionnaireOpening,
        QuestionnairePage,
        ReviewCompilation,
        ReviewRound,
        ReviewStart,
        ReviewState,
        ReviewStatus,
        RoundProgress,
    )
    from definitions.temporal_names import (
        AFTER_ACTION_REVIEW_WORKFLOW,
        PLAN_ACTION_UPDATE,
        REPLY_SIGNAL,
        REVIEW_COMPILED_SIGNAL,
        STATUS_QUERY,
    )
    from workflows.crisis_log import CrisisLogBuffer, CrisisLogWriter
    from workflows.long_runs import LongRun, refusal
    from workflows.outreach import Outreach
    from workflows.store_calls import call_store, close_all_reply_codes, close_reply_codes
    from workflows.tracked_tasks import TrackedTasks

PAGE_SIZE = 200
SEEN_MESSAGES_KEPT = 200
REPORT_TIMEOUT = timedelta(minutes=10)
REVIEW_ORIGIN = "Au titre du plan d'action du retour d'expérience"


@workflow.defn(name=AFTER_ACTION_REVIEW_WORKFLOW)
class AfterActionReviewWorkflow:
    @workflow.init
    def __init__(self, start: ReviewStart) -> None:
        self._start = start
        rules = start.rules
        self._state = start.state or ReviewState(
            rounds=[
                self._round(ReviewRound.HOT, start.closed_at + rules.hot_debrief_after),
                self._round(ReviewRound.FORMAL, start.closed_at + rules.formal_review_after),
            ],
            seen=SeenMessages(kept=SEEN_MESSAGES_KEPT),
        )
        self._run = LongRun(
            start.history_limit,
            lambda: start.model_copy(update={"state": self._state.next_generation()}),
        )
        self._writer = CrisisLogWriter(start.event_id, workflow.info().workflow_id, self._state.log)
        self._log = CrisisLogBuffer(self._writer)
        self._tasks = TrackedTasks(start.task_rules, self._log, self._state.tasks, REVIEW_ORIGIN)
        self._staff: list[Person] = []
        self._busy = asyncio.Lock()
        self._outreach: Outreach | None = None

    def _round(self, round: ReviewRound, opens_at: datetime) -> RoundProgress:
        return RoundProgress(
            round=round, opens_at=opens_at, deadline_at=opens_at + self._start.rules.answer_deadline
        )

    @workflow.run
    async def run(self, start: ReviewStart) -> ReviewStatus:
        async with self._busy:
            self._outreach = await Outreach.for_event(
                start.event_id, start.declaration, start.header, self._writer
            )
            self._staff = await call_store(stubs.load_on_call_staff)
            if start.state is None:
                self._opened()
        while True:
            async with self._busy:
                await self._turn()
            if self._finished():
                break
            await self._run.between_turns(self._next_deadline(), lambda: bool(self._state.replies))
        await self._run.end(self._close)
        return self.status()

    def _opened(self) -> None:
        hot, formal = self._state.rounds
        self._log.add(
            CrisisLogKind.REVIEW_OPENED,
            SYSTEM_ACTOR,
            f"Retour d'expérience ouvert pour {len(self._start.respondents)} destinataire(s) : "
            f"débriefing à chaud le {in_paris(hot.opens_at)} (réponses jusqu'au "
            f"{in_paris(hot.deadline_at)}), retour formel le {in_paris(formal.opens_at)} "
            f"(jusqu'au {in_paris(formal.deadline_at)}).",
        )

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> ReviewStatus:
        report = self._state.report
        return ReviewStatus(
            event_id=self._start.event_id,
            questions=self._start.questions,
            rounds=self._state.rounds,
            tasks=self._tasks.all,
            report_version=report.version if report else 0,
            compiled_at=self._state.compiled_at,
            finished=self._run.ended,
        )

    @workflow.signal(name=REPLY_SIGNAL)
    def reply(self, reply: ReplyReceived) -> None:
        if self._state.seen.first_time(reply.message_sid):
            self._state.replies.append(reply)

    @workflow.update(name=PLAN_ACTION_UPDATE)
    async def plan_action(self, action: PlannedAction) -> ReviewStatus:
        """An action of the plan, assigned at once and followed until done."""
        people = await call_store(stubs.load_people, [action.owner_id])
        async with self._busy:
            self._refuse_if_compiled()
            task = CommitteeTask(
                task_id=f"plan-{len(self._tasks.by_id) + 1}",
                meeting_id=ACTION_PLAN_MEETING,
                what=action.what,
                assignee=people[action.owner_id],
                due_at=task_due_at(action.due, people[action.owner_id].time_zone),
                assigned_at=workflow.now(),
            )
            assert self._outreach is not None
            await self._tasks.assign([task], self._outreach, self._start.event_id)
            await self._log.flush()
        return self.status()

    @plan_action.validator
    def _validate_action(self, action: PlannedAction) -> None:
        self._refuse_if_compiled()
        if task_due_at(action.due) <= workflow.now():
            raise refusal(
                f"l'échéance est passée : {in_paris(task_due_at(action.due))}", "DueInThePast"
            )

    def _refuse_if_compiled(self) -> None:
        """The plan is part of the report: it is written while answers come in."""
        if self._state.report is not None:
            raise refusal(
                "le rapport du retour d'expérience est établi : le plan d'action est arrêté",
                "ReviewCompiled",
            )

    def _finished(self) -> bool:
        return self._state.report is not None and self._tasks.open == 0

    def _next_deadline(self) -> datetime | None:
        """None once only FAIT answers are awaited: a task escalated to on-call staff
        has no deadline left."""
        deadlines = self._tasks.next_deadlines()
        for progress in self._state.rounds:
            if not progress.sent:
                deadlines.append(progress.opens_at)
            elif not progress.reminder_sent:
                deadlines.append(self._reminder_at(progress))
            elif not progress.closed:
                deadlines.append(progress.deadline_at)
        return min(deadlines, default=None)

    async def _turn(self) -> None:
        await self._take_replies()
        now = workflow.now()
        for progress in self._state.rounds:
            if not progress.sent and now >= progress.opens_at:
                await self._send_round(progress)
            if progress.sent and not progress.closed:
                if not progress.reminder_sent and now >= self._reminder_at(progress):
                    await self._remind(progress)
                if now >= progress.deadline_at:
                    await self._close_round(progress)
        if self._state.report is None and all(p.closed for p in self._state.rounds):
            await self._compile()
        assert self._outreach is not None
        await self._tasks.follow_due(self._outreach, self._start.representative, self._staff)
        await self._log.flush()

    async def _close(self) -> None:
        async with self._busy:
            await close_all_reply_codes()
            self._log.add(
                CrisisLogKind.REVIEW_FINISHED,
                SYSTEM_ACTOR,
                f"Retour d'expérience terminé : {len(self._tasks.by_id)} action(s) du plan "
                "faite(s).",
            )
            await self._log.flush()

    def _reminder_at(self, progress: RoundProgress) -> datetime:
        return progress.opens_at + self._start.rules.reminder_after

    async def _take_replies(self) -> None:
        replies, self._state.replies = self._state.replies, []
        known = [*self._staff]
        if self._start.representative is not None:
            known.append(self._start.representative)
        closed = []
        for reply in replies:
            if self._tasks.take_done(reply, self._tasks.replier(reply, known)):
                closed.append(reply.task_key)
        await close_reply_codes(closed)

    def _values(self, progress: RoundProgress, invite: QuestionnaireInvite) -> dict[str, str]:
        return {
            "round": progress.round.label,
            "deadline": in_zone(progress.deadline_at, invite.person.time_zone),
            "form_url": invite.form_url,
        }

    async def _send_round(self, progress: RoundProgress) -> None:
        """Invitations page by page: each page's links, then its emails and SMS."""
        assert self._outreach is not None
        progress.sent = True
        respondents = self._start.respondents
        if workflow.now() >= self._reminder_at(progress):
            progress.reminder_sent = True
        for first in range(0, len(respondents), PAGE_SIZE):
            invites = await call_store(
                stubs.open_questionnaires,
                QuestionnaireOpening(
                    event_id=self._start.event_id,
                    round=progress.round,
                    respondents=respondents[first : first + PAGE_SIZE],
                    deadline_at=progress.deadline_at,
                ),
            )
            progress.invited += len(invites)
            await self._outreach.send_many(
                MessageStep.REVIEW_QUESTIONNAIRE,
                [(invite.person, self._values(progress, invite)) for invite in invites],
                instance=f"-{progress.round.value}-{first}",
            )
        self._log.add(
            CrisisLogKind.QUESTIONNAIRE_SENT,
            SYSTEM_ACTOR,
            f"Questionnaire du {progress.round.label} envoyé à {progress.invited} "
            f"destinataire(s), réponses attendues jusqu'au {in_paris(progress.deadline_at)}.",
        )

    async def _remind(self, progress: RoundProgress) -> None:
        """Those who have not answered, read from the database page by page."""
        assert self._outreach is not None
        progress.reminder_sent = True
        after = ""
        while True:
            page = await call_store(
                stubs.unanswered_questionnaires,
                QuestionnairePage(
                    event_id=self._start.event_id,
                    round=progress.round,
                    after=after,
                    limit=PAGE_SIZE,
                ),
            )
            if not page.last:
                break
            progress.reminded += len(page.invites)
            await self._outreach.send_many(
                MessageStep.REVIEW_REMINDER,
                [(invite.person, self._values(progress, invite)) for invite in page.invites],
                instance=f"-{progress.round.value}-after-{after}",
            )
            after = page.last
        self._log.add(
            CrisisLogKind.QUESTIONNAIRE_REMINDED,
            SYSTEM_ACTOR,
            f"Rappel du questionnaire ({progress.round.label}) à {progress.reminded} "
            "destinataire(s) sans réponse.",
        )

    async def _close_round(self, progress: RoundProgress) -> None:
        progress.closed = True
        count = await call_store(
            stubs.close_questionnaires,
            QuestionnaireClosing(event_id=self._start.event_id, round=progress.round),
        )
        progress.answered = count.answered
        self._log.add(
            CrisisLogKind.QUESTIONNAIRE_CLOSED,
            SYSTEM_ACTOR,
            f"Questionnaire du {progress.round.label} clos : {count.answered} réponse(s) sur "
            f"{count.invited} destinataire(s).",
            figures=count.model_dump(),
        )

    async def _compile(self) -> None:
        """The report with what came in; the event learns it is there."""
        await self._log.flush()
        report = await workflow.execute_activity(
            stubs.compile_review_report,
            ReviewCompilation(
                event_id=self._start.event_id,
                declaration=self._start.declaration,
                questions=self._start.questions,
                version=1,
                rounds=self._state.rounds,
                actions=self._tasks.all,
            ),
            start_to_close_timeout=REPORT_TIMEOUT,
        )
        self._state.report, self._state.compiled_at = report, workflow.now()
        self._log.add(
            CrisisLogKind.REVIEW_COMPILED,
            SYSTEM_ACTOR,
            f"Rapport de retour d'expérience établi : {report.lessons} enseignement(s), "
            f"{len(self._tasks.by_id)} action(s) au plan.",
        )
        parent = workflow.info().parent
        if parent is not None:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                REVIEW_COMPILED_SIGNAL, report
            )
