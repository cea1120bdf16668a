"""/api/v1/webhooks"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from chargegrid.api.deps import PagingDep, PlatformDep, ReadConn, WriteConn, require
from chargegrid.api.schemas import PageOut, page_out
from chargegrid.api.schemas_webhooks import (
    DeliveryOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)
from chargegrid.domain.services import webhooks
from chargegrid.domain.services.access import Role
from chargegrid.domain.services.webhooks import DeliveryState
from chargegrid.storage.repositories import webhooks as repo

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post("", status_code=201, dependencies=[require(Role.OPERATOR)])
async def create_webhook(
    body: WebhookIn, conn: WriteConn, platform: PlatformDep
) -> WebhookCreatedOut:
    """Register a webhook. The answer holds its signing secret: the only time it is shown."""
    webhook = await webhooks.create(
        conn,
        url=body.url,
        event_types=[e.value for e in body.event_types],
        now=platform.clock.now(),
        secret=body.secret,
        description=body.description,
        active=body.active,
    )
    return WebhookCreatedOut.created(webhook)


@router.get("", dependencies=[require(Role.VIEWER)])
async def list_webhooks(conn: ReadConn, paging: PagingDep) -> PageOut[WebhookOut]:
    page = await repo.list_page(conn, limit=paging.limit, offset=paging.offset)
    return page_out(page, WebhookOut.of)


@router.get("/{webhook_id}", dependencies=[require(Role.VIEWER)])
async def get_webhook(webhook_id: int, conn: ReadConn) -> WebhookOut:
    return WebhookOut.of(await webhooks.get(conn, webhook_id))


@router.patch("/{webhook_id}", dependencies=[require(Role.OPERATOR)])
async def update_webhook(
    webhook_id: int, body: WebhookPatch, conn: WriteConn, platform: PlatformDep
) -> WebhookOut:
    webhook = await webhooks.update(
        conn,
        webhook_id,
        now=platform.clock.now(),
        url=body.url,
        event_types=None if body.event_types is None else [e.value for e in body.event_types],
        description=body.description if "description" in body.model_fields_set else ...,
        active=body.active,
        secret=body.secret,
    )
    return WebhookOut.of(webhook)


@router.delete("/{webhook_id}", status_code=204, dependencies=[require(Role.OPERATOR)])
async def delete_webhook(webhook_id: int, conn: WriteConn) -> None:
    """Delete a webhook and its delivery history; undelivered events are dropped."""
    await webhooks.delete(conn, webhook_id)


@router.get("/{webhook_id}/deliveries", dependencies=[require(Role.VIEWER)])
async def list_deliveries(
    webhook_id: int,
    conn: ReadConn,
    paging: PagingDep,
    state: Annotated[
        DeliveryState | None, Query(description="pending, delivered or failed.")
    ] = None,
) -> PageOut[DeliveryOut]:
    """The webhook's delivery history, newest first."""
    page = await webhooks.deliveries(
        conn, webhook_id, limit=paging.limit, offset=paging.offset, state=state
    )
    return page_out(page, DeliveryOut.of)


@router.post("/{webhook_id}/deliveries/{delivery_id}/retry", dependencies=[require(Role.OPERATOR)])
async def retry_delivery(
    webhook_id: int, delivery_id: int, conn: WriteConn, platform: PlatformDep
) -> DeliveryOut:
    """Send a delivered or failed delivery again, at once (409 while it is pending)."""
    delivery = await webhooks.retry(conn, webhook_id, delivery_id, platform.clock.now())
    return DeliveryOut.of(delivery)
