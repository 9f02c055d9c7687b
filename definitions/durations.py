"""Durations as staff write them in protocol files: ``90s``, ``15min``, ``2h``,
``3j``, ``2sem``, or combined, ``1h30min``. ISO 8601 (``PT15M``) is accepted too,
which is also how a duration travels in Temporal payloads."""

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator

_UNITS = {"s": 1, "min": 60, "h": 3600, "j": 86_400, "sem": 604_800}
_PART = re.compile(r"(\d+)\s*(sem|min|s|h|j)")
_WHOLE = re.compile(r"^\s*(?:\d+\s*(?:sem|min|s|h|j)\s*)+$")


def parse_duration(value: object) -> object:
    """French units to a timedelta; anything else is left to pydantic."""
    if isinstance(value, str) and _WHOLE.match(value):
        seconds = sum(int(amount) * _UNITS[unit] for amount, unit in _PART.findall(value))
        return timedelta(seconds=seconds)
    return value


def format_duration(duration: timedelta) -> str:
    """The shortest French spelling: ``1h30min``, ``91j``."""
    remaining = int(duration.total_seconds())
    if remaining == 0:
        return "0s"
    parts = []
    for unit in ("j", "h", "min", "s"):
        amount, remaining = divmod(remaining, _UNITS[unit])
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
