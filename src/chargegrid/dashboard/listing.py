"""What a list page was asked to show: filters, sort and page, read from the query
string leniently (a bad value falls back to its default) and written back into links."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from chargegrid.values import immutable

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value or "")
    except ValueError:
        return default
    return min(max(number, low), high)


@immutable
class Paging:
    """A page of a list: its number (from 1) and size."""

    number: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def of(cls, query: Mapping[str, str]) -> Paging:
        size = _int(query.get("per"), DEFAULT_PAGE_SIZE, 1, max(PAGE_SIZES))
        if size not in PAGE_SIZES:
            size = DEFAULT_PAGE_SIZE
        return cls(_int(query.get("page"), 1, 1, 1_000_000), size)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


@immutable
class PageInfo:
    """Where a shown page stands in the whole list."""

    number: int
    size: int
    total: int
    shown: int
    counted_to: int | None = None  # the count stopped there: there are more rows

    @property
    def more(self) -> bool:
        """Whether there are more rows than were counted (the total is a lower bound)."""
        return self.counted_to is not None and self.total > self.counted_to

    @property
    def pages(self) -> int:
        if self.more:
            return self.number + (1 if self.shown == self.size else 0)
        return max(1, math.ceil(self.total / self.size))

    @property
    def first_item(self) -> int:
        return 0 if self.shown == 0 else (self.number - 1) * self.size + 1

    @property
    def last_item(self) -> int:
        return (self.number - 1) * self.size + self.shown


def query_string(values: Mapping[str, Any]) -> str:
    """``values`` as a query string, leaving out empty ones (and the defaults given as None)."""
    kept = {k: v for k, v in values.items() if v not in (None, "", False)}
    return urlencode(kept)


@immutable
class ListState:
    """The filters, sort and page of a list, as in its URL."""

    path: str
    filters: tuple[tuple[str, str], ...]
    sort: str
    descending: bool
    paging: Paging
    default_descending: bool = False  # the order a list has when its URL says none

    def url(self, **changes: Any) -> str:
        """The list's URL with some of its parts changed (page resets to 1 unless given)."""
        state = self
        values: dict[str, Any] = dict(self.filters)
        if "sort" in changes:
            state = replace(state, sort=changes.pop("sort"), descending=changes.pop("desc", False))
        page = changes.pop("page", 1)
        values.update(changes)
        values.update(
            sort=state.sort,
            dir=(
                None
                if state.descending == self.default_descending
                else ("desc" if state.descending else "asc")
            ),
            per=state.paging.size if state.paging.size != DEFAULT_PAGE_SIZE else None,
            page=page if page != 1 else None,
        )
        text = query_string(values)
        return f"{self.path}?{text}" if text else self.path

    def sort_url(self, key: str) -> str:
        """Sort by ``key``; a second click reverses the order."""
        return self.url(sort=key, desc=self.sort == key and not self.descending)

    def aria_sort(self, key: str) -> str:
        if self.sort != key:
            return "none"
        return "descending" if self.descending else "ascending"
