"""Integrations: the outbox of events, the webhook endpoints and their deliveries, the API keys."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cti.db.tables.base import Base, CreatedAt, IdPk, Timestamp, enum_type, fk
from cti.domain.integrations import DeliveryStatus, EventType


class OutboxEvent(Base):
    """An event for the integrations, written in the transaction of the change it tells (ids
    grow in commit order: writers take a transaction lock first, :mod:`cti.db.outbox`)."""

    __tablename__ = "outbox_events"

    id: Mapped[IdPk]
    type: Mapped[EventType] = mapped_column(enum_type(EventType, "type"))
    key: Mapped[str] = mapped_column(sa.Text)  # the ordering key: "call:pbx1:1712.4"
    occurred_at: Mapped[Timestamp]
    data: Mapped[dict[str, object]] = mapped_column(JSONB)
    created_at: Mapped[CreatedAt]
    # One event however many cti instances wrote it (cti.domain.integrations.NewEvent.dedupe).
    dedupe: Mapped[str | None] = mapped_column(sa.Text, unique=True)


class WebhookEndpoint(Base):
    """Where an admin wants events posted, which ones, and the secret they are signed with."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[IdPk]
    url: Mapped[str] = mapped_column(sa.Text)
    events: Mapped[list[str]] = mapped_column(ARRAY(sa.Text()))
    secret: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.text("true"))
    created_at: Mapped[CreatedAt]


class WebhookDelivery(Base):
    """One event to one endpoint: pending (retried at ``next_at``), delivered, or dead."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_id"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_at"),
        sa.Index("ix_webhook_deliveries_chain", "endpoint_id", "key", "id"),
    )

    id: Mapped[IdPk]
    endpoint_id: Mapped[int] = fk("webhook_endpoints.id", ondelete="CASCADE", nullable=False)
    event_id: Mapped[int] = fk("outbox_events.id", ondelete="CASCADE", nullable=False)
    key: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_type(DeliveryStatus, "status"), server_default=DeliveryStatus.PENDING.value
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, server_default=sa.text("0"))
    next_at: Mapped[Timestamp]
    last_status: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[CreatedAt]


class ApiKey(Base):
    """A service account's key: its public prefix and the SHA-256 of its secret, its scopes."""

    __tablename__ = "api_keys"

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(sa.Text)
    prefix: Mapped[str] = mapped_column(sa.Text, unique=True)
    hash: Mapped[str] = mapped_column(sa.Text)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(sa.Text()))
    created_by: Mapped[int | None] = fk("operators.id", ondelete="SET NULL")
    created_at: Mapped[CreatedAt]
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


__all__ = ["ApiKey", "OutboxEvent", "WebhookDelivery", "WebhookEndpoint"]
