"""After-call work: an operator's wrap-up rule (their attention group's), and each wrap-up
recorded when it ends (an attention left undisposed by a released agent is flagged)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from cti.db.engine import Database
from cti.db.models import Attention, AttentionGroup, Operator, Wrapup
from cti.domain.model import AttentionStatus
from cti.domain.stats import LoggedWrapup
from cti.domain.wrapup import WrapupNeeds, WrapupRule


async def wrapup_rule(db: Database, operator_id: int) -> WrapupRule:
    """The operator's attention group's wrap-up rule (the defaults without a group)."""
    async with db.sessions() as s:
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
) -> None:
    """Write one wrap-up; ``released`` (the maximum time ran out) flags its attention if it is
    still pending."""
    async with db.sessions.begin() as s:
        s.add(
            Wrapup(
                operator_id=operator_id,
                pbx=pbx,
                interface=interface,
                attention_id=attention_id,
                started_at=started_at,
                ended_at=ended_at,
                seconds=seconds,
                released=released,
            )
        )
        if released and attention_id is not None:
            await s.execute(
                sa.update(Attention)
                .where(Attention.id == attention_id, Attention.status == AttentionStatus.PENDING)
                .values(wrapup_overrun=True)
            )


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
