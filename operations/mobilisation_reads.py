"""Reads of the departments' mobilisation, shared between readers.

A centre and the counts are read from the store, where each department workflow
records its centres as they change: readers never wait for a busy workflow, and a
national event's answers cost the workflows nothing to read (in a thread, so that a
slow store holds up no other request). A department that has recorded nothing (a
run from before it did) and the full status are queried.

While a workflow works on a task, the Temporal server holds one query for it and
refuses any other ("consistent query buffer is full"); the client retries those with a
growing backoff, so a reader polling a busy department waited seconds. Here each
department workflow gets one query at a time from this gateway, and the centre lookups
that arrive while it waits go out together in the next query."""

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from anyio import to_thread
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from definitions.mobilisation import (
    CentreSupport,
    MobilisationOverview,
    MobilisationStatus,
    SupportCounts,
)
from definitions.temporal_names import (
    CENTRES_QUERY,
    COUNTS_QUERY,
    STATUS_QUERY,
    mobilisation_workflow_id,
)
from operations import event_control
from store import centre_supports
from store.database import Store

Result = TypeVar("Result")


class DepartmentNotMobilisedError(LookupError):
    def __init__(self, event_id: str, department: str) -> None:
        super().__init__(f"le département {department} n'est pas mobilisé pour {event_id}")


@dataclass(frozen=True)
class DepartmentPage:
    """One page of an event's departments, the count of all of them, and the cursor
    of the next page (None on the last)."""

    departments: list[MobilisationStatus]
    total: int
    next_after: str | None


@dataclass
class _CentreLookup:
    """Centre ids gathered for the next query of one workflow."""

    ids: set[str] = field(default_factory=set)
    found: asyncio.Future[dict[str, CentreSupport]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass
class _WorkflowReads:
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    readers: int = 0
    next_lookup: _CentreLookup | None = None


class MobilisationReads:
    def __init__(self, client: Client, store: Store) -> None:
        self._client = client
        self._store = store
        self._workflows: dict[str, _WorkflowReads] = {}
        self._lookups: set[asyncio.Task[None]] = set()

    async def departments(
        self, event_id: str, department: str | None = None, *, within: str | None = None
    ) -> list[MobilisationStatus]:
        """Every centre's support request, per department (or for one department);
        ``within``: only that department, the one a departmental union reads."""
        return await self._statuses(
            event_id, await self._departments_of(event_id, department, within)
        )

    async def department_page(
        self,
        event_id: str,
        after: str | None,
        limit: int,
        department: str | None = None,
        *,
        within: str | None = None,
    ) -> DepartmentPage:
        """Up to ``limit`` departments following ``after`` (None: from the first), in
        the event's order: a national event is read a few workflows at a time."""
        codes = await self._departments_of(event_id, department, within)
        start = 0
        if after is not None:
            if after not in codes:
                raise DepartmentNotMobilisedError(event_id, after)
            start = codes.index(after) + 1
        chosen = codes[start : start + limit]
        more = start + limit < len(codes)
        return DepartmentPage(
            departments=await self._statuses(event_id, chosen),
            total=len(codes),
            next_after=chosen[-1] if more and chosen else None,
        )

    async def _statuses(self, event_id: str, codes: list[str]) -> list[MobilisationStatus]:
        return list(
            await asyncio.gather(
                *(
                    self._query(
                        mobilisation_workflow_id(event_id, code), STATUS_QUERY, MobilisationStatus
                    )
                    for code in codes
                )
            )
        )

    async def overview(self, event_id: str, *, within: str | None = None) -> MobilisationOverview:
        """Counts per department and in all, without reading every centre."""
        codes = await self._departments_of(event_id, within=within)
        recorded = await to_thread.run_sync(self._recorded_counts, event_id)
        counts: list[SupportCounts] = list(
            await asyncio.gather(
                *(self._counts(event_id, code, recorded.get(code)) for code in codes)
            )
        )
        return MobilisationOverview(
            departments=dict(zip(codes, counts, strict=True)), total=sum(counts, SupportCounts())
        )

    def _recorded_counts(self, event_id: str) -> dict[str, SupportCounts]:
        with self._store.session() as session:
            return centre_supports.counts_by_department(session, event_id)

    async def centre(self, workflow_id: str, organisation_id: str) -> CentreSupport | None:
        """One centre as its department's workflow last recorded it (None if unknown)."""
        recorded, centre = await to_thread.run_sync(
            self._recorded_centre, workflow_id, organisation_id
        )
        if recorded:
            return centre
        return await self._queried_centre(workflow_id, organisation_id)

    def _recorded_centre(
        self, workflow_id: str, organisation_id: str
    ) -> tuple[bool, CentreSupport | None]:
        """Whether the department has recorded its centres, and this one if it has."""
        with self._store.session() as session:
            found = centre_supports.centres(session, workflow_id, [organisation_id])
            if found or centre_supports.department_recorded(session, workflow_id):
                return True, next(iter(found), None)
        return False, None

    async def _counts(
        self, event_id: str, department: str, recorded: SupportCounts | None
    ) -> SupportCounts:
        if recorded is not None:
            return recorded
        workflow_id = mobilisation_workflow_id(event_id, department)
        return await self._query(workflow_id, COUNTS_QUERY, SupportCounts)

    async def _queried_centre(self, workflow_id: str, organisation_id: str) -> CentreSupport | None:
        reads = self._enter(workflow_id)
        try:
            lookup = reads.next_lookup
            if lookup is None:
                lookup = reads.next_lookup = _CentreLookup()
                self._start(self._look_up(workflow_id, self._enter(workflow_id), lookup))
            lookup.ids.add(organisation_id)
            found = await asyncio.shield(lookup.found)
        finally:
            self._leave(workflow_id, reads)
        return found.get(organisation_id)

    async def event_centre(
        self, event_id: str, department: str, organisation_id: str
    ) -> CentreSupport | None:
        try:
            return await self.centre(
                mobilisation_workflow_id(event_id, department), organisation_id
            )
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise DepartmentNotMobilisedError(event_id, department) from error
            raise

    async def _departments_of(
        self, event_id: str, department: str | None = None, within: str | None = None
    ) -> list[str]:
        codes = (await event_control.status(self._client, event_id)).mobilised_departments
        return [code for code in codes if department in (None, code) and within in (None, code)]

    async def _query(self, workflow_id: str, name: str, result_type: type[Result]) -> Result:
        reads = self._enter(workflow_id)
        try:
            async with reads.turn:
                handle = self._client.get_workflow_handle(workflow_id)
                result: Result = await handle.query(name, result_type=result_type)
                return result
        finally:
            self._leave(workflow_id, reads)

    async def _look_up(
        self, workflow_id: str, reads: _WorkflowReads, lookup: _CentreLookup
    ) -> None:
        try:
            async with reads.turn:
                if reads.next_lookup is lookup:
                    reads.next_lookup = None
                handle = self._client.get_workflow_handle(workflow_id)
                centres = await handle.query(
                    CENTRES_QUERY, sorted(lookup.ids), result_type=list[CentreSupport]
                )
            lookup.found.set_result({centre.organisation_id: centre for centre in centres})
        except Exception as error:
            lookup.found.set_exception(error)
        finally:
            self._leave(workflow_id, reads)

    def _enter(self, workflow_id: str) -> _WorkflowReads:
        reads = self._workflows.setdefault(workflow_id, _WorkflowReads())
        reads.readers += 1
        return reads

    def _leave(self, workflow_id: str, reads: _WorkflowReads) -> None:
        reads.readers -= 1
        if not reads.readers:
            del self._workflows[workflow_id]

    def _start(self, lookup: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(lookup)
        self._lookups.add(task)
        task.add_done_callback(self._lookups.discard)
