"""The desk's call log writes: upserts on ``(pbx, uniqueid)`` that each set only their own columns
(ring, answer, end), so they may run in any order and any number of times."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from cti.db.backoffice.personal import write_reads
from cti.db.engine import Database
from cti.db.models import Call
from cti.domain.model import CallOutcome, Direction


@dataclass(frozen=True, slots=True)
class CallKey:
    """One caller's channel on one PBX (the call log's natural key)."""

    pbx: str
    uniqueid: str


_CALLS = cast(sa.Table, Call.__table__)


@functools.cache
def _upsert(update: tuple[str, ...]) -> sa.Insert:
    """The upsert that sets ``update`` on conflict, built once: a call's writes run on every
    ring, answer and end, and building ``excluded`` each time cost more than the query (the
    screen-pop bench's profile). Its values come as the execution's parameters."""
    stmt = pg_insert(_CALLS)
    return stmt.on_conflict_do_update(
        index_elements=[_CALLS.c.pbx, _CALLS.c.uniqueid],
        set_={name: stmt.excluded[name] for name in update},
    )


def upsert_call(
    key: CallKey, values: dict[str, Any], update: tuple[str, ...]
) -> tuple[sa.Insert, dict[str, Any]]:
    """The statement and parameters that write ``values`` for ``key``, setting ``update`` on an
    existing row: ``await session.execute(*upsert_call(...))``."""
    return _upsert(update), {"pbx": key.pbx, "uniqueid": key.uniqueid, **values}


@functools.cache
def _ring_upsert() -> sa.Insert:
    """The first ring is kept; the agent is the latest rung, unless one already answered."""
    stmt = pg_insert(_CALLS)
    c = _CALLS.c
    return stmt.on_conflict_do_update(
        index_elements=[c.pbx, c.uniqueid],
        set_={
            "ring_at": sa.func.coalesce(c.ring_at, stmt.excluded.ring_at),
            # An agent who already answered keeps the call.
            "agent_interface": sa.case(
                (c.answered_at.is_(None), stmt.excluded.agent_interface),
                else_=c.agent_interface,
            ),
            "operator_id": sa.case(
                (c.answered_at.is_(None), stmt.excluded.operator_id), else_=c.operator_id
            ),
        },
    )


async def log_ring(
    db: Database,
    key: CallKey,
    *,
    linkedid: str,
    queue: str,
    interface: str,
    operator_id: int,
    caller_num: str,
    caller_name: str,
    phone: str | None,
    at: datetime,
    reads: Sequence[dict[str, Any]] = (),
) -> None:
    """A queue call rang a desk agent (the first ring is kept; the agent is the latest rung).

    ``reads``: the audit lines of the pop shown for the ring (:func:`present`'s rows), written in
    the same transaction; if that fails, on their own (an audit line is never lost with a ring)."""
    params = {
        "pbx": key.pbx,
        "uniqueid": key.uniqueid,
        "linkedid": linkedid,
        "queue": queue,
        "agent_interface": interface,
        "operator_id": operator_id,
        "caller_id_num": caller_num or None,
        "caller_id_name": caller_name or None,
        "phone": phone,
        "direction": Direction.INBOUND,
        "ring_at": at,
    }
    try:
        async with db.sessions.begin() as s:
            await s.execute(_ring_upsert(), params)
            await write_reads(s, reads)
    except Exception:
        await write_reads(db, reads)
        raise


async def log_end(
    db: Database, key: CallKey, *, at: datetime, outcome: CallOutcome, cause: int | None = None
) -> None:
    """The call ended (answered and hung up, or abandoned by the caller)."""
    async with db.sessions.begin() as s:
        await s.execute(*end_call(key, at=at, outcome=outcome, cause=cause))


def end_call(
    key: CallKey, *, at: datetime, outcome: CallOutcome, cause: int | None = None
) -> tuple[sa.Insert, dict[str, Any]]:
    """The statement and parameters of :func:`log_end`, to run in a transaction of the caller's."""
    values: dict[str, Any] = {
        "direction": Direction.INBOUND,
        "ended_at": at,
        "outcome": outcome,
        "hangup_cause": cause,
    }
    return upsert_call(key, values, ("ended_at", "outcome", "hangup_cause"))


@dataclass(frozen=True, slots=True)
class CallInProgress:
    """An answered call the log has not seen end, as the desk rebuilds it after a restart."""

    key: CallKey
    linkedid: str
    queue: str
    caller_num: str
    caller_name: str
    phone: str | None
    answered_at: datetime
    attention_id: int | None


async def call_in_progress(
    db: Database, pbx: str, interface: str, linkedid: str
) -> CallInProgress | None:
    """The logged call ``linkedid`` an agent at ``interface`` answered and is still on."""
    stmt = (
        sa.select(Call)
        .where(
            Call.pbx == pbx,
            Call.linkedid == linkedid,
            Call.agent_interface == interface,
            Call.answered_at.is_not(None),
            Call.ended_at.is_(None),
        )
        .order_by(Call.answered_at.desc())
        .limit(1)
    )
    async with db.sessions() as s:
        row = (await s.execute(stmt)).scalar_one_or_none()
    if row is None or row.answered_at is None:
        return None
    return CallInProgress(
        key=CallKey(row.pbx, row.uniqueid),
        linkedid=linkedid,
        queue=row.queue or "",
        caller_num=row.caller_id_num or "",
        caller_name=row.caller_id_name or "",
        phone=row.phone,
        answered_at=row.answered_at,
        attention_id=row.attention_id,
    )


__all__ = [
    "CallInProgress",
    "CallKey",
    "call_in_progress",
    "end_call",
    "log_end",
    "log_ring",
    "upsert_call",
]
