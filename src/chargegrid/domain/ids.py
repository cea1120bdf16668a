"""The one id generator."""

from __future__ import annotations

import secrets
import uuid


def new_id() -> str:
    """A new random identifier (UUID4, 36 characters: fits an OCPP message id)."""
    return str(uuid.uuid4())


def new_secret(nbytes: int = 32) -> str:
    """A new URL-safe random secret, e.g. an API token."""
    return secrets.token_urlsafe(nbytes)
