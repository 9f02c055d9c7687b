"""How long a message or a call may take to reach its provider, and how often it is
tried again meanwhile: the same for every channel."""

from datetime import timedelta

from temporalio.common import RetryPolicy

SEND_TIMEOUT = timedelta(seconds=60)
GIVE_UP_AFTER = timedelta(hours=6)
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
)
