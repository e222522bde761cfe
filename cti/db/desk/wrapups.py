"""After-call work: an operator's wrap-up rule (their attention group's, read with the end of
each call), and each wrap-up recorded when it ends (an attention left undisposed by a released
agent is flagged)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.desk.calls import CallKey, end_call
from cti.db.engine import Database
from cti.db.models import Attention, AttentionGroup, Operator, Wrapup
from cti.domain.model import AttentionStatus, CallOutcome
from cti.domain.stats import LoggedWrapup
from cti.domain.wrapup import WrapupNeeds, WrapupRule


async def end_call_and_rule(
    db: Database, key: CallKey, operator_id: int, *, at: datetime, outcome: CallOutcome
) -> WrapupRule:
    """An agent's call ended: its end logged (:func:`cti.db.desk.calls.log_end`) and the
    operator's wrap-up rule read, in one transaction (the desk does both at every call's end)."""
    async with db.sessions.begin() as s:
        await s.execute(*end_call(key, at=at, outcome=outcome))
        return await _rule(s, operator_id)


async def _rule(s: AsyncSession, operator_id: int) -> WrapupRule:
    """The operator's attention group's wrap-up rule (the defaults without a group)."""
    row = (
        await s.execute(
            sa.select(AttentionGroup.wrapup_needs, AttentionGroup.max_wrapup_seconds)
            .join(Operator, Operator.group_id == AttentionGroup.id)
            .where(Operator.id == operator_id)
        )
    ).first()
    if row is None:
        return WrapupRule()
    return WrapupRule(needs=WrapupNeeds(row[0]), max_seconds=row[1])


_WRAPUPS = cast(sa.Table, Wrapup.__table__)
_ATTENTIONS = cast(sa.Table, Attention.__table__)
_WRAPUP_COLUMNS = (
    "operator_id",
    "pbx",
    "interface",
    "attention_id",
    "started_at",
    "ended_at",
    "seconds",
    "released",
)


@functools.cache
def _record(flag: bool) -> sa.Insert | sa.Update:
    """The wrap-up's insert; with ``flag``, in the statement that flags its attention if still
    pending (returning the attention's new ``updated_at`` if it did). Built once, as Core
    statements: a wrap-up ends after every call, and the ORM's unit of work cost more than the
    write (the screen-pop bench's profile). Values come as the execution's parameters (in the
    flagging statement, named ``w_<column>``: a column's own name is the insert's)."""
    if not flag:
        return sa.insert(_WRAPUPS)
    insert = sa.insert(_WRAPUPS).values(
        {name: sa.bindparam(f"w_{name}") for name in _WRAPUP_COLUMNS}
    )
    return (
        sa.update(_ATTENTIONS)
        .where(
            _ATTENTIONS.c.id == sa.bindparam("w_attention_id"),
            _ATTENTIONS.c.status == AttentionStatus.PENDING,
        )
        .values(wrapup_overrun=True)
        .returning(_ATTENTIONS.c.updated_at)
        .add_cte(insert.cte("wrapup"))
    )


async def record_wrapup(
    db: Database,
    *,
    operator_id: int,
    pbx: str,
    interface: str,
    attention_id: int | None,
    started_at: datetime,
    ended_at: datetime,
    seconds: int,
    released: bool,
) -> datetime | None:
    """Write one wrap-up; ``released`` (the maximum time ran out) flags its attention if it is
    still pending. When this flagged it: the attention's time of change."""
    params = {
        "operator_id": operator_id,
        "pbx": pbx,
        "interface": interface,
        "attention_id": attention_id,
        "started_at": started_at,
        "ended_at": ended_at,
        "seconds": seconds,
        "released": released,
    }
    flag = released and attention_id is not None
    async with db.sessions.begin() as s:
        if flag:
            params = {f"w_{name}": value for name, value in params.items()}
        result = await s.execute(_record(flag), params)
        return result.scalar_one_or_none() if flag else None


async def wrapups_between(db: Database, start: datetime, end: datetime) -> list[LoggedWrapup]:
    """The wrap-ups that ended in [start, end), for the wallboard's figures of the day."""
    stmt = (
        sa.select(Wrapup.pbx, Wrapup.interface, Wrapup.ended_at, Wrapup.seconds)
        .where(Wrapup.ended_at >= start, Wrapup.ended_at < end)
        .order_by(Wrapup.id)
    )
    async with db.sessions() as s:
        rows = (await s.execute(stmt)).all()
    return [
        LoggedWrapup(pbx=pbx, interface=interface, ended_at=ended, seconds=seconds)
        for pbx, interface, ended, seconds in rows
    ]
