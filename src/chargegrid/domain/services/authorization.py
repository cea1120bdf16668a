"""Authorization: may this id token charge now?"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import Authorization, AuthorizationStatus, IdTokenStatus
from chargegrid.storage.repositories import id_tokens


async def authorize(
    conn: AsyncConnection,
    id_token: str,
    now: datetime,
    *,
    token_type: str | None = None,
    transaction_pk: int | None = None,
    allow_concurrent: bool = False,
) -> Authorization:
    """Decide from the stored token: unknown is Unknown, a past expiry is Expired.

    A token is known by its id and, when both the charger and the stored token say
    which kind of token it is (``token_type``), by that too. An accepted token already
    in another active transaction is ``ConcurrentTx`` unless ``allow_concurrent``;
    ``transaction_pk`` is the transaction being asked about, which never counts against
    itself.
    """
    token, in_use = await id_tokens.get_with_use(conn, id_token, exclude=transaction_pk)
    if token is None or (
        token_type is not None and token.type is not None and token.type != token_type
    ):
        return Authorization(AuthorizationStatus.UNKNOWN)
    expired = token.expires_at is not None and token.expires_at <= now
    if token.status is IdTokenStatus.ACCEPTED and expired:
        status = AuthorizationStatus.EXPIRED
    else:
        status = AuthorizationStatus(token.status.value)
    if status is AuthorizationStatus.ACCEPTED and in_use and not allow_concurrent:
        status = AuthorizationStatus.CONCURRENT_TX
    return Authorization(status, token.expires_at, token.group_id)
