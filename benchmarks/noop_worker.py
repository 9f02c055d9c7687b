"""The same workflows as `tocsin worker`, with every activity replaced by one that
does nothing (reads are answered from results computed before the clock starts):
what the national activation costs in Temporal alone, the benchmark's baseline.

Run by benchmarks/national_activation.py with the same TOCSIN_* environment.
"""

import asyncio
import itertools
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from temporalio import activity
from temporalio.worker import Worker

from activities.event_preparation import EventPreparationActivities
from activities.mobilisation_targets import MobilisationTargetActivities
from activities.people import PeopleActivities
from definitions.answer_links import AnswerLink
from definitions.awaited_replies import ReplyCodeClosure, ReplyCodeRequest
from definitions.crisis_log import CrisisLogEntry, DeclarationRecord, PhaseRecord
from definitions.designation import BriefingRequest, ClaimOutcome, RepresentativeClaim
from definitions.event import EventDeclaration
from definitions.loader import load_definitions
from definitions.mobilisation import (
    CentreRecords,
    NeighboursRequest,
    ReinforcementOffer,
    TargetsRequest,
)
from definitions.outgoing import (
    BatchItemResult,
    EmailRequest,
    OutboxStatus,
    SendResult,
    SmsRequest,
)
from definitions.people import Person
from definitions.temporal_names import (
    APPEND_CRISIS_LOG,
    APPEND_CRISIS_LOG_ENTRIES,
    BUSY_REPRESENTATIVES,
    CLAIM_REPRESENTATIVE,
    CLOSE_REPLY_CODES,
    LOAD_NEIGHBOURS,
    LOAD_SUPPORT_TARGETS,
    OPEN_ANSWER_LINKS,
    OPEN_REPLY_CODES,
    RECORD_CENTRES,
    RECORD_DECLARATION,
    RECORD_PHASE,
    SEND_BRIEFING,
    SEND_EMAIL,
    SEND_EMAIL_BATCH,
    SEND_SMS,
    SEND_SMS_BATCH,
    email_task_queue,
    sms_task_queue,
)
from store.database import Store
from worker.logging import configure_logging
from worker.process_signals import run_until_stopped, stop_on_signals
from worker.settings import Settings
from worker.temporal_client import connect_temporal
from workflows.department_mobilisation import DepartmentMobilisationWorkflow
from workflows.major_event import MajorEventWorkflow
from workflows.representative_designation import RepresentativeDesignationWorkflow

_codes = itertools.count()


def _sent(key: str) -> SendResult:
    return SendResult(key=key, status=OutboxStatus.QUEUED, provider_id=f"noop-{key}")


@activity.defn(name=RECORD_DECLARATION)
async def record_declaration(record: DeclarationRecord) -> None:
    return None


@activity.defn(name=RECORD_PHASE)
async def record_phase(record: PhaseRecord) -> None:
    return None


@activity.defn(name=APPEND_CRISIS_LOG)
async def append_crisis_log(entry: CrisisLogEntry) -> None:
    return None


@activity.defn(name=APPEND_CRISIS_LOG_ENTRIES)
async def append_crisis_log_entries(entries: list[CrisisLogEntry]) -> None:
    return None


@activity.defn(name=RECORD_CENTRES)
async def record_centres(records: CentreRecords) -> None:
    return None


@activity.defn(name=BUSY_REPRESENTATIVES)
async def busy_representatives(event_id: str) -> dict[str, str]:
    return {}


@activity.defn(name=CLAIM_REPRESENTATIVE)
async def claim_representative(claim: RepresentativeClaim) -> ClaimOutcome:
    return ClaimOutcome(granted=True)


@activity.defn(name=OPEN_REPLY_CODES)
async def open_reply_codes(request: ReplyCodeRequest) -> dict[str, str]:
    return {task.task_key: f"{next(_codes) % 10_000:04d}" for task in request.tasks}


@activity.defn(name=OPEN_ANSWER_LINKS)
async def open_answer_links(request: ReplyCodeRequest) -> dict[str, AnswerLink]:
    codes = await open_reply_codes(request)
    return {key: AnswerLink(code=code, url=f"http://noop/r/{code}") for key, code in codes.items()}


@activity.defn(name=CLOSE_REPLY_CODES)
async def close_reply_codes(closure: ReplyCodeClosure) -> None:
    return None


@activity.defn(name=SEND_SMS)
async def send_sms(request: SmsRequest) -> SendResult:
    return _sent(request.key)


@activity.defn(name=SEND_EMAIL)
async def send_email(request: EmailRequest) -> SendResult:
    return _sent(request.key)


@activity.defn(name=SEND_SMS_BATCH)
async def send_sms_batch(requests: list[SmsRequest]) -> list[BatchItemResult]:
    return [BatchItemResult(key=r.key, result=_sent(r.key)) for r in requests]


@activity.defn(name=SEND_EMAIL_BATCH)
async def send_email_batch(requests: list[EmailRequest]) -> list[BatchItemResult]:
    return [BatchItemResult(key=r.key, result=_sent(r.key)) for r in requests]


@activity.defn(name=SEND_BRIEFING)
async def send_briefing(request: BriefingRequest) -> SendResult:
    return _sent(request.email.key)


@activity.defn(name=LOAD_NEIGHBOURS)
async def load_neighbours(request: NeighboursRequest) -> list[ReinforcementOffer]:
    return []


class PrecomputedReads:
    """The reads a national activation makes, answered once before the clock starts."""

    def __init__(self, store: Store, declaration: EventDeclaration) -> None:
        definitions = load_definitions(None)
        preparation = EventPreparationActivities(store, definitions, "http://127.0.0.1")
        people = PeopleActivities(store)
        mobilisation = MobilisationTargetActivities(store)
        territory = preparation.resolve_territory(declaration)
        protocol = definitions.protocols[declaration.type]
        roster = people.load_roster()
        self._results: dict[str, object] = {
            "load_protocol": protocol,
            "load_templates": preparation.load_templates(declaration.type),
            "resolve_territory": territory,
            "load_roster": roster,
            "load_on_call_staff": people.load_on_call_staff(),
            "load_state_recipients": people.load_state_recipients(
                [department.code for department in territory.departments]
            ),
        }
        self._people = {person.contact_id: person for person in roster}
        self._targets = {
            department.code: mobilisation.load_support_targets(
                TargetsRequest(
                    department_code=department.code,
                    declaration=declaration,
                    ask_deputy=protocol.mobilisation.ask_deputy,
                )
            )
            for department in territory.departments
        }

    def activities(self) -> list[Callable[..., object]]:
        results = self._results

        @activity.defn(name="load_protocol")
        async def load_protocol(event_type: str) -> object:
            return results["load_protocol"]

        @activity.defn(name="load_templates")
        async def load_templates(event_type: str) -> object:
            return results["load_templates"]

        @activity.defn(name="resolve_territory")
        async def resolve_territory(declaration: EventDeclaration) -> object:
            return results["resolve_territory"]

        @activity.defn(name="load_roster")
        async def load_roster() -> object:
            return results["load_roster"]

        @activity.defn(name="load_on_call_staff")
        async def load_on_call_staff() -> object:
            return results["load_on_call_staff"]

        @activity.defn(name="load_state_recipients")
        async def load_state_recipients(codes: list[str]) -> object:
            return results["load_state_recipients"]

        @activity.defn(name="load_person")
        async def load_person(contact_id: str) -> Person:
            return self._people[contact_id]

        @activity.defn(name=LOAD_SUPPORT_TARGETS)
        async def load_support_targets(request: TargetsRequest) -> object:
            return self._targets[request.department_code]

        return [
            load_protocol,
            load_templates,
            resolve_territory,
            load_roster,
            load_on_call_staff,
            load_state_recipients,
            load_person,
            load_support_targets,
        ]


NOOP_ACTIVITIES: list[Callable[..., object]] = [
    record_declaration,
    record_phase,
    append_crisis_log,
    append_crisis_log_entries,
    record_centres,
    busy_representatives,
    claim_representative,
    open_reply_codes,
    open_answer_links,
    close_reply_codes,
    send_briefing,
    load_neighbours,
]


async def main(declaration: EventDeclaration) -> None:
    settings = Settings()
    configure_logging(level=settings.log_level)
    store = Store(settings.database_url)
    reads = PrecomputedReads(store, declaration)
    client = await connect_temporal(settings)
    workflows = [
        MajorEventWorkflow,
        RepresentativeDesignationWorkflow,
        DepartmentMobilisationWorkflow,
    ]
    main_worker = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=workflows,
        activities=[*NOOP_ACTIVITIES, *reads.activities()],
    )
    sms_worker = Worker(
        client,
        task_queue=sms_task_queue(settings.task_queue),
        activities=[send_sms, send_sms_batch],
    )
    email_worker = Worker(
        client,
        task_queue=email_task_queue(settings.task_queue),
        activities=[send_email, send_email_batch],
    )
    print(f"ready {datetime.now(UTC).isoformat()}", flush=True)
    stop = stop_on_signals()
    workers = (main_worker, sms_worker, email_worker)
    await run_until_stopped(stop, *(asyncio.create_task(worker.run()) for worker in workers))


if __name__ == "__main__":
    asyncio.run(main(EventDeclaration.model_validate_json(sys.argv[1])))
