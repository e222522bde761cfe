"""Writing events to the outbox says whether they made webhook deliveries: the delivery loops are
woken for them, and not for every call event when no endpoint takes them."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from cti.db import outbox
from cti.db.engine import Database
from cti.db.models import WebhookDelivery, WebhookEndpoint
from cti.domain.integrations import EventType, NewEvent


def _ring(n: int) -> NewEvent:
    return NewEvent(
        type=EventType.CALL_RINGING,
        key=f"call:pbx1:{n}",
        at=datetime(2026, 12, 6, 9, 0, tzinfo=UTC),
        data={"call": {"id": n}},
    )


async def test_events_no_endpoint_takes_make_no_delivery_and_those_one_takes_do(
    db: Database,
) -> None:
    assert await outbox.emit_now(db, [_ring(1), _ring(2)]) == 0
    async with db.sessions.begin() as s:
        s.add(
            WebhookEndpoint(url="https://crm.example/a", events=["call.ringing"], secret="s" * 32)
        )
        s.add(WebhookEndpoint(url="https://crm.example/b", events=["call.ended"], secret="s" * 32))
    assert await outbox.emit_now(db, [_ring(3), _ring(4)]) == 2
    async with db.sessions() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 2
