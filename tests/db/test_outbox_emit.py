"""Writing events to the outbox says whether they made webhook deliveries: the delivery loops are
woken for them, and not for every call event when no endpoint takes them."""

from __future__ import annotations

import asyncio
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


async def test_a_batch_keeps_its_order_and_skips_what_another_instance_wrote(
    db: Database,
) -> None:
    """The ids of a batch grow in its order, an event another instance wrote already (the same
    dedupe) is not written twice, and each endpoint's deliveries follow the events' order."""
    async with db.sessions.begin() as s:
        s.add(
            WebhookEndpoint(url="https://crm.example/a", events=["call.ringing"], secret="s" * 32)
        )
    first = NewEvent(
        type=EventType.CALL_RINGING,
        key="call:pbx1:7",
        at=datetime(2026, 12, 6, 9, 0, tzinfo=UTC),
        data={"call": {"id": 7, "caller": "Conceição"}},
        dedupe="pbx1:7:ringing",
    )
    async with db.sessions.begin() as s:
        [written] = await outbox.emit(s, [first])
    batch = [_ring(8), first, _ring(9), _ring(10)]
    async with db.sessions.begin() as s:
        ids = await outbox.emit(s, batch)
    assert len(ids) == 3 and ids == sorted(ids) and ids[0] > written
    events = await outbox.events_after(db, 0)
    assert [e["data"] for e in events] == [
        {"call": {"id": 7, "caller": "Conceição"}},
        {"call": {"id": 8}},
        {"call": {"id": 9}},
        {"call": {"id": 10}},
    ]
    async with db.sessions() as s:
        chain = (
            await s.execute(sa.select(WebhookDelivery.event_id).order_by(WebhookDelivery.id))
        ).scalars()
        assert list(chain) == [written, *ids]


async def test_an_event_written_while_another_writer_is_open_waits_for_its_commit(
    db: Database,
) -> None:
    """Ids grow in commit order: while one writer's transaction holds an event, another's write
    waits; a reader of the stream meanwhile sees neither, never the later id first."""
    async with db.sessions.begin() as s:
        [held] = await outbox.emit(s, [_ring(1)])
        later = asyncio.create_task(outbox.emit_now(db, [_ring(2)]))
        done, _ = await asyncio.wait({later}, timeout=0.5)
        assert not done, "the second write did not wait for the first one's commit"
        assert await outbox.events_after(db, 0) == []
    await asyncio.wait_for(later, 5)
    events = await outbox.events_after(db, 0)
    assert [e["data"] for e in events] == [{"call": {"id": 1}}, {"call": {"id": 2}}]
    assert events[0]["id"] == held < events[1]["id"]
