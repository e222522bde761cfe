"""Listen, whisper and barge sessions: who listens to whom, since when; audited from start to end.

A supervisor's request originates a call to their own phone into ``[cti-spy]``, which runs
``ChanSpy`` on the agent's channel. The PBX state tracks every ChanSpy session (``SpyBegan`` /
``SpyEnded`` notices); this service ties each one to the supervisor who asked for it (the
Originate's ActionID, then the phone channel its ``OriginateResponse`` names), writes an audit
line when the listening starts and another when it ends (with how long it lasted), lists the
sessions for the wallboard and hangs one up on request.

Its notice listener is synchronous and O(1); audit lines go through one writer task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from aiohttp import web

from cti.db.audit import audit
from cti.domain.commands import Hangup
from cti.domain.events import OriginateOutcome
from cti.domain.notices import AnyNotice, CallEnded, OriginateFinished, SpyBegan, SpyEnded
from cti.runtime import Runtime
from cti.web.writes import OrderedWrites

log = logging.getLogger("cti.web.supervisor")

# Originates asked for and not answered yet are forgotten after this many.
_PENDING_KEPT = 500


@dataclass(slots=True)
class Requested:
    """A listen / whisper / barge a supervisor asked for."""

    pbx: str
    username: str
    full_name: str
    mode: str
    interface: str
    phone: str


@dataclass(slots=True)
class Session:
    """A ChanSpy session running on a PBX."""

    pbx: str
    spyer: str
    spyer_channel: str
    agent: str | None
    since: datetime
    username: str | None
    full_name: str | None
    mode: str | None

    @property
    def id(self) -> str:
        return f"{self.pbx}:{self.spyer}"

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pbx": self.pbx,
            "supervisor": self.username,
            "supervisor_name": self.full_name or self.username,
            "mode": self.mode,
            "agent": self.agent,
            "phone": self.spyer_channel.rpartition("-")[0] or self.spyer_channel,
            "since": self.since.isoformat(),
        }


class SpySessions:
    """Spy sessions by (pbx, listening channel's Uniqueid)."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._requested: dict[str, Requested] = {}  # by Originate ActionID
        self._answered: dict[tuple[str, str], Requested] = {}  # by (pbx, phone channel Uniqueid)
        self._sessions: dict[tuple[str, str], Session] = {}
        self._writes = OrderedWrites("spy audit", log)
        self._unsubscribe: Any = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._unsubscribe = self._rt.ami.subscribe(self.on_notice)
        self._writes.start()

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task = self._writes.close()
        if task is not None:
            try:
                async with asyncio.timeout(3.0):
                    await task
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # --- requests ------------------------------------------------------------------------------

    def requested(self, action_id: str, request: Requested) -> None:
        """A supervisor's Originate was accepted: remember who asked, to name the session."""
        self._requested[action_id] = request
        while len(self._requested) > _PENDING_KEPT:
            self._requested.pop(next(iter(self._requested)))

    def sessions(self) -> list[dict[str, Any]]:
        return [s.view() for s in sorted(self._sessions.values(), key=lambda s: s.since)]

    def session(self, ident: str) -> Session | None:
        pbx, _, spyer = ident.partition(":")
        return self._sessions.get((pbx, spyer))

    async def end(self, session: Session, username: str) -> None:
        """Hang up the listening phone's channel (the SpyEnded notice writes the end)."""
        await self._rt.ami.send(session.pbx, Hangup(channel=session.spyer_channel))
        self._write_audit(
            username,
            f"supervisor.{session.mode or 'spy'}.stopped",
            f"agent:{session.agent}",
            {"pbx": session.pbx, "supervisor": session.username},
        )

    # --- notices (sync, O(1)) ----------------------------------------------------------------

    def on_notice(self, notice: AnyNotice) -> None:
        if isinstance(notice, OriginateFinished):
            asked = self._requested.pop(str(notice.action_id), None)
            if asked is not None and notice.outcome is OriginateOutcome.ANSWERED:
                if notice.uniqueid is not None:
                    self._answered[(notice.pbx, str(notice.uniqueid))] = asked
            elif asked is not None:
                self._write_audit(
                    asked.username,
                    f"supervisor.{asked.mode}.unanswered",
                    f"agent:{asked.interface}",
                    {"pbx": asked.pbx, "phone": asked.phone, "outcome": notice.outcome.value},
                )
        elif isinstance(notice, SpyBegan):
            key = (notice.pbx, str(notice.spyer))
            asked = self._answered.get(key)
            session = Session(
                pbx=notice.pbx,
                spyer=str(notice.spyer),
                spyer_channel=notice.spyer_channel,
                agent=notice.agent,
                since=notice.at,
                username=asked.username if asked else None,
                full_name=asked.full_name if asked else None,
                mode=asked.mode if asked else None,
            )
            self._sessions[key] = session
            self._write_audit(
                session.username or "pbx",
                f"supervisor.{session.mode or 'spy'}.started",
                f"agent:{notice.agent or notice.spyee_channel}",
                {
                    "pbx": notice.pbx,
                    "phone": session.view()["phone"],
                    "spied_channel": notice.spyee_channel,
                    "call": str(notice.spyee_linkedid),
                },
            )
        elif isinstance(notice, SpyEnded):
            key = (notice.pbx, str(notice.spyer))
            ended = self._sessions.pop(key, None)
            asked = self._answered.get(key)
            username = ended.username if ended else (asked.username if asked else None)
            mode = ended.mode if ended else (asked.mode if asked else None)
            self._write_audit(
                username or "pbx",
                f"supervisor.{mode or 'spy'}.ended",
                f"agent:{notice.agent}",
                {
                    "pbx": notice.pbx,
                    "seconds": max(0, round((notice.at - notice.since).total_seconds())),
                },
            )
        elif isinstance(notice, CallEnded):
            # The phone's own call (an originated channel is its call's first): nothing more
            # will be spied from it.
            self._answered.pop((notice.pbx, str(notice.linkedid)), None)

    def _write_audit(self, actor: str, action: str, subject: str, details: dict[str, Any]) -> None:
        """Queue an audit line (written in order by the writer task)."""
        self._writes.put(action, partial(audit, self._rt.db, actor, action, subject, details))


SPY_SESSIONS = web.AppKey("cti.spy", SpySessions)
