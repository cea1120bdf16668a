"""Value types: dataclasses that are never changed once built.

``@immutable`` declares one. The type checker holds it frozen (assigning to a field is an
error under ``mypy --strict``, as for ``dataclass(frozen=True)``); at run time it is a
plain dataclass with slots, equality and a hash. A ``dataclass(frozen=True)`` sets each
field in ``__init__`` through ``object.__setattr__``: on the machine the benchmarks run
on, building one of 25 fields took 4.3 µs that way and 0.47 µs this way, and a charger
message builds a few dozen such values (its readings, its transaction, the facts of
its events). Change one with ``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True)
def immutable(cls: type[T]) -> type[T]:
    """A value type (see the module docstring)."""
    return dataclass(slots=True, unsafe_hash=True)(cls)
