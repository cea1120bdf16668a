"""Operator users: people who sign in to the operator API with an email and a password."""

from __future__ import annotations

from dataclasses import field
from datetime import datetime

from chargegrid.domain.services.access import Role
from chargegrid.values import immutable


@immutable
class User:
    """A person with a role; ``disabled`` users cannot sign in or use their tokens."""

    id: int
    email: str  # lower case
    role: Role
    name: str | None
    disabled: bool
    created_at: datetime
    updated_at: datetime
    password_hash: str = field(repr=False)

    @property
    def principal(self) -> str:
        """How the user is named where actions are recorded (e.g. ``requested_by``)."""
        return f"user:{self.email}"
