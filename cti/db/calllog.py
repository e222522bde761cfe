"""The call log writer: every queue call in ``calls``, whoever answered it, or nobody; a dialer
call's row carries its campaign and its attempt the call and the operator (by Linkedid).

It listens to the AMI notices (a sync listener: it only records what changed) and writes in
batches, one transaction every ``interval`` seconds: a caller who joined a queue (``ring_at``), an
agent who took the call (``answered_at``), the end (``ended_at`` and ``outcome``: answered,
abandoned by a caller who hung up waiting, or lost: the PBX no longer had the call when cti
resynchronised, as after a crash). Rows are keyed by the caller channel's Uniqueid, the
same key the agent desk uses when it links a call to its attention; what is already stored wins,
so the desk's own writes (the operator, the attention) and these never undo each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from cti.db.engine import Database
from cti.db.models import Attempt, Call
from cti.domain.model import CallOutcome, Direction
from cti.domain.notices import (
    AgentCallEnded,
    AgentConnected,
    AnyNotice,
    CallEnded,
    CallerAbandoned,
    CallerJoined,
)
from cti.domain.stats import LoggedCall

log = logging.getLogger(__name__)

_COLUMNS = (
    "linkedid",
    "queue",
    "agent_interface",
    "caller_id_num",
    "caller_id_name",
    "phone",
    "direction",
    "ring_at",
    "answered_at",
    "ended_at",
    "outcome",
)


_CALLS = cast(sa.Table, Call.__table__)


@functools.cache
def _batch_upsert() -> sa.Insert:
    """The call log's write of a batch: one statement, its rows as parameters (executemany),
    built once. Rows inlined with ``.values(rows)`` made a new statement for every batch size,
    compiled on the event loop each time (tens of ms at 50 calls/s), and each statement built
    anew left its ``excluded`` columns as cyclic garbage. A Core statement (on the table, not
    the mapped class): the ORM's bulk insert split a batch by the columns each row had, one
    statement each, and cost more than the write (the screen-pop bench's profile); a column a
    row lacks is NULL, and what is stored wins over it."""
    stmt = pg_insert(_CALLS)
    c = _CALLS.c
    return stmt.on_conflict_do_update(
        index_elements=[c.pbx, c.uniqueid],
        # What is stored wins (the desk's operator and answer, the first ring).
        set_={
            name: sa.func.coalesce(c[name], stmt.excluded[name])
            for name in _COLUMNS
            if name != "direction"
        },
    )


# The end of every call of a batch, in one statement: whatever row of the call is still open
# ends lost (``lost``), answered, or abandoned.
_END_CALLS = sa.text(
    """
UPDATE calls
SET ended_at = e.at,
    outcome = CASE WHEN e.lost THEN :lost
                   WHEN calls.outcome IS NOT NULL THEN calls.outcome
                   WHEN calls.answered_at IS NOT NULL THEN :answered
                   ELSE :abandoned END
FROM unnest(CAST(:pbxs AS text[]), CAST(:linkedids AS text[]), CAST(:ats AS timestamptz[]),
            CAST(:losts AS boolean[])) AS e(pbx, linkedid, at, lost)
WHERE calls.pbx = e.pbx AND calls.linkedid = e.linkedid AND calls.ended_at IS NULL
"""
)


async def link_dialer_calls(db: Database, linkedids: Sequence[str]) -> None:
    """Tie the dialer's attempts and the call log's rows of the same calls (by Linkedid): a row
    gets its campaign and is outbound, an attempt its call and the operator who took it.

    Both sides write at their own pace (the log in batches, the dialer when an attempt is
    decided), so each calls this after its own write commits; what is already linked is kept.
    Its own short transaction, rows always locked calls first, then attempts: it never holds a
    lock another writer of those rows waits for while it waits for one of theirs.
    """
    if not linkedids:
        return
    async with db.sessions.begin() as session:
        await _link(session, list(linkedids))


async def _link(session: AsyncSession, ids: list[str]) -> None:
    await session.execute(
        sa.update(Call)
        .where(
            Call.linkedid == Attempt.linkedid,
            Call.linkedid.in_(ids),
            sa.or_(Call.campaign_id.is_(None), Call.direction != Direction.OUTBOUND),
        )
        .values(
            campaign_id=sa.func.coalesce(Call.campaign_id, Attempt.campaign_id),
            direction=Direction.OUTBOUND,
        )
    )
    # The call an attempt led to: the row an agent answered, else the first row of the call.
    await session.execute(_LINK_ATTEMPTS, {"ids": ids})


_LINK_ATTEMPTS = sa.text(
    """
    WITH best AS (
        SELECT DISTINCT ON (a.id)
               a.id AS attempt_id, c.id AS call_id, COALESCE(c.operator_id, o.id) AS operator_id
          FROM attempts a
          JOIN calls c ON c.linkedid = a.linkedid
          LEFT JOIN operators o ON o.interface = c.agent_interface
         WHERE a.linkedid = ANY(:ids) AND (a.call_id IS NULL OR a.operator_id IS NULL)
         ORDER BY a.id, c.answered_at IS NULL, c.id
    )
    UPDATE attempts
       SET call_id = COALESCE(attempts.call_id, best.call_id),
           operator_id = COALESCE(attempts.operator_id, best.operator_id)
      FROM best
     WHERE attempts.id = best.attempt_id
    """
)


class CallLog:
    """Writes the call log from the notices, in batches.

    Args:
        db: where ``calls`` lives.
        phone_of: the normalised number of a caller id (None when it is not a number).
        is_outbound: whether a call (pbx, linkedid) was placed by the dialer.
        interval: seconds between two writes.
    """

    def __init__(
        self,
        db: Database,
        *,
        phone_of: Callable[[str], str | None],
        is_outbound: Callable[[str, str], bool],
        interval: float = 0.25,
    ) -> None:
        self._db = db
        self._phone_of = phone_of
        self._is_outbound = is_outbound
        self._interval = interval
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}
        # Calls that ended, by (pbx, linkedid): when, and whether the PBX lost them.
        self._ended: dict[tuple[str, str], tuple[datetime, bool]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.written = 0

    # --- the AMI listener (sync, O(1)) ----------------------------------------------------------

    def on_notice(self, n: AnyNotice) -> None:
        if isinstance(n, CallerJoined):
            self._note(
                n.pbx,
                n.uniqueid,
                linkedid=n.linkedid,
                queue=n.queue,
                caller_id_num=n.caller_num or None,
                caller_id_name=n.caller_name or None,
                phone=self._phone_of(n.caller_num),
                direction=Direction.OUTBOUND
                if self._is_outbound(n.pbx, n.linkedid)
                else Direction.INBOUND,
                ring_at=n.at,
            )
        elif isinstance(n, AgentConnected):
            self._note(
                n.pbx,
                n.uniqueid,
                linkedid=n.linkedid,
                agent_interface=n.interface,
                queue=n.queue or None,
                answered_at=n.at,
            )
        elif isinstance(n, AgentCallEnded):
            outcome = CallOutcome.LOST if n.reason == "lost" else CallOutcome.ANSWERED
            self._note(n.pbx, n.uniqueid, linkedid=n.linkedid, ended_at=n.at, outcome=outcome)
        elif isinstance(n, CallerAbandoned):
            self._note(
                n.pbx, n.uniqueid, linkedid=n.linkedid, ended_at=n.at, outcome=CallOutcome.ABANDONED
            )
        elif isinstance(n, CallEnded):
            # Whatever row of this call is still open ends with it: a dialer call the dialplan
            # abandoned (no agent within the limit), a caller who left a queue, a call the PBX
            # lost (``lost``).
            self._ended[(n.pbx, str(n.linkedid))] = (n.at, n.lost)
            self._wake.set()

    def _note(self, pbx: str, uniqueid: str, **values: Any) -> None:
        row = self._pending.setdefault((pbx, uniqueid), {})
        for name, value in values.items():
            if value is not None and row.get(name) is None:
                row[name] = value  # the first value seen wins, as in the table
        self._wake.set()

    # --- the writer -------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="call-log")

    async def stop(self) -> None:
        """Write what is pending, then stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self._interval)  # gather a batch
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("call log: a batch could not be written; it is retried")
                await asyncio.sleep(1.0)
                self._wake.set()

    async def flush(self) -> None:
        """Write every pending change in one transaction (kept pending if it fails)."""
        if not self._pending and not self._ended:
            return
        batch, self._pending = self._pending, {}
        ended, self._ended = self._ended, {}
        rows = [
            {"pbx": pbx, "uniqueid": uid, **{c: v.get(c) for c in _COLUMNS}}
            for (pbx, uid), v in batch.items()
        ]
        for row in rows:
            row["direction"] = row["direction"] or Direction.INBOUND
        try:
            async with self._db.sessions.begin() as s:
                if rows:
                    await s.execute(_batch_upsert(), rows)
                if ended:
                    await s.execute(
                        _END_CALLS,
                        {
                            "pbxs": [pbx for pbx, _ in ended],
                            "linkedids": [linkedid for _, linkedid in ended],
                            "ats": [at for at, _ in ended.values()],
                            "losts": [lost for _, lost in ended.values()],
                            "lost": CallOutcome.LOST.value,
                            "answered": CallOutcome.ANSWERED.value,
                            "abandoned": CallOutcome.ABANDONED.value,
                        },
                    )
        except BaseException:
            for key, values in batch.items():  # put it back; its (older) values come first
                newer = self._pending.get(key, {})
                self._pending[key] = {**newer, **{k: v for k, v in values.items() if v is not None}}
            self._ended = {**ended, **self._ended}
            raise
        self.written += len(rows)
        linkedids = {str(r["linkedid"]) for r in rows if r["linkedid"]}
        linkedids |= {linkedid for _, linkedid in ended}
        await link_dialer_calls(self._db, sorted(linkedids))


async def queue_calls_between(db: Database, start: datetime, end: datetime) -> list[LoggedCall]:
    """The queue calls answered, abandoned or ended in ``[start, end)`` (the wallboard's day)."""

    def within(col: QueryableAttribute[datetime | None]) -> sa.ColumnElement[bool]:
        return sa.and_(col >= start, col < end)

    stmt = sa.select(
        Call.pbx,
        Call.uniqueid,
        Call.queue,
        Call.agent_interface,
        Call.ring_at,
        Call.answered_at,
        Call.ended_at,
        Call.outcome,
    ).where(
        Call.queue.is_not(None),
        sa.or_(within(Call.answered_at), within(Call.ended_at)),
    )
    async with db.sessions() as s:
        rows = (await s.execute(stmt)).all()
    return [
        LoggedCall(
            pbx=pbx,
            uniqueid=uniqueid,
            queue=queue or "",
            interface=interface,
            ring_at=ring_at,
            answered_at=answered_at,
            ended_at=ended_at,
            abandoned=outcome == CallOutcome.ABANDONED,
        )
        for pbx, uniqueid, queue, interface, ring_at, answered_at, ended_at, outcome in rows
    ]
