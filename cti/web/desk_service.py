"""The live side of the agent desk: who sits at which phone, their pops, timers and attentions.

``DeskService`` subscribes to the AMI notices. Its listener is synchronous and O(1): it looks the
notice's interface up among the agents signed in at a desk and puts the notice in that agent's own
queue; one worker task per agent handles them in order (look the caller up, push the pop, open the
attention...). Call-log writes go through one more ordered writer task. Nothing here awaits a
socket: messages go to the hub, which queues them per client.

Messages pushed to a desk (every one carries ``now``, the server's clock in epoch milliseconds, so
the browser can correct its own clock's offset):

``snapshot``  the whole desk (on connect, on reconnect, on ``resync``)
``state``     the agent's state changed (ready, paused with a reason, ringing, in_call, ...)
``pop``       a queue rings the agent: who is calling and their history (``pop.status`` ringing)
``pop_update`` the pop changed: ``answered``, ``caller_hung_up``, ``missed`` or refreshed data
``connected`` the agent took the call: ``timer`` {started_ms, ideal_seconds}
``attention`` the attention of the call (opened pending at connect, or saved)
``call_ended`` the call ended: the timer resets; ``footer.last_call`` updated
``cleared``   the agent cleared the attention from the screen
``dial_failed`` a number the agent dialled from the desk did not answer (``reason``: why)
``wrapup``    after-call work began, changed (what is left to do) or ended (``wrapup`` null)
``missed_pause`` calls rang out unanswered (``missed`` in a row): cti paused the agent (reason
              ``missed calls``) so that callers go to their colleagues (cti.domain.no_answer)
``footer``    the footer changed
``taken_over`` (from the sign-in endpoint) this desk was taken over from another machine
``pong``, ``error`` answers to the client's ``ping`` and to a message that cannot be handled

Personal data: every frame goes out through :func:`cti.web.desk_agent.desk_frame`, masked as the
agent may see it (see :mod:`cti.web.desk_agent`). The pop's reading is audited when it is pushed
(one line per person it shows, and one for the call's caller id); later frames of the same call
show nothing new. The call log and those audit lines are written in order behind the agents'
workers (:class:`cti.web.writes.OrderedWrites`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from datetime import datetime
from functools import partial
from typing import Any

from aiohttp import web

from cti.clock import local_tz
from cti.db import desk as repo
from cti.db.backoffice.personal import Viewer
from cti.db.desk import dialing
from cti.db.desk.pauses import note_pause, paused_today
from cti.domain.commands import QueueAdd
from cti.domain.desk_dial import DialledCall, agent_not_answered_text, not_answered_text
from cti.domain.events import OriginateOutcome, UniqueId
from cti.domain.model import CallOutcome, Direction
from cti.domain.no_answer import MissedCalls
from cti.domain.notices import (
    AgentCallEnded,
    AgentConnected,
    AgentRingEnded,
    AgentRinging,
    AgentState,
    AgentStateChanged,
    AnyNotice,
    CallEnded,
    CallerAbandoned,
    CallerJoined,
    DialerConnected,
    DialerUnanswered,
    MemberChange,
    MemberChanged,
    OriginateFinished,
    StateResynced,
)
from cti.domain.reporting import Period
from cti.domain.wrapup import (
    WRAPUP_REASON,
    WrapupRule,
    overrun,
    pause_of,
)
from cti.errors import AmiError
from cti.runtime import Runtime
from cti.web.auth import SignedIn
from cti.web.desk_agent import (
    DESK_FRAMES,
    DESK_TOPIC,
    SCREEN_POP,
    CampaignPop,
    DeskAgent,
    Wrapping,
    desk_frame,
    epoch_ms,
    pop_parts,
    signed_out_desk,
)
from cti.web.desk_pops import ScreenPops, TransferPop
from cti.web.desk_recovery import CallRecovery
from cti.web.desk_wrapup import AfterCallWork
from cti.web.hub import Client, Hub
from cti.web.writes import OrderedWrites

log = logging.getLogger("cti.web.desk")


class DeskService(ScreenPops, AfterCallWork, CallRecovery):
    """Desk agents by interface; routes AMI notices to them and pushes their messages."""

    def __init__(
        self, runtime: Runtime, hub: Hub, *, campaign_pop: CampaignPop | None = None
    ) -> None:
        self.rt = runtime
        self.hub = hub
        # The dialer's pop of a call it placed (lead, campaign, debts), by linkedid.
        self._campaign_pop = campaign_pop
        self._dialer_contexts = {p.name: p.dialer_context for p in runtime.settings.ami}
        self._by_user: dict[int, DeskAgent] = {}
        self._by_iface: dict[tuple[str, str], DeskAgent] = {}
        # Desk agents rung for each caller (pbx, uniqueid), so a hang-up before answer reaches them.
        self._ringing: dict[tuple[str, str], set[DeskAgent]] = {}
        # Preview calls connected straight to a desk agent, by (pbx, linkedid), until they end.
        self._direct: dict[tuple[str, str], DeskAgent] = {}
        self._recovering: dict[tuple[str, str], DeskAgent] = {}  # see cti.web.desk_recovery
        # The call each agent last dialled from the desk (cti.web.desk_dial), by user id: the
        # number their call shows once the customer answers (a call of no campaign), and the
        # attention it continues or the callback it keeps.
        self.dialled: dict[int, DialledCall] = {}
        self._pops: OrderedDict[str, tuple[int, dict[str, Any]]] = OrderedDict()
        # The call log and the pops' audit lines, written in order behind the agents.
        self._writes = OrderedWrites("call log", log)
        self._unsubscribe: Any = None
        self._lookups = repo.PopLookup(runtime.db)
        self._wrapup_checker: asyncio.Task[None] | None = None
        self.pops_pushed = 0
        # What a pop of a transferred caller adds (set by cti.web.desk_transfer).
        self.transfer_pop: TransferPop | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self._writes.start()
        self._unsubscribe = self.rt.ami.subscribe(self.on_notice)
        self._wrapup_checker = asyncio.get_running_loop().create_task(
            self._release_overrun_wrapups(), name="desk-wrapups"
        )
        self._lookups.start(self.rt.clock.now().date())

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._wrapup_checker is not None:
            self._wrapup_checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._wrapup_checker
        tasks = [a.worker for a in self._by_user.values() if a.worker is not None]
        for a in self._by_user.values():
            a.inbox.put_nowait(None)
        if (writes := self._writes.close()) is not None:
            tasks.append(writes)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=3.0)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._lookups.close()

    # --- who is at a desk ---------------------------------------------------------------------

    def agent_of(self, user_id: int) -> DeskAgent | None:
        return self._by_user.get(user_id)

    def agents(self) -> list[DeskAgent]:
        return list(self._by_user.values())

    def holder_of(self, pbx: str, interface: str) -> DeskAgent | None:
        return self._by_iface.get((pbx, interface))

    def add(self, user: SignedIn, pbx: str, interface: str, queues: tuple[str, ...]) -> DeskAgent:
        """Register an operator at a phone (after the PBX accepted the QueueAdds)."""
        agent = DeskAgent(
            user=user,
            pbx=pbx,
            interface=interface,
            queues=queues,
            personal_data=user.personal_data,
        )
        self.follow_live(agent)
        live = self.rt.ami.state(pbx).agents.get(interface)
        if live is not None and live.paused:
            agent.pause_reason = live.reason
        if (
            live is not None
            and live.paused
            and live.reason == WRAPUP_REASON
            and live.channel is None
        ):
            # Left in wrap-up (cti restarted, or another desk): finishing it puts them back. (On
            # a call the member is already paused for the wrap-up to come: the call's end begins
            # it, tied to the call's attention.)
            agent.wrapup = Wrapping(
                started=live.since, rule=WrapupRule(), attention_id=None, resume=None
            )
            agent.wrapup.entered = live.since
        self._by_user[user.id] = agent
        self._by_iface[(pbx, interface)] = agent
        agent.worker = asyncio.get_running_loop().create_task(
            self._work(agent), name=f"desk-agent-{user.id}"
        )
        self._writes.put("paused today", partial(self.read_paused_today, agent))
        return agent

    def follow_live(self, agent: DeskAgent) -> None:
        """Take the agent's state from the live PBX state (at sign-in and after a resync)."""
        live = self.rt.ami.state(agent.pbx).agents.get(agent.interface)
        if live is None:
            agent.state, agent.reason, agent.since = AgentState.OFFLINE.value, "", None
            agent.phone_unavailable = False
        else:
            agent.state, agent.reason, agent.since = live.state.value, live.reason, live.since
            agent.phone_unavailable = live.unavailable
        # Not in any queue (the PBX restarting: cti puts them back) says nothing of a pause.
        pause = None if live is None else pause_of(live.state, live.reason, live.unavailable)
        if live is not None and pause is not None:
            began = live.since
            if live.pause is not None and live.state is not AgentState.PAUSED:
                began = live.pause[1]  # paused with its phone offline: since the pause began
            self.note_pause(agent, pause[0], began)

    def note_pause(self, agent: DeskAgent, reason: str | None, at: datetime | None) -> None:
        """Write the agent's pause (its reason; None: not paused) for the pauses report when it
        changed: a pause begins or ends ``at`` (now if unknown)."""
        if agent.noted_pause == (reason,):
            return
        agent.noted_pause = (reason,)
        self._writes.put(
            "pause",
            partial(note_pause, self.rt.db, agent.user.id, reason, at or self.rt.clock.now()),
        )
        self._writes.put("paused today", partial(self.read_paused_today, agent))

    async def read_paused_today(self, agent: DeskAgent) -> None:
        """Read the agent's time paused today (after its pauses' writes) and show it on its desk."""
        now = self.rt.clock.now()
        tz = local_tz(self.rt.settings.supervisor.timezone)
        day = now.astimezone(tz).date()
        today = Period.of(day, day, tz)
        agent.paused_today = await paused_today(self.rt.db, agent.user.id, today.start, today.end)
        if self._by_user.get(agent.user.id) is agent:
            self.push(
                agent.user.id, {"type": "paused_today", "paused_today": agent.paused_today_view()}
            )

    async def join_queues(self, agent: DeskAgent, *, missing_only: bool) -> list[str]:
        """QueueAdd the agent's phone to its queues, paused as last reported; the queues added.

        With ``missing_only`` only the queues the live state does not list it in (what a PBX
        restart or crash emptied); otherwise all of them, whatever cti believes (a sign-in asks
        the PBX again). A queue the phone is already in is no error.
        """
        state = self.rt.ami.state(agent.pbx)
        added: list[str] = []
        for queue in agent.queues:
            q = state.queues.get(queue)
            if missing_only and q is not None and agent.interface in q.members:
                continue
            try:
                await self.rt.ami.send(
                    agent.pbx,
                    QueueAdd(
                        queue=queue,
                        interface=agent.interface,
                        member_name=agent.user.full_name,
                        state_interface=agent.interface,
                        paused=agent.pause_reason is not None,
                        reason=agent.pause_reason or "",
                    ),
                )
            except AmiError as exc:
                if "Already there" not in str(exc):
                    if not missing_only:
                        raise
                    log.warning(
                        "desk of %s: %s not put back in %s: %s",
                        agent.user.username,
                        agent.interface,
                        queue,
                        exc,
                    )
                continue
            added.append(queue)
        return added

    async def remove(self, agent: DeskAgent, *, handed_over: bool = False) -> None:
        """Forget an agent (desk sign-out); its worker finishes what it has queued. A desk
        ``handed_over`` to another instance goes on there: its pause with it."""
        if self._by_user.get(agent.user.id) is agent:
            del self._by_user[agent.user.id]
        if self._by_iface.get((agent.pbx, agent.interface)) is agent:
            del self._by_iface[(agent.pbx, agent.interface)]
        for agents in self._ringing.values():
            agents.discard(agent)
        agent.inbox.put_nowait(None)
        if agent.worker is not None:
            with contextlib.suppress(asyncio.CancelledError):
                async with asyncio.timeout(3.0):
                    await asyncio.shield(agent.worker)
        if not handed_over:
            self.note_pause(agent, None, None)  # signed out: no longer paused at a desk

    def follow_direct(self, agent: DeskAgent, linkedid: str) -> None:
        """A call put straight through to the agent (no queue: a transfer to them): its end, the
        last channel of ``linkedid`` hanging up, ends their call."""
        self._direct[(agent.pbx, linkedid)] = agent

    # --- pushing ------------------------------------------------------------------------------

    def now_ms(self) -> int:
        return epoch_ms(self.rt.clock.now())

    def desk_clients(self, user_id: int) -> list[Client]:
        return [c for c in self.hub.clients_of(user_id) if DESK_TOPIC in c.topics]

    def may_see(self, user: SignedIn) -> bool:
        """Whether the operator's desk frames show personal data (their agent's last reading)."""
        agent = self._by_user.get(user.id)
        return agent.personal_data if agent is not None else user.personal_data

    @staticmethod
    def _frame(message: dict[str, Any], *, allowed: bool) -> dict[str, Any] | None:
        """The message as sent (:func:`desk_frame`); None, logged, for an undeclared type."""
        try:
            return desk_frame(message, allowed=allowed)
        except KeyError:
            log.error("desk frame %r is not declared in DESK_FRAMES: not sent", message.get("type"))
            return None

    def send(self, client: Client, user: SignedIn, message: dict[str, Any]) -> None:
        """Queue a message for one desk socket, its personal fields as the operator may see them."""
        frame = self._frame(message, allowed=self.may_see(user))
        if frame is not None:
            self.hub.send_to_client(client, frame)

    def push(self, user_id: int, message: dict[str, Any]) -> None:
        """Queue a message for the desk sockets of one operator (never anyone else's)."""
        message["now"] = self.now_ms()
        agent = self._by_user.get(user_id)
        frame = self._frame(message, allowed=agent is not None and agent.personal_data)
        if frame is not None:
            for client in self.desk_clients(user_id):
                self.hub.send_to_client(client, frame)

    def snapshot_of(self, user: SignedIn) -> dict[str, Any]:
        agent = self._by_user.get(user.id)
        desk = (
            agent.snapshot()
            if agent is not None
            else signed_out_desk(user, list(self.rt.settings.desk.queues_for(user.routines)))
        )
        return {"type": "snapshot", "now": self.now_ms(), "desk": desk}

    # --- the AMI listener (sync, O(1), never blocks) ------------------------------------------

    def on_notice(self, notice: AnyNotice) -> None:
        if isinstance(
            notice,
            AgentRinging | AgentRingEnded | AgentConnected | AgentCallEnded | AgentStateChanged,
        ):
            agent = self._by_iface.get((notice.pbx, notice.interface))
            if agent is None:
                return
            if isinstance(notice, AgentRinging):
                self._ringing.setdefault((notice.pbx, notice.uniqueid), set()).add(agent)
            elif isinstance(notice, AgentConnected | AgentCallEnded):
                self._ringing.pop((notice.pbx, notice.uniqueid), None)
            agent.inbox.put_nowait(notice)
        elif isinstance(notice, CallerAbandoned):
            agents = self._ringing.pop((notice.pbx, notice.uniqueid), None)
            if agents:
                for agent in agents:
                    agent.inbox.put_nowait(notice)
                self._writes.put(
                    "end",
                    partial(
                        repo.log_end,
                        self.rt.db,
                        repo.CallKey(notice.pbx, notice.uniqueid),
                        at=notice.at,
                        outcome=CallOutcome.ABANDONED,
                    ),
                )
        elif isinstance(notice, DialerConnected):
            # A preview call put straight through to the agent who dialled it (no queue).
            agent = self._by_iface.get((notice.pbx, notice.agent))
            if agent is not None:
                self._direct[(notice.pbx, str(notice.linkedid))] = agent
                agent.inbox.put_nowait(notice)
        elif (
            isinstance(notice, OriginateFinished)
            and notice.outcome is not OriginateOutcome.ANSWERED
        ):
            # A desk call whose agent's own phone did not pick up: they are told so.
            for uid, placed in list(self.dialled.items()):
                if placed.action_id == notice.action_id and (agent := self._by_user.get(uid)):
                    agent.inbox.put_nowait(notice)
        elif isinstance(notice, DialerUnanswered) and notice.campaign_id is None:
            # A number dialled from the desk did not answer: its agent (their phone's channel
            # sent it) is told why.
            channel = self.rt.ami.state(notice.pbx).channels.get(notice.uniqueid)
            if channel is not None:
                interface = channel.name.rpartition("-")[0]
                if (agent := self._by_iface.get((notice.pbx, interface))) is not None:
                    agent.inbox.put_nowait(notice)
        elif isinstance(notice, CallEnded):
            agent = self._direct.pop((notice.pbx, str(notice.linkedid)), None)
            if agent is not None:
                agent.inbox.put_nowait(notice)
        elif isinstance(notice, CallerJoined) and (agent := self.recovering_agent(notice)):
            agent.inbox.put_nowait(notice)  # back in the queue: no longer theirs
        elif isinstance(notice, MemberChanged):
            agent = self._by_iface.get((notice.pbx, notice.interface))
            if agent is not None and notice.change is not MemberChange.REMOVED:
                agent.pause_reason = notice.paused_reason if notice.paused else None
        elif isinstance(notice, StateResynced):
            for agent in self._by_user.values():
                if agent.pbx == notice.pbx:
                    agent.inbox.put_nowait(notice)

    # --- per-agent work -----------------------------------------------------------------------

    async def _work(self, agent: DeskAgent) -> None:
        while True:
            notice = await agent.inbox.get()
            if notice is None:
                return
            try:
                await self._handle(agent, notice)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "desk of %s: handling %s failed", agent.user.username, type(notice).__name__
                )

    async def _handle(self, agent: DeskAgent, n: AnyNotice) -> None:
        uid = agent.user.id
        if await self.recovery_handles(agent, n):
            return
        if isinstance(n, AgentStateChanged):
            agent.state, agent.reason, agent.since = n.state.value, n.reason, n.since
            agent.phone_unavailable = n.unavailable
            if n.state is AgentState.PAUSED:
                agent.missed = MissedCalls()  # a pause of any reason starts the count again
            if (pause := pause_of(n.state, n.reason, n.unavailable)) is not None:
                self.note_pause(agent, pause[0], n.since)
            await self._wrapup_state(agent, n)
            self.push(
                uid,
                {
                    "type": "state",
                    "state": agent.state,
                    "reason": n.reason,
                    "since": n.since,
                    "phone_unavailable": n.unavailable,
                },
            )
        elif isinstance(n, AgentRinging):
            await self._ringing_pop(agent, n)
        elif isinstance(n, AgentRingEnded):
            pop = agent.pop
            if pop is not None and pop["id"] == n.uniqueid and pop["status"] == "ringing":
                pop["status"] = "missed"
                self.push(uid, {"type": "pop_update", "pop": pop})
                await self.ring_over(agent, missed=True)
        elif isinstance(n, CallerAbandoned):
            pop = agent.pop
            if (
                pop is not None
                and pop["id"] == n.uniqueid
                and pop["status"] in ("ringing", "missed")
            ):
                pop["status"] = "caller_hung_up"
                pop["ended_at"] = n.at.isoformat()
                self.push(uid, {"type": "pop_update", "pop": pop})
                await self.ring_over(agent)
        elif isinstance(n, AgentConnected):
            await self._connected(agent, n)
        elif isinstance(n, DialerConnected):
            # The same as a queue connect, with no queue, no hold and no ring of our own. A call
            # of no campaign is one the agent dialled from the desk: its number is theirs.
            dialled = self.dialled.pop(uid, None) if n.campaign_id is None else None
            await self._connected(
                agent,
                AgentConnected(
                    pbx=n.pbx,
                    at=n.at,
                    queue="",
                    interface=agent.interface,
                    member_name=agent.user.full_name,
                    caller_num=dialled.number if dialled else "",
                    caller_name="",
                    uniqueid=n.uniqueid,
                    linkedid=n.linkedid,
                    hold_seconds=0,
                    ring_seconds=0,
                ),
                dialer=True,
                dialled=dialled,
            )
        elif isinstance(n, OriginateFinished):
            self.dialled.pop(uid, None)
            self.push(
                uid,
                {
                    "type": "dial_failed",
                    "dial_status": n.outcome.value,
                    "reason": agent_not_answered_text(n.outcome.value),
                },
            )
        elif isinstance(n, DialerUnanswered):
            self.dialled.pop(uid, None)
            self.push(
                uid,
                {
                    "type": "dial_failed",
                    "dial_status": n.dial_status,
                    "reason": not_answered_text(n.dial_status),
                },
            )
        elif isinstance(n, CallEnded):
            call = agent.call
            if call is not None and call["linkedid"] == str(n.linkedid):
                await self._call_ended(
                    agent,
                    AgentCallEnded(
                        pbx=n.pbx,
                        at=n.at,
                        queue="",
                        interface=agent.interface,
                        member_name=agent.user.full_name,
                        caller_num=call["caller_num"],
                        caller_name=call["caller_name"],
                        uniqueid=UniqueId(call["uniqueid"]),
                        linkedid=n.linkedid,
                        talk_seconds=agent.talked_until(n.at),
                        hold_seconds=0,
                        reason="hangup",
                    ),
                )
        elif isinstance(n, AgentCallEnded):
            await self._call_ended(agent, n)
        elif isinstance(n, StateResynced):
            # The PBX may have lost its dynamic members (restart, crash): cti knows who sits
            # where, so it puts them back before showing the desk.
            put_back = await self.join_queues(agent, missing_only=True)
            if put_back:
                log.info(
                    "desk of %s: %s put back in %s after the PBX lost it",
                    agent.user.username,
                    agent.interface,
                    ", ".join(put_back),
                )
                await self.rt.ami.flush(agent.pbx)
            self.follow_live(agent)
            w = agent.wrapup
            if w is not None and not w.finished:
                if agent.wrapup_todo() is None:
                    # Disposed while the PBX could not be told: end the wrap-up now.
                    await self.finish_wrapup(agent)
                elif overrun(w.rule, w.started, self.rt.clock.now()):
                    await self.finish_wrapup(agent, released=True)
            for client in self.desk_clients(uid):
                self.send(client, agent.user, self.snapshot_of(agent.user))

    async def _connected(
        self,
        agent: DeskAgent,
        n: AgentConnected,
        *,
        dialer: bool = False,
        dialled: DialledCall | None = None,
    ) -> None:
        uid = agent.user.id
        await self._hold_for_wrapup(agent)
        if agent.pop is None or agent.pop["id"] != n.uniqueid:
            # Signed in while it rang, or a preview call (no ring of its own): pop now.
            await self._ringing_pop(
                agent,
                AgentRinging(
                    pbx=n.pbx,
                    at=n.at,
                    queue=n.queue,
                    interface=n.interface,
                    member_name=n.member_name,
                    caller_num=n.caller_num,
                    caller_name=n.caller_name,
                    uniqueid=n.uniqueid,
                    linkedid=n.linkedid,
                ),
                dialer=dialer,
                lead=dialled.lead_id if dialled else None,
            )
        assert agent.pop is not None
        agent.missed = MissedCalls()
        agent.pop["status"] = "answered"
        agent.call = {
            "uniqueid": str(n.uniqueid),
            "linkedid": str(n.linkedid),
            "queue": n.queue,
            "caller_num": n.caller_num,
            "caller_name": n.caller_name,
            "answered_at": n.at.isoformat(),
            "answered_ms": epoch_ms(n.at),
            "ended_ms": None,
        }
        agent.attention = None
        campaign = agent.pop.get("campaign")
        self.push(
            uid,
            {"type": "connected", "call": agent.call, "timer": agent.timer(), "pop": agent.pop},
        )
        # The ring's write, queued behind the pop, is done before the attention is opened and read:
        # it holds when its call rang, however busy the database was.
        await self._writes.written()
        attention_id = await repo.open_attention(
            self.rt.db,
            key=repo.CallKey(n.pbx, n.uniqueid),
            kind=self._kind_for(agent, n.queue),
            operator_id=uid,
            party=repo.Party.from_pop(agent.pop),
            phone=agent.pop.get("phone"),
            linkedid=n.linkedid,
            queue=n.queue,
            interface=n.interface,
            caller_num=n.caller_num,
            caller_name=n.caller_name,
            answered_at=n.at,
            campaign_id=campaign["campaign"]["id"] if campaign else None,
            lead_id=campaign["lead"]["id"] if campaign else None,
            direction=Direction.OUTBOUND if dialer else None,
            continues=dialled.attention_id if dialled else None,
        )
        if dialled is not None and dialled.callback_id is not None:
            await dialing.callback_done(self.rt.db, dialled.callback_id, n.at)
        await self.refresh_attention(agent, attention_id)

    async def refresh_attention(self, agent: DeskAgent, attention_id: int) -> None:
        """Reload the agent's attention and push it with the footer."""
        agent.attention, agent.next_call = await repo.desk_attention(
            self.rt.db,
            attention_id,
            Viewer(agent.user.id, agent.user.username),
            after=self.rt.clock.now(),
        )
        self.push(
            agent.user.id,
            {"type": "attention", "attention": agent.attention, "footer": agent.footer()},
        )

    async def _call_ended(self, agent: DeskAgent, n: AgentCallEnded) -> None:
        # The end is logged and the group's rule read first, in one transaction: from the call's
        # end on, a Clear or a Pause arriving finds the wrap-up already there (never an ended
        # call without one, for an instant), and the attention shown next holds the call's times.
        outcome = CallOutcome.LOST if n.reason == "lost" else CallOutcome.ANSWERED
        rule = await repo.end_call_and_rule(
            self.rt.db, repo.CallKey(n.pbx, n.uniqueid), agent.user.id, at=n.at, outcome=outcome
        )
        if agent.call is not None and agent.call["uniqueid"] == n.uniqueid:
            agent.call["ended_ms"] = epoch_ms(n.at)
            agent.call["ended_at"] = n.at.isoformat()
            agent.call["talk_seconds"] = n.talk_seconds
        if agent.pop is not None and agent.pop["id"] == n.uniqueid:
            agent.pop["status"] = "ended"
        agent.last_call = {
            "at": n.at.isoformat(),
            "caller": n.caller_name or n.caller_num,
            "number": n.caller_num,
            "queue": n.queue,
            "talk_seconds": n.talk_seconds,
            "ended_by": n.reason,
        }
        self.push(
            agent.user.id,
            {"type": "call_ended", "call": agent.call, "footer": agent.footer()},
        )
        attention_id = (agent.attention or {}).get("id")
        paused = self._begin_wrapup(agent, n, attention_id, rule)
        if attention_id is not None:
            await self.show_call_end(agent, attention_id, n.at, outcome)
        w = agent.wrapup
        if paused and w is not None and not w.finished:
            # Not if the wrap-up already ended (disposed meanwhile): that would pause the member
            # again, for a wrap-up that is over.
            await self._pause_for(agent, WRAPUP_REASON)  # so since the connect, unless refused
            if agent.wrapup_todo() is None:
                # Disposed during the call: nothing is left to do after it.
                await self.finish_wrapup(agent)

    def clear(self, agent: DeskAgent) -> None:
        """The agent cleared the screen (Limpa Atendimento): pop, timer and attention reset."""
        agent.pop = None
        agent.call = None
        agent.attention = None
        self.push(agent.user.id, {"type": "cleared", "footer": agent.footer()})


DESK_SERVICE = web.AppKey("cti.desk", DeskService)

__all__ = [
    "DESK_FRAMES",
    "DESK_SERVICE",
    "DESK_TOPIC",
    "SCREEN_POP",
    "DeskAgent",
    "DeskService",
    "desk_frame",
    "pop_parts",
]
