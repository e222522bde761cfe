"""The outbox: events written in the transaction of their change, and their webhook deliveries.

:func:`emit` is called inside the writer's own transaction (an attention's save), or by the call
events' writer as soon as the AMI notice arrives. It first takes a transaction-level advisory
lock, so the events' ids grow in commit order: a reader who saw event ``n`` will never later see a
smaller id appear (the event stream resumes from an id with no loss). The same statement fans the
event out to every active endpoint that subscribes to its type (one delivery row each).

Deliveries are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` by whichever cti process gets
there first, and only the oldest pending delivery of an (endpoint, key) chain may be claimed: the
events of one call reach an endpoint in order, and two processes never post the same delivery at
once.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db import bus
from cti.db.engine import Database
from cti.db.models import Attention, CallMessage, OutboxEvent, WebhookDelivery, WebhookEndpoint
from cti.domain.integrations import DeliveryStatus, EventType, NewEvent, envelope
from cti.errors import NotFound
from cti.i18n import _

# pg_advisory_xact_lock key of the outbox's writers ("ctiO").
OUTBOX_LOCK = 0x6374694F
# The bus message (cti.db.bus) an outbox write sends at its commit.
OUTBOX_KIND = "outbox"
OUTBOX_WRITTEN = '{"kind":"outbox"}'
# The same, when the events made webhook deliveries: the delivery loops look too.
OUTBOX_TO_DELIVER = '{"kind":"outbox","deliveries":true}'


async def emit(s: AsyncSession, events: Sequence[NewEvent]) -> list[int]:
    """Write ``events`` in the session's transaction; their ids, in order."""
    return (await _emit(s, events))[0]


# Every event of a batch and its webhook deliveries in one statement (the writer's hot path: a
# call's events are written as they happen). The statement takes the outbox's lock before it
# draws any id: the rows it inserts come from a join with the lock's one-row subquery, which
# PostgreSQL keeps whole (it does not pull up a subquery that calls a volatile function) and
# runs before the join yields a row. Ids are drawn in the batch's order; the deliveries of one
# (endpoint, key) chain follow their events' order, which is what a chain is claimed by. The bus
# is told at the commit (PostgreSQL holds a NOTIFY until then), only if an event was written,
# and whether it made deliveries.
_EMIT = sa.text(
    """
WITH ev AS (
    INSERT INTO outbox_events (type, key, occurred_at, data, dedupe)
    SELECT x.type, x.key, x.at, x.data::jsonb, x.dedupe
    FROM (SELECT pg_advisory_xact_lock(:lock)) AS locked,
         unnest(CAST(:types AS text[]), CAST(:keys AS text[]), CAST(:ats AS timestamptz[]),
                CAST(:data AS text[]), CAST(:dedupes AS text[]))
         WITH ORDINALITY AS x(type, key, at, data, dedupe, n)
    ORDER BY x.n
    ON CONFLICT (dedupe) DO NOTHING
    RETURNING id, type, key, occurred_at
), made AS (
    INSERT INTO webhook_deliveries (endpoint_id, event_id, key, next_at)
    SELECT e.id, ev.id, ev.key, ev.occurred_at
    FROM ev JOIN webhook_endpoints e ON e.active AND e.events @> ARRAY[ev.type::text]
    ORDER BY ev.id, e.id
    RETURNING 1
), counted AS (
    SELECT COALESCE((SELECT array_agg(id ORDER BY id) FROM ev), '{}') AS ids,
           (SELECT count(*) FROM made) AS deliveries
)
SELECT c.ids, c.deliveries,
       (SELECT pg_notify(:channel, CASE WHEN c.deliveries > 0 THEN :deliver ELSE :written END)
        WHERE cardinality(c.ids) > 0) AS told
FROM counted c
"""
)


async def _emit(s: AsyncSession, events: Sequence[NewEvent]) -> tuple[list[int], int]:
    """:func:`emit`, and how many webhook deliveries the events made."""
    if not events:
        return [], 0
    row = (
        await s.execute(
            _EMIT,
            {
                "lock": OUTBOX_LOCK,
                "types": [e.type.value for e in events],
                "keys": [e.key for e in events],
                "ats": [e.at for e in events],
                "data": [json.dumps(dict(e.data)) for e in events],
                "dedupes": [e.dedupe for e in events],
                "channel": bus.CHANNEL,
                "deliver": OUTBOX_TO_DELIVER,
                "written": OUTBOX_WRITTEN,
            },
        )
    ).one()
    # Ids another cti instance wrote already (the same dedupe) are not among them.
    return list(row.ids), int(row.deliveries)


async def emit_now(db: Database, events: Sequence[NewEvent]) -> int:
    """:func:`emit` in a transaction of its own; how many webhook deliveries the events made
    (none when no active endpoint takes them: the delivery loops need not look)."""
    async with db.sessions.begin() as s:
        return (await _emit(s, events))[1]


def attention_events(a: Attention, now: datetime, *, was_done: bool) -> list[NewEvent]:
    """An attention just saved: ``attention.saved``, and ``attention.closed`` when this save
    closed (or cancelled) it."""
    data: dict[str, object] = {
        "attention": {
            "id": a.id,
            "status": str(a.status),
            "kind": str(a.kind),
            "direction": str(a.direction),
            "operator_id": a.operator_id,
            "customer_id": a.customer_id,
            "contact_id": a.contact_id,
            "campaign_id": a.campaign_id,
            "closing_reason_id": a.closing_reason_id,
            "next_call_at": a.next_call_at.isoformat() if a.next_call_at else None,
            "closed_at": a.closed_at.isoformat() if a.closed_at else None,
        }
    }
    key = f"attention:{a.id}"
    found = [NewEvent(type=EventType.ATTENTION_SAVED, key=key, at=now, data=data)]
    if a.closed_at is not None and not was_done:
        found.append(NewEvent(type=EventType.ATTENTION_CLOSED, key=key, at=now, data=data))
    return found


def message_events(m: CallMessage, now: datetime) -> list[NewEvent]:
    """An incoming-call message just registered (ids only: who it is from and for)."""
    data: dict[str, object] = {
        "message": {
            "id": m.id,
            "situation_code": m.situation_code,
            "type_code": m.type_code,
            "from_customer_id": m.from_customer_id,
            "from_contact_id": m.from_contact_id,
            "to_user_id": m.to_user_id,
            "to_group_id": m.to_group_id,
            "created_by": m.created_by,
        }
    }
    return [NewEvent(type=EventType.MESSAGE_CREATED, key=f"message:{m.id}", at=now, data=data)]


def lead_outcome_event(
    lead_id: int,
    *,
    campaign_id: int,
    attempt_id: int,
    outcome: str,
    status: str,
    next_attempt_at: datetime | None,
    at: datetime,
) -> NewEvent:
    """A campaign's dial attempt concluded: its outcome, and what became of the lead (ids
    only: the lead's number and name stay in cti)."""
    data: dict[str, object] = {
        "campaign_id": campaign_id,
        "lead": {
            "id": lead_id,
            "status": status,
            "next_attempt_at": next_attempt_at.isoformat() if next_attempt_at else None,
        },
        "attempt": {"id": attempt_id, "outcome": outcome},
    }
    return NewEvent(type=EventType.LEAD_OUTCOME, key=f"lead:{lead_id}", at=at, data=data)


# --- reading events (the stream) ----------------------------------------------------------------


async def events_after(
    db: Database, after: int, types: Sequence[EventType] = (), limit: int = 200
) -> list[dict[str, object]]:
    """The events whose id is above ``after`` (of ``types``, if given), oldest first, as
    :func:`envelope` shapes them."""
    query = (
        sa.select(OutboxEvent.id, OutboxEvent.type, OutboxEvent.occurred_at, OutboxEvent.data)
        .where(OutboxEvent.id > after)
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    if types:
        query = query.where(OutboxEvent.type.in_(list(types)))
    async with db.sessions() as s:
        rows = await s.execute(query)
        return [envelope(r.id, str(r.type), r.occurred_at, r.data) for r in rows]


async def last_event_id(db: Database) -> int:
    async with db.sessions() as s:
        return int(await s.scalar(sa.select(sa.func.coalesce(sa.func.max(OutboxEvent.id), 0))) or 0)


# --- delivering ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this process holds (its row locked until the transaction ends)."""

    id: int
    endpoint_id: int
    attempts: int
    url: str
    secret: str
    event: dict[str, object]


def _claim() -> sa.Select[int, int, int, str, str, int, EventType, datetime, dict[str, object]]:
    earlier = sa.orm.aliased(WebhookDelivery)
    head = ~sa.exists().where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id,
        earlier.key == WebhookDelivery.key,
        earlier.status == DeliveryStatus.PENDING,
        earlier.id < WebhookDelivery.id,
    )
    return (
        sa.select(
            WebhookDelivery.id,
            WebhookDelivery.endpoint_id,
            WebhookDelivery.attempts,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
            OutboxEvent.id.label("event_id"),
            OutboxEvent.type,
            OutboxEvent.occurred_at,
            OutboxEvent.data,
        )
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_at <= sa.bindparam("now"),
            WebhookEndpoint.active,
            WebhookDelivery.endpoint_id.not_in(sa.bindparam("busy", expanding=True)),
            head,
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )


# Built once: the delivery loops look on every call event written, and a statement built anew
# each time (its alias, its EXISTS) was garbage in reference cycles, freed only by a full
# collection.
_CLAIM = _claim()


async def claim(s: AsyncSession, now: datetime, busy: Collection[int] = ()) -> Claimed | None:
    """Lock the oldest due delivery that heads its chain, skipping those others hold and the
    endpoints in ``busy`` (this process is posting to them already)."""
    row = (await s.execute(_CLAIM, {"now": now, "busy": list(busy)})).first()
    if row is None:
        return None
    event = envelope(row.event_id, str(row.type), row.occurred_at, row.data)
    return Claimed(row.id, row.endpoint_id, row.attempts, row.url, row.secret, event)


async def any_due(db: Database, now: datetime) -> bool:
    """Whether some delivery is due (one index lookup)."""
    async with db.sessions() as s:
        found = await s.scalar(
            sa.select(WebhookDelivery.id)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_at <= now)
            .limit(1)
        )
        return found is not None


async def record(
    s: AsyncSession,
    delivery_id: int,
    *,
    status: DeliveryStatus,
    attempts: int,
    now: datetime,
    retry_in: float,
    http_status: int | None,
    error: str | None,
) -> None:
    """What one try of a claimed delivery gave."""
    await s.execute(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(
            status=status,
            attempts=attempts,
            next_at=now + timedelta(seconds=retry_in),
            last_status=http_status,
            last_error=error,
            delivered_at=now if status is DeliveryStatus.DELIVERED else None,
        )
    )


async def replay(db: Database, delivery_id: int, now: datetime) -> None:
    """An admin sends a delivery again (dead or delivered): pending, due now, attempts reset."""
    async with db.sessions.begin() as s:
        done = await s.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(status=DeliveryStatus.PENDING, attempts=0, next_at=now, delivered_at=None)
            .returning(WebhookDelivery.id)
        )
        if done.first() is None:
            raise NotFound(_("delivery"), delivery_id)


async def purge(db: Database, before: datetime) -> int:
    """Delete the events that happened before ``before`` and wait for no delivery (their done and
    dead deliveries go with them); how many. One process purges at a time."""
    pending = sa.exists().where(
        WebhookDelivery.event_id == OutboxEvent.id,
        WebhookDelivery.status == DeliveryStatus.PENDING,
    )
    async with db.sessions.begin() as s:
        if not await s.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(OUTBOX_LOCK + 1))):
            return 0
        done = await s.execute(
            sa.delete(OutboxEvent)
            .where(OutboxEvent.occurred_at < before, ~pending)
            .returning(OutboxEvent.id)
        )
        return len(done.all())


# --- the admin's view ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EndpointRow:
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    pending: int
    dead: int


async def endpoints(db: Database) -> list[EndpointRow]:
    counts = (
        sa.select(
            WebhookDelivery.endpoint_id,
            sa.func.count()
            .filter(WebhookDelivery.status == DeliveryStatus.PENDING)
            .label("pending"),
            sa.func.count().filter(WebhookDelivery.status == DeliveryStatus.DEAD).label("dead"),
        )
        .group_by(WebhookDelivery.endpoint_id)
        .subquery()
    )
    async with db.sessions() as s:
        rows = await s.execute(
            sa.select(
                WebhookEndpoint.id,
                WebhookEndpoint.url,
                WebhookEndpoint.events,
                WebhookEndpoint.active,
                WebhookEndpoint.created_at,
                sa.func.coalesce(counts.c.pending, 0),
                sa.func.coalesce(counts.c.dead, 0),
            )
            .outerjoin(counts, counts.c.endpoint_id == WebhookEndpoint.id)
            .order_by(WebhookEndpoint.id)
        )
        return [EndpointRow(*r) for r in rows]


async def add_endpoint(
    db: Database, url: str, events: Sequence[EventType], secret: str
) -> EndpointRow:
    async with db.sessions.begin() as s:
        row = WebhookEndpoint(url=url, events=[e.value for e in events], secret=secret)
        s.add(row)
        await s.flush()
        return EndpointRow(row.id, row.url, list(row.events), row.active, row.created_at, 0, 0)


async def change_endpoint(
    db: Database,
    endpoint_id: int,
    *,
    url: str | None,
    events: Sequence[EventType] | None,
    active: bool | None,
) -> None:
    values: dict[str, object] = {}
    if url is not None:
        values["url"] = url
    if events is not None:
        values["events"] = [e.value for e in events]
    if active is not None:
        values["active"] = active
    async with db.sessions.begin() as s:
        found = await s.get(WebhookEndpoint, endpoint_id, with_for_update=True)
        if found is None:
            raise NotFound(_("webhook endpoint"), endpoint_id)
        for name, value in values.items():
            setattr(found, name, value)


async def remove_endpoint(db: Database, endpoint_id: int) -> None:
    async with db.sessions.begin() as s:
        done = await s.execute(
            sa.delete(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .returning(WebhookEndpoint.id)
        )
        if done.first() is None:
            raise NotFound(_("webhook endpoint"), endpoint_id)


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    endpoint_id: int
    event_id: int
    type: str
    key: str
    status: str
    attempts: int
    next_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


async def deliveries(
    db: Database,
    *,
    status: DeliveryStatus | None = None,
    endpoint_id: int | None = None,
    limit: int = 200,
) -> list[DeliveryRow]:
    """The latest deliveries, newest first."""
    query = (
        sa.select(
            WebhookDelivery.id,
            WebhookDelivery.endpoint_id,
            WebhookDelivery.event_id,
            OutboxEvent.type,
            WebhookDelivery.key,
            WebhookDelivery.status,
            WebhookDelivery.attempts,
            WebhookDelivery.next_at,
            WebhookDelivery.last_status,
            WebhookDelivery.last_error,
            WebhookDelivery.delivered_at,
            WebhookDelivery.created_at,
        )
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    async with db.sessions() as s:
        return [
            DeliveryRow(
                r.id,
                r.endpoint_id,
                r.event_id,
                str(r.type),
                r.key,
                str(r.status),
                r.attempts,
                r.next_at,
                r.last_status,
                r.last_error,
                r.delivered_at,
                r.created_at,
            )
            for r in await s.execute(query)
        ]


__all__ = [
    "OUTBOX_LOCK",
    "Claimed",
    "DeliveryRow",
    "EndpointRow",
    "add_endpoint",
    "any_due",
    "attention_events",
    "change_endpoint",
    "claim",
    "deliveries",
    "emit",
    "emit_now",
    "endpoints",
    "events_after",
    "last_event_id",
    "message_events",
    "purge",
    "record",
    "remove_endpoint",
    "replay",
]
