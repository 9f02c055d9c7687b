"""Recording a department's centres as they change, with the crisis-log lines of
the same turn: the read side that status reads use."""

from collections.abc import Callable

import structlog
from temporalio import activity

from definitions.mobilisation import CentreRecords
from definitions.temporal_names import RECORD_CENTRES
from store import centre_supports, events
from store.database import Store

log = structlog.get_logger(__name__)


class CentreRecordActivities:
    """Synchronous, in the worker's thread pool like the other store writes. A retry
    or a late attempt lands harmlessly: lines are keyed, centres guarded by revision."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name=RECORD_CENTRES)
    def record_centres(self, records: CentreRecords) -> None:
        with self._store.session() as session:
            written = centre_supports.record_centres(session, records)
            added = events.append_entries(session, records.entries)
            session.commit()
        log.info(
            "mobilisation.centres_recorded",
            department=records.department_code,
            centres=written,
            new_entries=added,
        )

    @property
    def all(self) -> list[Callable[..., object]]:
        return [self.record_centres]
