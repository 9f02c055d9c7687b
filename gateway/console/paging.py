"""Numbered pages of the console's long lists, so that every row can be reached
without the page growing with the event."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Query

PageQuery = Annotated[int, Query(ge=1, le=100_000, description="numéro de page")]
Row = TypeVar("Row")


@dataclass(frozen=True)
class Paging:
    """Which rows of ``total`` a page shows; pages count from 1 and a page past the
    last shows the last (a list that shrank since the link was drawn)."""

    total: int
    per_page: int
    requested: int = 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def number(self) -> int:
        return min(max(1, self.requested), self.pages)

    @property
    def start(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def stop(self) -> int:
        return min(self.start + self.per_page, self.total)

    def shown(self, rows: Sequence[Row]) -> list[Row]:
        """The rows of this page, out of all ``total`` of them."""
        return list(rows[self.start : self.stop])
