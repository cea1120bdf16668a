"""Request and response bodies of /api/v1/webhooks."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, Field

from chargegrid.domain.services.webhooks import Delivery, DeliveryState, EventType, Webhook


class WebhookIn(BaseModel):
    url: str = Field(max_length=2000, description="Absolute http(s) URL the events are posted to.")
    event_types: list[EventType] = Field(min_length=1, description="The events it is sent.")
    description: str | None = Field(None, max_length=255)
    secret: str | None = Field(
        None,
        min_length=16,
        max_length=128,
        description="Key of the HMAC-SHA256 signatures; generated when not given.",
    )
    active: bool = True


class WebhookPatch(BaseModel):
    """The fields to change; those left out stay as they are."""

    url: str | None = Field(None, max_length=2000)
    event_types: list[EventType] | None = Field(None, min_length=1)
    description: str | None = Field(None, max_length=255, description="null clears it.")
    secret: str | None = Field(
        None, min_length=16, max_length=128, description="A new signing key."
    )
    active: bool | None = None


class WebhookOut(BaseModel):
    id: int
    url: str
    event_types: list[str]
    description: str | None
    active: bool = Field(description="Only active webhooks are sent events.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookOut:
        return cls(
            id=webhook.id,
            url=webhook.url,
            event_types=list(webhook.event_types),
            description=webhook.description,
            active=webhook.active,
            created_at=webhook.created_at,
            updated_at=webhook.updated_at,
        )


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(
        description="Key of the X-Chargegrid-Signature HMAC; shown only in this answer."
    )

    @classmethod
    def created(cls, webhook: Webhook) -> WebhookCreatedOut:
        return cls(**WebhookOut.of(webhook).model_dump(), secret=webhook.secret)


class DeliveryOut(BaseModel):
    id: int = Field(description="Sent as X-Chargegrid-Delivery.")
    webhook_id: int
    event_id: str = Field(description="The event's id (the same for every webhook).")
    event_type: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None = Field(description="When a pending delivery is due.")
    last_status_code: int | None = Field(
        description="The receiver's HTTP status in the latest attempt (null: no answer)."
    )
    last_error: str | None = Field(
        description="What went wrong in the latest failed attempt (kept after a success)."
    )
    created_at: datetime
    delivered_at: datetime | None
    updated_at: datetime
    payload: object = Field(description="The JSON body posted.")

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(
            id=delivery.id,
            webhook_id=delivery.webhook_id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            state=delivery.state,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
            updated_at=delivery.updated_at,
            payload=json.loads(delivery.payload),
        )
