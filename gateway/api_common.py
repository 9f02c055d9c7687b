"""What the gateway's routers share: what an event id looks like, and how a request
body names who acted."""

from typing import Annotated, TypeVar

from fastapi import Path
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from gateway.access import Caller

Body = TypeVar("Body", bound=BaseModel)

EventIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Actor = Annotated[SkipJsonSchema[str], Field(max_length=100)]
"""The domain models name who acted; in the API it is always the signed-in account,
set after validation (a field of this type defaults to "")."""


def acted_by(body: Body, field: str, caller: Caller) -> Body:
    return body.model_copy(update={field: caller.actor})
