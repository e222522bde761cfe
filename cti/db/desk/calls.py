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

from cti.db.backoffice.personal import audit_args, audit_lines_sql, write_reads
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


# The first ring is kept; the agent is the latest rung, unless one already answered. Then the
# pop's audit lines (parameters 12-15), in the same statement.
_RING = """
WITH ring AS (
    INSERT INTO calls AS c (pbx, uniqueid, linkedid, queue, agent_interface, operator_id,
                           caller_id_num, caller_id_name, phone, direction, ring_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    ON CONFLICT (pbx, uniqueid) DO UPDATE SET
        ring_at = COALESCE(c.ring_at, excluded.ring_at),
        agent_interface = CASE WHEN c.answered_at IS NULL
                               THEN excluded.agent_interface ELSE c.agent_interface END,
        operator_id = CASE WHEN c.answered_at IS NULL
                           THEN excluded.operator_id ELSE c.operator_id END
)
""" + audit_lines_sql(12)


def agent_leg_args(
    key: CallKey,
    *,
    linkedid: str,
    queue: str,
    interface: str,
    operator_id: int,
    caller_num: str,
    caller_name: str,
    phone: str | None,
) -> tuple[Any, ...]:
    """A call's row as an agent's phone rings or answers, as plain SQL's first nine parameters:
    pbx, uniqueid, linkedid, queue, agent_interface, operator_id, caller_id_num, caller_id_name
    and phone (a caller id that is empty is stored as NULL)."""
    return (
        key.pbx,
        key.uniqueid,
        linkedid,
        queue,
        interface,
        operator_id,
        caller_num or None,
        caller_name or None,
        phone,
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
    party = agent_leg_args(
        key,
        linkedid=linkedid,
        queue=queue,
        interface=interface,
        operator_id=operator_id,
        caller_num=caller_num,
        caller_name=caller_name,
        phone=phone,
    )
    try:
        await db.direct.execute(_RING, *party, Direction.INBOUND.value, at, *audit_args(reads))
    except Exception:
        await write_reads(db, reads)
        raise


# A call's end (parameters 1-6), as plain SQL: the rest of a statement may follow it.
END_SQL = """
WITH ended AS (
    INSERT INTO calls AS c (pbx, uniqueid, direction, ended_at, outcome, hangup_cause)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (pbx, uniqueid) DO UPDATE SET
        ended_at = excluded.ended_at, outcome = excluded.outcome,
        hangup_cause = excluded.hangup_cause
)
"""


def end_args(
    key: CallKey, *, at: datetime, outcome: CallOutcome, cause: int | None = None
) -> tuple[Any, ...]:
    """The parameters of :data:`END_SQL`."""
    return (key.pbx, key.uniqueid, Direction.INBOUND.value, at, outcome.value, cause)


async def log_end(
    db: Database, key: CallKey, *, at: datetime, outcome: CallOutcome, cause: int | None = None
) -> None:
    """The call ended (answered and hung up, or abandoned by the caller)."""
    await db.direct.execute(
        END_SQL + "SELECT 1", *end_args(key, at=at, outcome=outcome, cause=cause)
    )


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
    "END_SQL",
    "CallInProgress",
    "CallKey",
    "agent_leg_args",
    "call_in_progress",
    "end_args",
    "log_end",
    "log_ring",
    "upsert_call",
]
