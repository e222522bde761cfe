"""The desk's after-call work: a call that ends puts its agent in wrap-up (their queue member
paused with the reason ``wrap-up``, held since the call connected) until the attention is disposed
as their group asks or the group's maximum time runs out; then they are ready again, or paused as
they asked meanwhile. Each wrap-up is recorded. A base of :class:`cti.web.desk_service.DeskService`,
which runs these in each agent's order.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cti.db import desk as repo
from cti.domain.commands import QueuePause
from cti.domain.model import CallOutcome
from cti.domain.no_answer import MISSED_REASON, MissedCalls
from cti.domain.notices import AgentCallEnded, AgentState, AgentStateChanged, CallKind
from cti.domain.wrapup import (
    WRAPUP_REASON,
    WrapupRule,
    overrun,
    resume_pause,
    seconds_between,
)
from cti.errors import AmiError
from cti.web.desk_agent import DeskAgent, Wrapping

if TYPE_CHECKING:
    from cti.runtime import Runtime

log = logging.getLogger("cti.web.desk")

# How often the maximum wrap-up times are looked at (seconds of the loop's clock).
WRAPUP_CHECK_SECONDS = 0.25


class AfterCallWork:
    """The wrap-up half of the desk service."""

    if TYPE_CHECKING:
        # What the desk service provides.
        rt: Runtime
        _by_user: dict[int, DeskAgent]

        def push(self, user_id: int, message: dict[str, Any]) -> None: ...

        async def refresh_attention(self, agent: DeskAgent, attention_id: int) -> None: ...

    async def show_call_end(
        self, agent: DeskAgent, attention_id: int, at: datetime, outcome: CallOutcome
    ) -> None:
        """The attention on screen shows its call's end as the call log now has it: its time,
        talk and outcome set on what the desk shows (read, masked and audited at the connect,
        for this same agent), not read again; read again if it shows no answered call."""
        shown = agent.attention if (agent.attention or {}).get("id") == attention_id else None
        call = (shown or {}).get("call")
        if shown is None or not call or not call.get("answered_at"):
            await self.refresh_attention(agent, attention_id)
            return
        answered = datetime.fromisoformat(call["answered_at"])
        call["ended_at"] = at.isoformat()
        call["talk_seconds"] = int((at - answered).total_seconds())
        call["outcome"] = str(outcome)
        self.push(
            agent.user.id, {"type": "attention", "attention": shown, "footer": agent.footer()}
        )

    def _begin_wrapup(
        self, agent: DeskAgent, n: AgentCallEnded, attention_id: int | None, rule: WrapupRule
    ) -> bool:
        """The agent's call ended: their member is to be paused for wrap-up (no queue call is
        offered) until they dispose its attention or the group's maximum time is over. No await:
        a Pause, Resume or Clear arriving meanwhile finds either the hold (and is kept for after
        the wrap-up) or the wrap-up itself, never neither. True: pause the member now."""
        if agent.wrapup is not None and not agent.wrapup.finished:
            return False  # still wrapping up an earlier call: that one decides when it ends
        resume = agent.resume_after if agent.holding else resume_pause(agent.pause_reason)
        agent.holding, agent.resume_after = False, None
        agent.wrapup = Wrapping(started=n.at, rule=rule, attention_id=attention_id, resume=resume)
        if agent.state == AgentState.WRAP_UP.value:
            # Held since the connect, the member went straight into wrap-up at the call's end.
            agent.wrapup.entered = agent.since
        self.push(agent.user.id, {"type": "wrapup", "wrapup": agent.wrapup_view()})
        return True

    async def _hold_for_wrapup(self, agent: DeskAgent) -> None:
        """A call connected: pause the member for wrap-up now, while the call keeps it busy, so
        that no queue call is offered between the call's end and the wrap-up."""
        stale = agent.wrapup
        if stale is not None:
            # A wrap-up the PBX never showed (this call was offered before its pause): this
            # call's own wrap-up follows it, and goes back to what that one would have.
            agent.resume_after = stale.resume
            self._wrapup_over(agent)
        elif not agent.holding:
            agent.resume_after = resume_pause(agent.pause_reason)
        if agent.after_ring is not None:
            # Pause (or Resume) pressed while this call rang: it waits for the wrap-up's end.
            agent.resume_after, agent.after_ring = agent.after_ring[0], None
            self.push(agent.user.id, {"type": "after_ring", "after_ring": None})
        agent.holding = await self._pause_for(agent, WRAPUP_REASON)

    def defer_pause(self, agent: DeskAgent, reason: str | None) -> bool:
        """The agent asked to pause (``reason``) or to be ready (None) while on a call or in
        wrap-up: it takes effect when the wrap-up ends. False: act now."""
        if agent.wrapup is not None and not agent.wrapup.finished:
            agent.wrapup.resume = reason
            self.wrapup_changed(agent)
            return True
        if agent.holding:
            agent.resume_after = reason
            return True
        if agent.ringing():
            agent.after_ring = (reason,)
            self.push(agent.user.id, {"type": "after_ring", "after_ring": agent.pause_after_ring()})
            return True
        return False

    async def ring_over(self, agent: DeskAgent, *, missed: bool = False) -> None:
        """The call that rang the agent was not answered: a Pause or Resume pressed meanwhile
        takes effect now; else a call that rang out (``missed``) counts towards the group's
        pause for missed calls (:mod:`cti.domain.no_answer`)."""
        if agent.ringing():
            return
        if agent.after_ring is not None:
            reason, agent.after_ring = agent.after_ring[0], None
            agent.missed = MissedCalls()  # they pressed a button: they are there
            self.push(agent.user.id, {"type": "after_ring", "after_ring": None})
            await self._pause_for(agent, reason)
        elif missed:
            await self._missed(agent)

    async def _missed(self, agent: DeskAgent) -> None:
        """A queue call rang the agent out: after their group's number of such calls in a row,
        pause them (unless they are paused, on a call or in wrap-up already) and tell their desk."""
        agent.missed = agent.missed.missed()
        limit = await repo.pause_after_missed(self.rt.db, agent.user.id)
        if not agent.missed.pauses(limit):
            return
        count, agent.missed = agent.missed.in_row, MissedCalls()
        busy = agent.wrapup is not None or agent.holding or agent.timer() is not None
        if busy or agent.state == AgentState.PAUSED.value:
            return
        if await self._pause_for(agent, MISSED_REASON):
            log.info(
                "desk of %s: paused after missed calls (%d in a row)", agent.user.username, count
            )
            self.push(agent.user.id, {"type": "missed_pause", "missed": count})

    async def _pause_for(self, agent: DeskAgent, reason: str | None) -> bool:
        """Pause the agent's member for ``reason`` (None: unpause); False if the PBX refused."""
        try:
            await self.rt.ami.send(
                agent.pbx,
                QueuePause(
                    interface=agent.interface, paused=reason is not None, reason=reason or ""
                ),
            )
        except AmiError as exc:
            log.warning("desk of %s: pause %r refused: %s", agent.user.username, reason, exc)
            return False
        return True

    async def finish_wrapup(
        self, agent: DeskAgent, *, released: bool = False, by: str = "time"
    ) -> bool:
        """End the agent's wrap-up: back to ready, or to the pause they had. ``released``: before
        the attention was disposed, ``by`` the group's maximum "time" or a "supervisor". False
        when there was none to end (or it is already ending)."""
        w = agent.wrapup
        if w is None or w.finished:
            return False
        w.finished, w.released, w.released_by = True, released, by
        if not await self._pause_for(agent, w.resume):
            w.finished = w.released = False
            return False
        live = self.rt.ami.state(agent.pbx).agents.get(agent.interface)
        if w.entered is None and (live is None or live.state is not AgentState.WRAP_UP):
            # The PBX never showed the wrap-up (its pause refused, signed out): nothing else
            # will end it.
            self._wrapup_over(agent)
        return True

    def wrapup_changed(self, agent: DeskAgent) -> None:
        """The attention changed: tell the desk what is left to do."""
        if agent.wrapup is not None:
            self.push(agent.user.id, {"type": "wrapup", "wrapup": agent.wrapup_view()})

    async def _wrapup_state(self, agent: DeskAgent, n: AgentStateChanged) -> None:
        w = agent.wrapup
        if n.state is AgentState.WRAP_UP:
            if w is not None and w.entered is None:
                w.entered = n.since
            return
        if (
            n.previous is AgentState.WRAP_UP
            and w is not None
            and n.state is AgentState.IN_CALL
            and n.call_kind not in (None, CallKind.QUEUE)
            and not w.finished
        ):
            # A call no queue gave, in after-call work (a transfer, one from the phone): talk,
            # not wrap-up, and the wrap-up goes on after it (the member stays paused for it).
            # Its time so far is recorded as the wallboard counts it; the rest when it ends.
            if w.entered is not None:
                await self._record_wrapup(agent, w, n.at)
            w.entered = None
            return
        if n.previous is AgentState.WRAP_UP and w is not None:
            # Offline (the phone or the PBX lost): the attention is still to dispose, and the
            # member comes back paused for wrap-up; the time so far is counted as the wallboard
            # counts it.
            lost = n.state is AgentState.OFFLINE and not w.finished
            if not lost:
                self._wrapup_over(agent)
            flagged = None
            if w.entered is not None:
                flagged = await self._record_wrapup(agent, w, n.at)
            w.entered = None
            shown = agent.attention
            if flagged is not None and shown is not None and shown.get("id") == w.attention_id:
                # The flag is all that changed: set on what the desk shows (read, masked and
                # audited at the connect, for this same agent), not read again.
                shown["wrapup_overrun"] = True
                shown["updated_at"] = flagged.isoformat()
                self.push(
                    agent.user.id,
                    {"type": "attention", "attention": shown, "footer": agent.footer()},
                )

    async def _record_wrapup(
        self, agent: DeskAgent, w: Wrapping, ended: datetime
    ) -> datetime | None:
        """Record the wrap-up from when the PBX showed it to ``ended`` (written in the agent's
        order, so the attention shown next carries its flag); when it flagged the attention
        (released before it was disposed), the attention's time of change."""
        assert w.entered is not None
        return await repo.record_wrapup(
            self.rt.db,
            operator_id=agent.user.id,
            pbx=agent.pbx,
            interface=agent.interface,
            attention_id=w.attention_id,
            started_at=w.entered,
            ended_at=ended,
            seconds=seconds_between(w.entered, ended),
            released=w.released,
        )

    def _wrapup_over(self, agent: DeskAgent) -> None:
        w = agent.wrapup
        agent.wrapup = None
        self.push(
            agent.user.id,
            {
                "type": "wrapup",
                "wrapup": None,
                "released": w is not None and w.released,
                "released_by": w.released_by if w is not None and w.released else None,
            },
        )

    async def _release_overrun_wrapups(self) -> None:
        """Release every agent whose group's maximum wrap-up time is over (the attention stays
        pending and is flagged when the wrap-up is recorded)."""
        while True:
            await asyncio.sleep(WRAPUP_CHECK_SECONDS)
            now = self.rt.clock.now()
            links = self.rt.ami.status()
            for agent in list(self._by_user.values()):
                w = agent.wrapup
                if links.get(agent.pbx) != "connected":
                    continue  # told when it is back (the resync ends what is over)
                if w is not None and not w.finished and overrun(w.rule, w.started, now):
                    try:
                        await self.finish_wrapup(agent, released=True)
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("desk of %s: releasing wrap-up failed", agent.user.username)
