"""Reading the dashboard's management forms: values as typed, and a problem per field.

A form that does not pass comes back with what was typed and each problem next to its
field; the domain services then check again (and their refusals are put next to the
field they concern).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request

_LOCAL_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


@dataclass
class Form:
    """A submitted form: its text values and the problems found, by field name."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def problem(self, name: str, message: str) -> None:
        """Note a problem with a field (the first one found is kept)."""
        self.errors.setdefault(name, message)

    def text(self, name: str, label: str, *, max_length: int, required: bool = False) -> str | None:
        """A trimmed text value; None when empty."""
        value = self.get(name).strip()
        if not value:
            if required:
                self.problem(name, f"{label} is required.")
            return None
        if len(value) > max_length:
            self.problem(name, f"{label} is at most {max_length} characters.")
        return value

    def choice(self, name: str, label: str, options: Iterable[str]) -> str | None:
        """One of ``options``; None (and a problem) otherwise."""
        value = self.get(name)
        allowed = list(options)
        if value not in allowed:
            self.problem(name, f"Choose a {label.lower()}: {', '.join(allowed)}.")
            return None
        return value

    def utc_time(self, name: str, label: str) -> datetime | None:
        """A time typed in a ``datetime-local`` input, taken as UTC; None when empty."""
        value = self.get(name).strip()
        if not value:
            return None
        if not _LOCAL_DATETIME.match(value):
            self.problem(name, f"{label} must be a date and time, like 2030-01-31T18:00.")
            return None
        try:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        except ValueError:
            self.problem(name, f"{label} is not a valid date and time.")
            return None


async def read_form(request: Request) -> Form:
    """The request's form fields (the CSRF token left out)."""
    submitted = await request.form()
    values: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for key, value in submitted.multi_items():
        if key == "csrf_token" or not isinstance(value, str):
            continue
        values.setdefault(key, value)
        lists.setdefault(key, []).append(value)
    return Form(values, lists)


def local_input(value: datetime | None) -> str:
    """A UTC time as a ``datetime-local`` input's value."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def form_of(values: Mapping[str, Any]) -> Form:
    """A form pre-filled with ``values`` (None shown as empty)."""
    return Form({key: "" if value is None else str(value) for key, value in values.items()})
