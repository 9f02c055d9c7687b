"""Eighteen months of committee liaison on the time-skipping server, with the demo
directory, the real workers and gateway, and the local SMS and mail servers; and the
committee phase reached from a real event.

Times are checked in the crisis log, which records each step at the workflow's
(simulated) time; the SMS and mail servers only see real time."""

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from definitions.committee import (
    PARIS,
    CommitteeStart,
    CommitteeStatus,
    CommitteeTask,
    TaskState,
)
from definitions.crisis_log import CrisisLogEntry, CrisisLogKind
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.meeting_reminders import reminders_notice
from definitions.people import Person
from definitions.temporal_names import STOP_SIGNAL, committee_workflow_id
from store import events
from store.database import Store
from tests.conftest import (
    Phone,
    idle,
    plain_text,
    record_event,
    stand_down,
    start_event,
    until_department,
    until_status,
)
from worker.sandbox.smtp_server import MailSandbox
from worker.sandbox.twilio_server import TwilioSandbox
from worker.temporal_workers import Messaging, running_workers
from workflows.committee_liaison import CommitteeLiaisonWorkflow

REPRESENTATIVE = Person(
    contact_id="unccas-representant-1",
    name="Représentant de démonstration",
    organisation_id="unccas",
    phone="+33639980004",
    email="unccas-representant-1@example.org",
)
DIRECTOR_ACIGNE = ("ccas-35001-direction", "+33639981338")
DIRECTOR_ARGENTRE = ("ccas-35006-direction", "+33639981340")
UD_35 = ("ud-35-presidence", "+33639980074")
STAFF_PHONE = "+33639980000"
DECLARATION = EventDeclaration(
    type=EventType.INONDATION, communes=["35001", "35006"], title="Crue de la Vilaine"
)
EIGHTEEN_MONTHS = timedelta(days=548)
CHECKPOINT_EVERY = timedelta(weeks=13)


class Liaison:
    """The committee workflow of one event, driven through the gateway's API."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        store: Store,
        phone: Phone,
        handle: WorkflowHandle[Any, CommitteeStatus],
        event_id: str,
        started: datetime,
    ) -> None:
        self.env, self.store, self.phone = env, store, phone
        self.handle, self.event_id, self.started = handle, event_id, started

    def at(self, days: int, hour: int, minute: int = 0) -> datetime:
        """Paris local time, ``days`` after the start."""
        day = self.started.astimezone(PARIS).date() + timedelta(days=days)
        return datetime.combine(day, time(hour, minute), PARIS)

    async def until(self, moment: datetime) -> None:
        await idle(self.env, self.handle.id)
        now = await self.env.get_current_time()
        if moment > now:
            await self.env.sleep(moment - now)
        await idle(self.env, self.handle.id)

    async def post(self, path: str, body: dict[str, Any], expected: int = 200) -> Any:
        response = await self.phone.http.post(f"/api/events/{self.event_id}{path}", json=body)
        assert response.status_code == expected, response.text
        return response.json()

    async def status(self) -> CommitteeStatus:
        return await self.handle.query(CommitteeLiaisonWorkflow.status)

    def log(self, kind: CrisisLogKind) -> list[CrisisLogEntry]:
        with self.store.session() as session:
            return [e for e in events.crisis_log(session, self.event_id) if e.kind is kind]


def _invitations(mail: MailSandbox, address: str) -> list[Calendar]:
    """Each invitation the address received, as a calendar reads the .ics file."""
    calendars = []
    for message in mail.sent_to(address):
        for part in message.iter_attachments():
            if part.get_filename() == "invitation.ics":
                calendars.append(Calendar.from_ical(part.get_content()))
    return calendars


def _event_of(calendar: Calendar) -> Any:
    [event] = calendar.walk("VEVENT")
    return event


@pytest.fixture
async def liaison(
    time_skipping_env: WorkflowEnvironment,
    demo_store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
) -> Any:
    """The committee workflow alone, with a history limit low enough to continue as
    new several times in eighteen months."""
    event_id = f"inondation-comite-{task_queue[-6:]}"
    started = await time_skipping_env.get_current_time()
    record_event(demo_store, event_id, DECLARATION, started)
    start = CommitteeStart(
        event_id=event_id,
        declaration=DECLARATION,
        header="UNCCAS - INONDATION Ille-et-Vilaine (35)",
        rules=definitions.protocols[EventType.INONDATION].committee,
        representative=REPRESENTATIVE,
        departments=["35"],
        centres_needing_support=["CCAS d'Argentré-du-Plessis"],
        history_limit=120,
    )
    async with running_workers(
        time_skipping_env.client, demo_store, task_queue, definitions, messaging
    ):
        handle = await time_skipping_env.client.start_workflow(
            CommitteeLiaisonWorkflow.run,
            start,
            id=committee_workflow_id(event_id),
            task_queue=task_queue,
        )
        yield Liaison(time_skipping_env, demo_store, phone, handle, event_id, started)
        if (await handle.describe()).close_time is None:
            await idle(time_skipping_env, handle.id)
            await handle.signal(STOP_SIGNAL)
            await handle.result()


def _near(moment: datetime | None, expected: datetime) -> bool:
    """Timers fire at their simulated time, give or take the workflow task's start."""
    return moment is not None and abs(moment - expected) < timedelta(seconds=2)


async def _four_meetings_invited(liaison: Liaison, mail_sandbox: MailSandbox) -> datetime:
    """A committee and four meetings, one a quarter; each invitee gets an .ics."""
    await liaison.post(
        "/committees",
        {
            "department_code": "35",
            "name": "CLAV d'Ille-et-Vilaine",
            "place": "Préfecture d'Ille-et-Vilaine, Rennes",
            "member_ids": ["ud-35", DIRECTOR_ACIGNE[0]],
        },
        201,
    )
    first = liaison.at(10, 14, 30)
    planned = [first, liaison.at(100, 10), liaison.at(190, 9), liaison.at(280, 14)]
    for moment in planned:
        await liaison.post(
            "/meetings",
            {"committee_id": "clav-35", "starts_at": moment.isoformat(), "invitee_ids": ["ud-35"]},
            201,
        )
    status = await liaison.status()
    assert [m.meeting_id for m in status.meetings] == [f"reunion-{n}" for n in range(1, 5)]

    invitations = _invitations(mail_sandbox, REPRESENTATIVE.email or "")
    assert len(invitations) == 4
    event = _event_of(invitations[0])
    assert invitations[0]["METHOD"] == "REQUEST" and event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == first
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    local = event.decoded("DTSTART")
    assert (local.hour, local.minute) == (14, 30)
    assert event.decoded("DTEND") - local == timedelta(hours=2)
    assert invitations[0].walk("VTIMEZONE"), "the time zone travels with the invitation"
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert [str(a) for a in [event["ATTENDEE"]]] == [f"mailto:{REPRESENTATIVE.email}"]
    assert len(_invitations(mail_sandbox, "ud-35@example.org")) == 4
    return first


async def _first_meeting_and_its_actions(
    liaison: Liaison, twilio_sandbox: TwilioSandbox, mail_sandbox: MailSandbox, first: datetime
) -> list[CommitteeTask]:
    """Reminded the day before and two hours before; three actions: one done by SMS
    before its reminder, one through the email's link after it, one never."""
    await liaison.until(first + timedelta(hours=3))
    reminders = [e.at for e in liaison.log(CrisisLogKind.MEETING_REMINDED)]
    assert len(reminders) == 2
    assert _near(reminders[0], first - timedelta(days=1))
    assert _near(reminders[1], first - timedelta(hours=2))
    reminded = [m.body for m in twilio_sandbox.sent_to(REPRESENTATIVE.phone or "")]
    assert sum("rappel" in body for body in reminded) == 2

    day = first.date()
    report = await liaison.post(
        "/meetings/reunion-1/report",
        {
            "summary": "Premier CLAV : relogement, indemnisation, permanence juridique.",
            "actions": [
                {
                    "what": "Recenser les familles relogées",
                    "assignee_id": DIRECTOR_ACIGNE[0],
                    "due": str(day + timedelta(days=20)),
                },
                {
                    "what": "Réunir les bailleurs sociaux",
                    "assignee_id": "ud-35",
                    "due": str(day + timedelta(days=30)),
                },
                {
                    "what": "Transmettre la liste des dossiers d'indemnisation",
                    "assignee_id": DIRECTOR_ARGENTRE[0],
                    "due": str(day + timedelta(days=40)),
                },
            ],
        },
    )
    census, landlords, files = (CommitteeStatus.model_validate(report)).tasks
    assert [task["state"] for task in report["tasks"]] == ["open", "open", "open"]
    [assigned] = [m.body for m in twilio_sandbox.sent_to(DIRECTOR_ACIGNE[1]) if "FAIT" in m.body]
    assert f"FAIT {census.code}" in assigned

    await liaison.until(liaison.at(20, 9))
    assert "bien reçue" in await liaison.phone.reply(DIRECTOR_ACIGNE[1], f"fait {census.code}")
    await liaison.until(liaison.at(20, 10))

    await liaison.until(landlords.due_at - timedelta(days=1))
    [mail] = [
        m
        for m in mail_sandbox.sent_to("ud-35@example.org")
        if "action vous est confiée" in m["Subject"]
    ]
    link = next(w for w in plain_text(mail).split() if "/r/" in w)
    page = await liaison.phone.http.get(urlsplit(link).path)
    assert page.status_code == 200 and "Réunir les bailleurs sociaux" in page.text
    refused = await liaison.phone.http.post(urlsplit(link).path, data={"answer": "OK"})
    assert refused.status_code == 422
    done = await liaison.phone.http.post(urlsplit(link).path, data={"answer": "FAIT"})
    assert done.status_code == 200
    return [census, landlords, files]


async def _the_following_quarters(liaison: Liaison) -> None:
    """One meeting moved, one cancelled and replaced; the first point d'étape confirmed."""
    await liaison.until(liaison.at(60, 9))
    await liaison.post("/meetings/reunion-2/move", {"starts_at": liaison.at(102, 15).isoformat()})
    await liaison.post("/meetings/reunion-3/cancel", {"reason": "préfet indisponible"})
    await liaison.post(
        "/meetings",
        {"committee_id": "clav-35", "starts_at": liaison.at(200, 14).isoformat()},
        201,
    )
    for meeting_id, after in (("reunion-2", 103), ("reunion-5", 201), ("reunion-4", 281)):
        await liaison.until(liaison.at(after, 9))
        await liaison.post(f"/meetings/{meeting_id}/report", {"summary": "Point d'étape du CLAV."})
        if meeting_id == "reunion-2":
            [checkpoint] = (await liaison.status()).checkpoints
            answer = await liaison.phone.reply(REPRESENTATIVE.phone or "", f"OUI {checkpoint.code}")
            assert "bien reçue" in answer


def _check_tasks(
    status: CommitteeStatus, twilio_sandbox: TwilioSandbox, assigned: list[CommitteeTask]
) -> None:
    census, landlords, files = assigned
    tasks = {task.task_id: task for task in status.tasks}
    assert tasks[census.task_id].state is TaskState.DONE
    assert tasks[census.task_id].reminded_at is None
    assert tasks[landlords.task_id].state is TaskState.DONE
    assert tasks[landlords.task_id].done_by == "lien web"
    assert _near(tasks[landlords.task_id].reminded_at, landlords.due_at - timedelta(days=2))
    late = tasks[files.task_id]
    assert late.state is TaskState.ESCALATED
    assert _near(late.overdue_at, files.due_at)
    assert _near(late.escalated_at, files.due_at + timedelta(days=3))
    overdue = [m.body for m in twilio_sandbox.sent_to(REPRESENTATIVE.phone or "")]
    assert any("en retard" in body for body in overdue)
    assert any("en retard" in m.body for m in twilio_sandbox.sent_to(STAFF_PHONE))


async def _check_task_states_in_the_api(liaison: Liaison, assigned: list[CommitteeTask]) -> None:
    """API clients read each task's state, the one the CLI shows, as a word."""
    response = await liaison.phone.http.get(f"/api/events/{liaison.event_id}/committee")
    assert response.status_code == 200, response.text
    states = {task["task_id"]: task["state"] for task in response.json()["tasks"]}
    census, landlords, files = assigned
    assert states == {
        census.task_id: "done",
        landlords.task_id: "done",
        files.task_id: "escalated",
    }


def _check_meetings(liaison: Liaison, status: CommitteeStatus, mail_sandbox: MailSandbox) -> None:
    meetings = {m.meeting_id: m for m in status.meetings}
    assert meetings["reunion-2"].starts_at == liaison.at(102, 15)
    assert meetings["reunion-3"].cancelled_at is not None
    assert sum(m.held for m in meetings.values()) == 4
    versions = _invitations(mail_sandbox, REPRESENTATIVE.email or "")
    moved = [_event_of(c) for c in versions if _event_of(c)["UID"] == meetings["reunion-2"].uid]
    assert [e["SEQUENCE"] for e in moved] == [0, 1]
    assert moved[1].decoded("DTSTART") == liaison.at(102, 15)
    cancelled = [c for c in versions if _event_of(c)["UID"] == meetings["reunion-3"].uid]
    assert [c["METHOD"] for c in cancelled] == ["REQUEST", "CANCEL"]
    assert _event_of(cancelled[1])["STATUS"] == "CANCELLED"


def _check_checkpoints(status: CommitteeStatus, twilio_sandbox: TwilioSandbox) -> None:
    checkpoints = status.checkpoints
    assert len(checkpoints) == 6
    for number, checkpoint in enumerate(checkpoints, start=1):
        assert _near(checkpoint.at, status.started_at + CHECKPOINT_EVERY * number)
    assert checkpoints[0].confirmed_by == REPRESENTATIVE.name
    assert [c.meetings_held for c in checkpoints[:4]] == [1, 1, 1, 1]
    assert checkpoints[0].tasks_done == 2 and checkpoints[0].tasks_open == 1
    assert checkpoints[0].centres_needing_support == ["CCAS d'Argentré-du-Plessis"]
    assert any("point d'étape 6" in m.body for m in twilio_sandbox.sent_to(STAFF_PHONE))


async def test_eighteen_months_of_liaison(
    liaison: Liaison, twilio_sandbox: TwilioSandbox, mail_sandbox: MailSandbox
) -> None:
    first = await _four_meetings_invited(liaison, mail_sandbox)
    assigned = await _first_meeting_and_its_actions(liaison, twilio_sandbox, mail_sandbox, first)
    await _the_following_quarters(liaison)
    await liaison.until(liaison.started + EIGHTEEN_MONTHS)
    status = await liaison.status()
    assert status.generation >= 3, "the liaison continued as new"
    _check_tasks(status, twilio_sandbox, assigned)
    await _check_task_states_in_the_api(liaison, assigned)
    _check_meetings(liaison, status, mail_sandbox)
    _check_checkpoints(status, twilio_sandbox)

    files = assigned[2]
    await liaison.handle.signal(STOP_SIGNAL)
    final = await liaison.handle.result()
    assert final.finished and len(final.tasks) == 3
    closed = await liaison.phone.reply(DIRECTOR_ARGENTRE[1], f"FAIT {files.code}")
    assert "close" in closed
    [closing] = liaison.log(CrisisLogKind.LIAISON_CLOSED)
    assert "4 réunion(s) tenue(s)" in closing.text
    keys = [e.entry_key for e in liaison.log(CrisisLogKind.TASK_ASSIGNED)]
    assert len(keys) == len(set(keys)) == 3, "nothing written twice across generations"


async def test_an_invitation_promises_only_the_reminders_still_to_come(
    liaison: Liaison, mail_sandbox: MailSandbox
) -> None:
    """The protocol reminds a day and two hours before: a meeting set three hours
    ahead gets one reminder, one set an hour ahead none, and the invitation says so."""
    await liaison.post(
        "/committees",
        {"department_code": "35", "name": "CLAV 35", "place": "Rennes", "member_ids": []},
        201,
    )
    now = await liaison.env.get_current_time()
    for ahead in (timedelta(days=3), timedelta(hours=3), timedelta(hours=1)):
        await liaison.post(
            "/meetings",
            {"committee_id": "clav-35", "starts_at": (now + ahead).isoformat()},
            201,
        )
    bodies = [plain_text(m) for m in mail_sandbox.sent_to(REPRESENTATIVE.email or "")]
    notices = [line for body in bodies for line in body.splitlines() if "rappel" in line]
    assert notices == [
        "Des rappels vous seront envoyés par SMS 1 jour et 2 heures avant la réunion.",
        "Un rappel vous sera envoyé par SMS 2 heures avant la réunion.",
        "Aucun rappel ne sera envoyé par SMS : la réunion est trop proche.",
    ]
    assert not any("la veille" in body for body in bodies)


def test_a_task_s_state_in_the_api_is_the_word_the_readme_promises() -> None:
    """open, late, escalated, done: a late task is not yet escalated."""
    assigned = datetime(2027, 3, 1, 9, tzinfo=PARIS)
    task = CommitteeTask(
        task_id="t1",
        meeting_id="reunion-1",
        what="Recenser les familles relogées",
        assignee=REPRESENTATIVE,
        due_at=assigned + timedelta(days=2),
        assigned_at=assigned,
    )
    late = task.model_copy(update={"overdue_at": assigned + timedelta(days=2)})
    escalated = late.model_copy(update={"escalated_at": assigned + timedelta(days=3)})
    done = escalated.model_copy(update={"done_at": assigned + timedelta(days=4)})
    words = [t.model_dump(mode="json")["state"] for t in (task, late, escalated, done)]
    assert words == ["open", "late", "escalated", "done"]
    assert late.state.label == "en retard"


def test_an_invitee_without_a_mobile_is_told_no_reminder_will_come() -> None:
    now = datetime(2027, 3, 1, 9, tzinfo=PARIS)
    notice = reminders_notice([timedelta(days=1)], now + timedelta(days=3), now, by_sms=False)
    assert (
        notice == "Sans numéro de mobile dans l'annuaire, vous ne recevrez pas de rappel par SMS."
    )


async def test_bad_committee_requests_are_refused_and_change_nothing(liaison: Liaison) -> None:
    bad_department = await liaison.post(
        "/committees",
        {"department_code": "29", "name": "CLAV du Finistère", "place": "Quimper"},
        409,
    )
    assert "29" in bad_department["detail"]
    unknown = await liaison.post(
        "/committees",
        {"department_code": "35", "name": "CLAV", "place": "Rennes", "member_ids": ["personne"]},
        422,
    )
    assert "personne" in unknown["errors"][0]
    no_committee = await liaison.post(
        "/meetings", {"committee_id": "clav-99", "starts_at": liaison.at(5, 10).isoformat()}, 409
    )
    assert "clav-99" in no_committee["detail"]
    await liaison.post(
        "/committees", {"department_code": "35", "name": "CLAV", "place": "Rennes"}, 201
    )
    past = await liaison.post(
        "/meetings", {"committee_id": "clav-35", "starts_at": liaison.at(-1, 10).isoformat()}, 409
    )
    assert "passée" in past["detail"]
    malformed = await liaison.post(
        "/meetings", {"committee_id": "clav-35", "starts_at": "mardi prochain"}, 422
    )
    assert malformed["errors"]
    await liaison.post(
        "/meetings", {"committee_id": "clav-35", "starts_at": liaison.at(5, 10).isoformat()}, 201
    )
    early = await liaison.post("/meetings/reunion-1/report", {"summary": "Trop tôt."}, 409)
    assert "pas encore eu lieu" in early["detail"]
    unknown_assignee = await liaison.post(
        "/meetings/reunion-1/report",
        {
            "summary": "Compte rendu",
            "actions": [{"what": "x", "assignee_id": "inconnu", "due": str(date(2030, 1, 1))}],
        },
        422,
    )
    assert "inconnu" in unknown_assignee["errors"][0]
    status = await liaison.status()
    assert len(status.committees) == 1 and len(status.meetings) == 1 and not status.tasks


async def test_an_event_enters_its_committee_phase_and_closes(
    time_skipping_env: WorkflowEnvironment,
    demo_store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    phone: Phone,
) -> None:
    event_id = f"inondation-phase-{task_queue[-6:]}"
    async with running_workers(
        time_skipping_env.client, demo_store, task_queue, definitions, messaging
    ):
        handle = await start_event(time_skipping_env.client, task_queue, DECLARATION, event_id)
        early = await phone.http.post(f"/api/events/{event_id}/committee-phase")
        assert early.status_code == 409
        await until_status(handle, lambda s: bool(s.designation and s.designation.attempts))
        await phone.reply(REPRESENTATIVE.phone or "", "oui")
        await until_status(handle, lambda s: bool(s.mobilised_departments))
        department = await until_department(
            time_skipping_env.client,
            event_id,
            "35",
            lambda d: len(d.centres) == 2 and all(c.code for c in d.centres),
        )
        [argentre] = [c for c in department.centres if c.organisation_id == "ccas-35006"]
        assert "AIDE" in await phone.reply(DIRECTOR_ARGENTRE[1], f"AIDE {argentre.code}")
        await until_department(
            time_skipping_env.client, event_id, "35", lambda d: d.counts.needs_support == 1
        )

        entered = await phone.http.post(
            f"/api/events/{event_id}/committee-phase", json={"requested_by": "astreinte"}
        )
        assert entered.status_code == 200 and entered.json()["phase"] == "committee"
        again = await phone.http.post(f"/api/events/{event_id}/committee-phase")
        assert again.status_code == 409
        broadcast = await phone.http.post(
            f"/api/events/{event_id}/broadcast", json={"text": "Point"}
        )
        assert broadcast.status_code == 409 and "comités" in broadcast.json()["detail"]
        committee = (await phone.http.get(f"/api/events/{event_id}/committee")).json()
        assert committee["centres_needing_support"] == ["CCAS d'Argentré-du-Plessis"]
        assert committee["representative"]["contact_id"] == REPRESENTATIVE.contact_id

        await stand_down(handle)
        closed = await handle.result()
        assert closed.phase.value == "closed"
        liaison = time_skipping_env.client.get_workflow_handle(
            committee_workflow_id(event_id), result_type=CommitteeStatus
        )
        assert (await liaison.result()).finished
        after = (await phone.http.get(f"/api/events/{event_id}/committee")).json()
        assert after["finished"] is True, "read after closure, the liaison says it finished"
        mobilisation = (await phone.http.get(f"/api/events/{event_id}/mobilisation")).json()
        assert mobilisation and all(department["finished"] for department in mobilisation)
        with demo_store.session() as session:
            kinds = [entry.kind for entry in events.crisis_log(session, event_id)]
        assert CrisisLogKind.LIAISON_OPENED in kinds and CrisisLogKind.LIAISON_CLOSED in kinds
