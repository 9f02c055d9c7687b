"""Directory verification for the CLI, the API and the console alike: start a
campaign over departments and kinds of organisation, and read each department's
freshness from the store."""

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from definitions.directory import OrganisationKind
from definitions.directory_verification import (
    FRESH_WITHIN,
    VERIFIED_KINDS,
    DepartmentFreshness,
    OrganisationFreshness,
    VerificationProgress,
    VerificationStart,
    verification_workflow_id,
)
from definitions.temporal_names import DIRECTORY_VERIFICATION_WORKFLOW
from definitions.territory import load_territory
from store import directory
from store import directory_verification as verification
from store.database import Store
from store.directory_verification import department_of


class UnknownDepartmentError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(f"département inconnu : {code}")


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
    territory = load_territory()
    for code in departments:
        if territory.department(code) is None:
            raise UnknownDepartmentError(code)
    campaign = VerificationStart(
        campaign_id=campaign_id_at(datetime.now(UTC)),
        departments=sorted(set(departments)),
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


def freshness(
    store: Store, department: str | None = None, now: datetime | None = None
) -> list[DepartmentFreshness]:
    """Per department, the organisations confirmed within six months and the
    stale ones (never confirmed first); the least fresh departments first."""
    now = now or datetime.now(UTC)
    with store.session() as session:
        confirmed = verification.last_confirmations(session)
        organisations = [
            organisation
            for kind in VERIFIED_KINDS
            for organisation in directory.organisations_of_kind(session, kind)
        ]
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
            )
        )
    table = []
    for code, members in by_department.items():
        stale = [
            member
            for member in members
            if member.confirmed_at is None or now - member.confirmed_at > FRESH_WITHIN
        ]
        stale.sort(key=lambda member: (member.confirmed_at is not None, member.confirmed_at))
        table.append(
            DepartmentFreshness(
                department=code,
                organisations=len(members),
                fresh=len(members) - len(stale),
                stale=stale,
            )
        )
    return sorted(table, key=lambda row: (row.share, row.department))
