"""The provider's rate, kept by every SMS this worker process hands over.

Temporal's task-queue limit counts activities, and a batch activity carries
many SMS: the pace spaces the SMS themselves, evenly, across the threads of
the process. With several SMS workers, each keeps this pace.
"""

import threading
import time


class SendingPace:
    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def wait_turn(self) -> None:
        """Blocks the calling thread until its SMS may leave."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)
