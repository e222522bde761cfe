"""The pauses of agents at a desk (``agent_pauses``), for the supervisors' pauses report.

The desk service notes every change of an agent's pause (:func:`note_pause`): paused for a reason,
the reason changed, or no longer paused (ready, on a call, in wrap-up, signed out). The note is
idempotent: the pause open with the same reason goes on, so a desk restored after a restart of cti
or taken over by another instance keeps the pause's first start.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cti.db.engine import Database
from cti.domain.stats import PAUSE_RECENT_SECONDS, DeskPauses
from cti.domain.wrapup import PausedToday


async def note_pause(db: Database, operator_id: int, reason: str | None, at: datetime) -> None:
    """The operator is paused for ``reason`` since ``at``, or (``None``) no longer paused at ``at``:
    the open pause of another reason ends at ``at``, and a new one opens if none is open with
    ``reason``."""
    async with db.direct.transaction() as conn:
        open_reason = await conn.fetchval(_OPEN, operator_id)
        if open_reason is not None and open_reason == reason:
            return
        if open_reason is not None:
            await conn.execute(_CLOSE, operator_id, at)
        if reason is not None:
            await conn.execute(_BEGIN, operator_id, reason, at)


_OPEN = """
SELECT reason FROM agent_pauses WHERE operator_id = $1 AND ended_at IS NULL FOR UPDATE
"""
_CLOSE = """
UPDATE agent_pauses SET ended_at = GREATEST(started_at, $2)
WHERE operator_id = $1 AND ended_at IS NULL
"""
_BEGIN = """
INSERT INTO agent_pauses (operator_id, reason, started_at) VALUES ($1, $2, $3)
ON CONFLICT (operator_id) WHERE ended_at IS NULL DO NOTHING
"""


async def paused_today(
    db: Database, operator_id: int, start: datetime, end: datetime
) -> PausedToday:
    """The operator's time paused in the day [start, end), as the pauses report counts it: the
    pauses that ended in it (their part after ``start``) and the one going on."""
    row = await db.direct.fetchrow(_TODAY, operator_id, start, end)
    assert row is not None  # an aggregate always gives its row
    since: datetime | None = row["since"]
    # One begun before the day counts from its start.
    since = None if since is None else max(since, start)
    return PausedToday(seconds=int(row["seconds"]), since=since, day_ends=end)


_TODAY = """
SELECT coalesce(sum(greatest(round(extract(epoch FROM ended_at - greatest(started_at, $2))), 0))
                FILTER (WHERE ended_at IS NOT NULL), 0) AS seconds,
       max(started_at) FILTER (WHERE ended_at IS NULL) AS since
FROM agent_pauses
WHERE operator_id = $1 AND (ended_at > $2 OR ended_at IS NULL) AND started_at < $3
"""


async def desk_pauses(db: Database, start: datetime, now: datetime) -> list[DeskPauses]:
    """Per operator, the pauses that ended in (start, now]: their whole seconds after ``start`` as
    the pauses report counts them, and when each of those that ended in the last
    ``PAUSE_RECENT_SECONDS`` ended (the wallboard's time paused today). One row per operator."""
    recent = now - timedelta(seconds=PAUSE_RECENT_SECONDS)
    async with db.direct.connection() as conn:
        rows = await conn.fetch(_ENDED, start, now, recent)
    return [
        DeskPauses(
            operator_id=r["operator_id"], seconds=int(r["seconds"]), recent=tuple(r["recent"])
        )
        for r in rows
    ]


_ENDED = """
SELECT operator_id,
       sum(greatest(round(extract(epoch FROM ended_at - greatest(started_at, $1))), 0)) AS seconds,
       coalesce(array_agg(ended_at ORDER BY ended_at) FILTER (WHERE ended_at >= $3), '{}') AS recent
FROM agent_pauses
WHERE ended_at > $1 AND ended_at <= $2
GROUP BY operator_id
"""
