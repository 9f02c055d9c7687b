"""What the gateway's routers share: what an event id looks like, how a request
body names who acted, and how a paged list points to its next page."""

from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import Path, Response
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


def announce_next_page(response: Response, path: str, query: dict[str, str], after: str) -> None:
    """The next page's cursor in ``X-Next-After``, and its whole URL in a ``Link``
    header (RFC 8288): a client follows either without building URLs of its own."""
    response.headers["X-Next-After"] = after
    response.headers["Link"] = f'<{path}?{urlencode({**query, "after": after})}>; rel="next"'
