"""Directory verification for the CLI, the API and the console alike: start a
campaign over departments and kinds of organisation, and read each department's
freshness from the store."""

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from definitions.directory import Organisation, OrganisationKind
from definitions.directory_verification import (
    FRESH_WITHIN,
    VERIFIED_KINDS,
    CampaignAnswers,
    DepartmentFreshness,
    OrganisationFreshness,
    UnansweredOrganisation,
    VerificationProgress,
    VerificationStart,
    verification_workflow_id,
)
from definitions.temporal_names import DIRECTORY_DIGEST_WORKFLOW, DIRECTORY_VERIFICATION_WORKFLOW
from definitions.territory import load_territory
from store import directory
from store import directory_verification as verification
from store.database import Store
from store.directory_verification import department_of
from store.tables import VerificationRequestRow

CAMPAIGN_SCHEDULE = "verification-annuaire"
DIGEST_SCHEDULE = "verification-digest"
QUARTERLY = "0 9 1 1,4,7,10 *"
"""Every quarter, the first day at 9:00 (Paris)."""
DAILY = "0 8 * * *"
SCHEDULE_ZONE = "Europe/Paris"


class UnknownDepartmentError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(f"département inconnu : {code}")


class ScheduleRefusedError(ValueError):
    """Temporal refused the schedule (a malformed cron expression)."""


class ScheduleMissingError(LookupError):
    def __init__(self) -> None:
        super().__init__("aucune campagne programmée : lancez d'abord `tocsin directory schedule`")


def _checked_departments(departments: list[str]) -> list[str]:
    territory = load_territory()
    for code in departments:
        if territory.department(code) is None:
            raise UnknownDepartmentError(code)
    return sorted(set(departments))


def campaign_id_at(now: datetime) -> str:
    """``20261207-0412``: one campaign a minute at most, named by its start."""
    return now.strftime("%Y%m%d-%H%M")


async def start(
    client: Client,
    task_queue: str,
    departments: list[str],
    kinds: list[OrganisationKind],
    started_by: str = "",
) -> WorkflowHandle[Any, VerificationProgress]:
    """The campaign started (or the one started the same minute)."""
    campaign = VerificationStart(
        campaign_id=campaign_id_at(datetime.now(UTC)),
        departments=_checked_departments(departments),
        kinds=kinds or list(VERIFIED_KINDS),
        started_by=started_by,
    )
    return await client.start_workflow(
        DIRECTORY_VERIFICATION_WORKFLOW,
        campaign,
        id=verification_workflow_id(campaign.campaign_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        result_type=VerificationProgress,
    )


async def schedule(
    client: Client,
    task_queue: str,
    departments: list[str],
    kinds: list[OrganisationKind],
    cron: str = QUARTERLY,
) -> None:
    """The recurring campaign (quarterly unless told) and the daily digest of
    corrections, created or changed; a paused campaign stays paused."""
    campaign = Schedule(
        action=ScheduleActionStartWorkflow(
            DIRECTORY_VERIFICATION_WORKFLOW,
            VerificationStart(
                departments=_checked_departments(departments),
                kinds=kinds or list(VERIFIED_KINDS),
                started_by="programmation",
            ),
            id="verification-programmee",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=[cron], time_zone_name=SCHEDULE_ZONE),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    digest = Schedule(
        action=ScheduleActionStartWorkflow(
            DIRECTORY_DIGEST_WORKFLOW, id="verification-digest", task_queue=task_queue
        ),
        spec=ScheduleSpec(cron_expressions=[DAILY], time_zone_name=SCHEDULE_ZONE),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    for schedule_id, wanted in ((CAMPAIGN_SCHEDULE, campaign), (DIGEST_SCHEDULE, digest)):
        try:
            await _create_or_update(client, schedule_id, wanted)
        except RPCError as error:
            raise ScheduleRefusedError(f"programmation refusée par Temporal : {error}") from error


async def _create_or_update(client: Client, schedule_id: str, wanted: Schedule) -> None:
    try:
        await client.create_schedule(schedule_id, wanted)
    except ScheduleAlreadyRunningError:

        def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
            wanted.state = current.description.schedule.state
            return ScheduleUpdate(schedule=wanted)

        await client.get_schedule_handle(schedule_id).update(keep_state)


async def set_paused(client: Client, paused: bool) -> None:
    """Pauses (or resumes) the recurring campaign; a running one goes on."""
    handle = client.get_schedule_handle(CAMPAIGN_SCHEDULE)
    try:
        if paused:
            await handle.pause(note="mise en pause par l'astreinte")
        else:
            await handle.unpause(note="reprise par l'astreinte")
    except RPCError as error:
        raise ScheduleMissingError() from error


async def schedule_state(client: Client) -> tuple[bool, datetime | None] | None:
    """Whether the recurring campaign is paused, and its next run; None if none."""
    try:
        description = await client.get_schedule_handle(CAMPAIGN_SCHEDULE).describe()
    except RPCError:
        return None
    upcoming = description.info.next_action_times
    return description.schedule.state.paused, (upcoming[0] if upcoming else None)


def freshness(
    store: Store, department: str | None = None, now: datetime | None = None
) -> list[DepartmentFreshness]:
    """Per department, the organisations confirmed within six months and the
    stale ones (never confirmed first), a contact failing making one stale, and
    those that have not answered the latest campaign there; the least fresh
    departments first."""
    now = now or datetime.now(UTC)
    with store.session() as session:
        confirmed = verification.last_confirmations(session)
        asked = verification.latest_requests(session)
        organisations = [
            organisation
            for kind in VERIFIED_KINDS
            for organisation in directory.organisations_of_kind(session, kind)
        ]
        contacts = directory.contacts(session)
        failing_contacts = verification.failing_points(session, contacts)
    owners = {contact.id: contact.organisation_id for contact in contacts}
    failing: dict[str, datetime] = {}
    for contact_id, (_, since) in failing_contacts.items():
        organisation_id = owners[contact_id]
        failing[organisation_id] = min(since, failing.get(organisation_id, since))
    by_department: dict[str, list[OrganisationFreshness]] = defaultdict(list)
    for organisation in organisations:
        code = department_of(organisation)
        if code is None or (department is not None and code != department):
            continue
        by_department[code].append(
            OrganisationFreshness(
                organisation_id=organisation.id,
                name=organisation.name,
                kind=organisation.kind,
                department=code,
                confirmed_at=confirmed.get(organisation.id),
                failing_since=failing.get(organisation.id),
            )
        )
    named = {organisation.id: organisation for organisation in organisations}
    table = []
    for code, members in by_department.items():
        stale = [
            member
            for member in members
            if member.confirmed_at is None
            or now - member.confirmed_at > FRESH_WITHIN
            or member.failing_since is not None
        ]
        stale.sort(key=lambda member: (member.confirmed_at is not None, member.confirmed_at))
        table.append(
            DepartmentFreshness(
                department=code,
                organisations=len(members),
                fresh=len(members) - len(stale),
                stale=stale,
                campaign=_answers(asked.get(code, []), named, confirmed),
            )
        )
    return sorted(table, key=lambda row: (row.share, row.department))


def _answers(
    requests: list[VerificationRequestRow],
    organisations: dict[str, Organisation],
    confirmed: dict[str, datetime],
) -> CampaignAnswers | None:
    """The campaign's organisations still in the directory, and those of them that
    have confirmed neither through it nor otherwise since it asked them."""
    current = [request for request in requests if request.organisation_id in organisations]
    if not current:
        return None
    unanswered = [
        UnansweredOrganisation(
            organisation_id=request.organisation_id,
            name=organisations[request.organisation_id].name,
            kind=organisations[request.organisation_id].kind,
            asked_at=request.asked_at,
            reminded_at=request.reminded_at,
        )
        for request in current
        if not _answered(request, confirmed.get(request.organisation_id))
    ]
    return CampaignAnswers(
        campaign_id=current[0].campaign_id, asked=len(current), unanswered=unanswered
    )


def _answered(request: VerificationRequestRow, last_confirmed: datetime | None) -> bool:
    """Through the campaign's link or code, or through any other since it asked."""
    return request.confirmed_at is not None or (
        last_confirmed is not None and last_confirmed > request.asked_at
    )
