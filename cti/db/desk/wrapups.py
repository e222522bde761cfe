"""After-call work: an operator's wrap-up rule (their attention group's, read with the end of
each call), and each wrap-up recorded when it ends (an attention left undisposed by a released
agent is flagged); the group's rule for missed calls (read with each miss)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from cti.db.desk.calls import END_SQL, CallKey, end_args
from cti.db.engine import Database
from cti.db.models import Wrapup
from cti.domain.model import AttentionStatus, CallOutcome
from cti.domain.no_answer import DEFAULT_PAUSE_AFTER_MISSED
from cti.domain.stats import LoggedWrapup
from cti.domain.wrapup import WrapupNeeds, WrapupRule


async def end_call_and_rule(
    db: Database, key: CallKey, operator_id: int, *, at: datetime, outcome: CallOutcome
) -> WrapupRule:
    """An agent's call ended: its end logged (:func:`cti.db.desk.calls.log_end`) and the
    operator's wrap-up rule read, in one transaction (the desk does both at every call's end)."""
    row = await db.direct.fetchrow(
        _END_AND_RULE, *end_args(key, at=at, outcome=outcome), operator_id
    )
    if row is None:
        return WrapupRule()
    return WrapupRule(needs=WrapupNeeds(row[0]), max_seconds=row[1])


async def pause_after_missed(db: Database, operator_id: int) -> int | None:
    """After how many missed queue calls in a row the operator's group pauses them (None: never;
    an operator without a group: the default)."""
    row = await db.direct.fetchrow(_PAUSE_AFTER_MISSED, operator_id)
    return DEFAULT_PAUSE_AFTER_MISSED if row is None else row[0]


_PAUSE_AFTER_MISSED = """
SELECT g.pause_after_missed
FROM operators o JOIN attention_groups g ON g.id = o.group_id
WHERE o.id = $1
"""

# One statement (plain SQL, :mod:`cti.db.direct`): the end, and the operator's attention group's
# wrap-up rule (no row without a group: the defaults).
_END_AND_RULE = (
    END_SQL
    + """
SELECT g.wrapup_needs, g.max_wrapup_seconds
FROM operators o JOIN attention_groups g ON g.id = o.group_id
WHERE o.id = $7
"""
)


# A wrap-up, as plain SQL (:mod:`cti.db.direct`); a released one flags its attention if still
# pending, in the same statement, returning the attention's new ``updated_at`` if it did.
_WRAPUP_VALUES = """
    INSERT INTO wrapups (operator_id, pbx, interface, attention_id, started_at, ended_at, seconds,
                         released)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
_FLAGGING = (
    "WITH wrapup AS ("
    + _WRAPUP_VALUES
    + """)
UPDATE attentions SET wrapup_overrun = TRUE
WHERE id = $4 AND status = $9
RETURNING updated_at
"""
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
    values = (operator_id, pbx, interface, attention_id, started_at, ended_at, seconds, released)
    if released and attention_id is not None:
        flagged: datetime | None = await db.direct.fetchval(
            _FLAGGING, *values, AttentionStatus.PENDING.value
        )
        return flagged
    await db.direct.execute(_WRAPUP_VALUES, *values)
    return None


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
