"""The provider's rate, kept by every SMS of the deployment, whatever the number
of worker processes.

Slots come from the schedule the processes share in the database
(store/sending_slots.py). Threads of one process that wait at the same time take
their slots in one write: the first to reach the database asks for as many as
are waiting, and each of the others takes one of them."""

import threading
import time
from collections import deque

from definitions.outgoing import Channel
from store.database import Store
from store.sending_slots import take_slots


class SendingPace:
    def __init__(self, store: Store, channel: Channel, per_second: float) -> None:
        self._store = store
        self._channel = channel
        self._interval = 1.0 / per_second
        self._slots: deque[float] = deque()
        self._waiting = 0
        self._counting = threading.Lock()
        self._taking = threading.Lock()

    def _take(self, count: int) -> None:
        with self._store.session() as session:
            first = take_slots(session, self._channel, count, self._interval, time.time())
            session.commit()
        self._slots.extend(first + n * self._interval for n in range(count))

    def wait_turn(self) -> None:
        """Blocks the calling thread until its message may leave."""
        with self._counting:
            self._waiting += 1
        with self._taking:
            with self._counting:
                waiting, self._waiting = self._waiting, self._waiting - 1
            if not self._slots:
                self._take(waiting)
            slot = self._slots.popleft()
        delay = slot - time.time()
        if delay > 0:
            time.sleep(delay)
