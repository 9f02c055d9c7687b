"""What the gateway's routers share: who the API acts as, and what an event id looks like."""

from typing import Annotated

from fastapi import Path

API_ACTOR = "api"
EventIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
