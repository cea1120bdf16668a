"""Errors for invalid OCPI tariffs and session timelines, each naming the offending field."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

__all__ = ["OcpiDataError", "TariffError", "TimelineError", "decode"]

T = TypeVar("T")

_AT = re.compile(r"^(?P<reason>.*) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")


class OcpiDataError(ValueError):
    """Invalid OCPI data: `path` names the field (``elements[0].price_components[1].vat``)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason


class TariffError(OcpiDataError):
    """An invalid Tariff, or a Tariff that cannot price the session it is given."""


class TimelineError(OcpiDataError):
    """An invalid session timeline (CDR or Session dates and charging periods)."""


def join(prefix: str, path: str) -> str:
    """``elements[0]`` + ``restrictions.max_kwh``; indexes attach without a dot."""
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def decode(data: bytes | str | Any, type_: type[T], error: type[OcpiDataError]) -> T:
    """JSON text (or already decoded builtins) as `type_`, failing with `error` and a path."""
    try:
        if isinstance(data, bytes | str):
            return msgspec.json.decode(data, type=type_)
        return msgspec.convert(data, type_)
    except msgspec.ValidationError as failure:
        raise _translated(failure, error) from None
    except msgspec.DecodeError as failure:
        raise error("", f"not valid JSON: {failure}") from None


def _translated(failure: msgspec.ValidationError, error: type[OcpiDataError]) -> OcpiDataError:
    message = str(failure)
    match = _AT.match(message)
    reason, where = (match["reason"], match["path"]) if match else (message, "")
    where = where.removeprefix(".")
    cause = failure.__cause__
    if isinstance(cause, OcpiDataError):  # raised by a __post_init__ check
        return error(join(where, cause.path), cause.reason)
    missing = _MISSING.match(reason)
    if missing:
        return error(join(where, missing["field"]), "is required")
    return error(where, reason)
