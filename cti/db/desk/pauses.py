"""The pauses of agents at a desk (``agent_pauses``), for the supervisors' pauses report.

The desk service notes every change of an agent's pause (:func:`note_pause`): paused for a reason,
the reason changed, or no longer paused (ready, on a call, in wrap-up, signed out). The note is
idempotent: the pause open with the same reason goes on, so a desk restored after a restart of cti
or taken over by another instance keeps the pause's first start.
"""

from __future__ import annotations

from datetime import datetime

from cti.db.engine import Database


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
