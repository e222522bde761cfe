"""The call log writer: every queue call in ``calls``, whoever answered it, or nobody.

It listens to the AMI notices (a sync listener: it only records what changed) and writes in
batches, one transaction every ``interval`` seconds: a caller who joined a queue (``ring_at``), an
agent who took the call (``answered_at``), the end (``ended_at`` and ``outcome``: answered, or
abandoned by a caller who hung up waiting). Rows are keyed by the caller channel's Uniqueid, the
same key the agent desk uses when it links a call to its attention; what is already stored wins,
so the desk's own writes (the operator, the attention) and these never undo each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from cti.db.engine import Database
from cti.db.models import Call
from cti.domain.model import CallOutcome, Direction
from cti.domain.notices import (
    AgentCallEnded,
    AgentConnected,
    AnyNotice,
    CallerAbandoned,
    CallerJoined,
)

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
                n.pbx, n.uniqueid, agent_interface=n.interface, queue=n.queue, answered_at=n.at
            )
        elif isinstance(n, AgentCallEnded):
            self._note(n.pbx, n.uniqueid, ended_at=n.at, outcome=CallOutcome.ANSWERED)
        elif isinstance(n, CallerAbandoned):
            self._note(n.pbx, n.uniqueid, ended_at=n.at, outcome=CallOutcome.ABANDONED)

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
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        rows = [
            {"pbx": pbx, "uniqueid": uid, **{c: v.get(c) for c in _COLUMNS}}
            for (pbx, uid), v in batch.items()
        ]
        for row in rows:
            row["direction"] = row["direction"] or Direction.INBOUND
        stmt = pg_insert(Call).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Call.pbx, Call.uniqueid],
            # What is stored wins (the desk's operator and answer, the first ring).
            set_={
                c: sa.func.coalesce(getattr(Call, c), stmt.excluded[c])
                for c in _COLUMNS
                if c != "direction"
            },
        )
        try:
            async with self._db.sessions.begin() as s:
                await s.execute(stmt)
        except BaseException:
            for key, values in batch.items():  # put it back; its (older) values come first
                newer = self._pending.get(key, {})
                self._pending[key] = {**newer, **{k: v for k, v in values.items() if v is not None}}
            raise
        self.written += len(rows)
