"""Actions with an owner and a due date, followed until someone answers FAIT: a
reminder before the due date, the representative told when it is late, on-call
staff some days later. The committees' decisions and the after-action review's
action plan are both followed this way."""

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.answer_links import WEB_ANSWER
    from definitions.awaited_replies import AwaitedTask, ReplyCodeRequest, ReplyReceived
    from definitions.committee import CommitteeTask, TaskState, in_paris
    from definitions.crisis_log import SYSTEM_ACTOR, CrisisLogKind
    from definitions.durations import format_duration
    from definitions.local_time import in_zone
    from definitions.messages import MessageStep
    from definitions.people import Person
    from definitions.protocol import CommitteeRules
    from definitions.replies import ReplyKeyword
    from workflows.crisis_log import CrisisLogBuffer
    from workflows.outreach import Outreach
    from workflows.store_calls import call_store


class TrackedTasks:
    """Follows ``tasks``, the workflow's own by task id (its state, when carried)."""

    def __init__(
        self,
        rules: CommitteeRules,
        log: CrisisLogBuffer,
        tasks: dict[str, CommitteeTask],
        origin: str,
    ) -> None:
        self._rules = rules
        self._log = log
        self._origin = origin
        self.by_id = tasks

    @property
    def all(self) -> list[CommitteeTask]:
        return list(self.by_id.values())

    @property
    def open(self) -> int:
        return sum(1 for task in self.by_id.values() if task.state is not TaskState.DONE)

    def deadlines(self, task: CommitteeTask) -> list[datetime]:
        """When the task is next reminded (unless assigned too close to its due date
        for a reminder to add anything), found late, escalated to on-call staff."""
        if task.done_at is not None:
            return []
        if task.overdue_at is None:
            remind_at = task.due_at - self._rules.task_reminder_before
            if task.reminded_at is None and remind_at > task.assigned_at:
                return [remind_at]
            return [task.due_at]
        if task.escalated_at is None:
            return [task.due_at + self._rules.task_escalation_after]
        return []

    def next_deadlines(self) -> list[datetime]:
        return [due for task in self.by_id.values() for due in self.deadlines(task)]

    def replier(self, reply: ReplyReceived, known: list[Person]) -> str:
        """Who answered: ``known`` people or an assignee by name, else as the reply
        names them."""
        if reply.contact_id == WEB_ANSWER:
            return "lien web"
        people = [*known, *(task.assignee for task in self.by_id.values())]
        return next((p.name for p in people if p.contact_id == reply.contact_id), reply.contact_id)

    def take_done(self, reply: ReplyReceived, by: str) -> bool:
        """Whether the reply was a FAIT that closed one of these tasks."""
        task = self.by_id.get(reply.task_key)
        if task is None or reply.keyword is not ReplyKeyword.DONE or task.done_at is not None:
            return False
        task.done_at = workflow.now()
        task.done_by = by
        late = " (en retard)" if task.overdue_at else ""
        self._log.add(
            CrisisLogKind.TASK_DONE,
            by,
            f"Action {task.task_id} faite{late} : {task.what} ({task.assignee.name}).",
        )
        return True

    async def assign(self, tasks: list[CommitteeTask], outreach: Outreach, event_id: str) -> None:
        """Codes and links for FAIT, then each assignee told by SMS and email."""
        if not tasks:
            return
        links = await call_store(
            stubs.open_answer_links,
            ReplyCodeRequest(
                workflow_id=workflow.info().workflow_id,
                event_id=event_id,
                tasks=[
                    AwaitedTask.from_people(task.task_id, [ReplyKeyword.DONE], [task.assignee])
                    for task in tasks
                ],
                links_valid_until=max(t.due_at for t in tasks) + self._rules.task_escalation_after,
            ),
        )
        for task in tasks:
            task.code = links[task.task_id].code
            self.by_id[task.task_id] = task
            self._log.add(
                CrisisLogKind.TASK_ASSIGNED,
                SYSTEM_ACTOR,
                f"Action {task.task_id} confiée à {task.assignee.name} pour le "
                f"{in_paris(task.due_at)} : {task.what}",
            )
        await outreach.send_many(
            MessageStep.TASK_ASSIGNED,
            [
                (
                    task.assignee,
                    {
                        **self._values(task, task.assignee),
                        "origin": self._origin,
                        "answer_url": links[task.task_id].url,
                    },
                )
                for task in tasks
            ],
            instance="-" + "-".join(task.task_id for task in tasks),
        )

    async def follow_due(
        self, outreach: Outreach, representative: Person | None, staff: list[Person]
    ) -> None:
        """Late tasks go to the representative, or straight to on-call staff when
        the event never had one."""
        now = workflow.now()
        for task in self.by_id.values():
            if any(due <= now for due in self.deadlines(task)):
                await self._follow(task, outreach, representative, staff)

    @staticmethod
    def _values(task: CommitteeTask, reader: Person) -> dict[str, str]:
        """The due date in the reader's time zone."""
        return {"task": task.what, "due": in_zone(task.due_at, reader.time_zone), "code": task.code}

    async def _follow(
        self,
        task: CommitteeTask,
        outreach: Outreach,
        representative: Person | None,
        staff: list[Person],
    ) -> None:
        """The reminder before the due date; once late, the representative; later,
        on-call staff."""
        now = workflow.now()
        if task.overdue_at is None and now < task.due_at:
            task.reminded_at = now
            await outreach.send(
                task.assignee, MessageStep.TASK_REMINDER, self._values(task, task.assignee)
            )
            self._log.add(
                CrisisLogKind.TASK_REMINDED,
                SYSTEM_ACTOR,
                f"Rappel de l'action {task.task_id} à {task.assignee.name}.",
            )
            return
        escalating = task.overdue_at is not None or representative is None
        if task.overdue_at is None:
            task.overdue_at = now
        if escalating:
            task.escalated_at = now
        told = [representative] if representative is not None and not escalating else staff
        values = {
            "assignee_name": task.assignee.name,
            "assignee_phone": task.assignee.phone or "sans téléphone",
            "late": f"depuis {format_duration(now - task.due_at)}",
        }
        await outreach.send_many(
            MessageStep.TASK_OVERDUE,
            [(person, {**self._values(task, person), **values}) for person in told],
            instance=f"-{task.task_id}-{'staff' if escalating else 'representative'}",
        )
        whom = "à l'astreinte" if escalating else f"au représentant ({told[0].name})"
        self._log.add(
            CrisisLogKind.TASK_OVERDUE,
            SYSTEM_ACTOR,
            f"Action {task.task_id} en retard (échéance {in_paris(task.due_at)}), signalée "
            f"{whom} : {task.what}",
        )
