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
``footer``    the footer changed
``taken_over`` (from the sign-in endpoint) this desk was taken over from another machine
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cti.db import desk as repo
from cti.db.backoffice.personal import Viewer, present, write_reads
from cti.domain.backoffice import CUSTOMER_FIELDS
from cti.domain.events import UniqueId
from cti.domain.model import AttentionKind, CallOutcome
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
    DialerConnected,
    StateResynced,
)
from cti.domain.phone import normalize_phone
from cti.errors import UserInputError
from cti.runtime import Runtime
from cti.web.auth import SignedIn
from cti.web.hub import Client, Hub

log = logging.getLogger("cti.web.desk")

DESK_TOPIC = "desk"
# Pops kept for reading back (by their owner only).
POPS_KEPT = 2000


def epoch_ms(at: datetime) -> int:
    """An instant as epoch milliseconds (what the browser's clock counts in)."""
    return int(at.timestamp() * 1000)


@dataclass(eq=False)
class DeskAgent:
    """One operator signed in at a desk to a phone (an Asterisk interface)."""

    user: SignedIn
    pbx: str
    interface: str
    queues: tuple[str, ...]
    state: str = AgentState.OFFLINE.value
    reason: str = ""
    since: datetime | None = None
    pop: dict[str, Any] | None = None
    call: dict[str, Any] | None = None  # uniqueid, linkedid, queue, caller, answered_ms, ended_ms
    attention: dict[str, Any] | None = None
    last_call: dict[str, Any] | None = None
    next_call: str | None = None
    inbox: asyncio.Queue[AnyNotice | None] = field(default_factory=asyncio.Queue)
    worker: asyncio.Task[None] | None = None

    @property
    def ideal_seconds(self) -> int | None:
        return self.user.ideal_talk_seconds

    def timer(self) -> dict[str, Any] | None:
        """The running talk timer, or None when no call is up."""
        if self.call is None or self.call.get("ended_ms") is not None:
            return None
        return {
            "started_ms": self.call["answered_ms"],
            "ideal_seconds": self.ideal_seconds,
            "uniqueid": self.call["uniqueid"],
        }

    def footer(self) -> dict[str, Any]:
        """The seeds' footer: last call, operator, attention status, operation, next call."""
        operation = None
        if "telesales" in self.user.routines:
            # The quote or order made in this attention (the seeds' "operation", telesales only).
            made = (self.attention or {}).get("operation")
            operation = made["label"] if made else None
        next_call = (self.attention or {}).get("next_call_at") or self.next_call
        return {
            "last_call": self.last_call,
            "operator": self.user.full_name,
            "attention_status": (self.attention or {}).get("status"),
            "operation": operation,
            "next_call": next_call,
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "signed_in": True,
            "pbx": self.pbx,
            "interface": self.interface,
            "queues": list(self.queues),
            "state": self.state,
            "reason": self.reason,
            "since": self.since.isoformat() if self.since else None,
            "pop": self.pop,
            "call": self.call,
            "timer": self.timer(),
            "attention": self.attention,
            "footer": self.footer(),
        }


# The dialer's screen-pop of a call it placed, by linkedid (DialerService.pop_for_call).
CampaignPop = Callable[[str], Awaitable[dict[str, Any] | None]]


class DeskService:
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
        self._pops: OrderedDict[str, tuple[int, dict[str, Any]]] = OrderedDict()
        self._log: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()
        self._log_task: asyncio.Task[None] | None = None
        self._unsubscribe: Any = None
        self._lookups = repo.PopLookup(runtime.db)
        self.pops_pushed = 0

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self._log_task = asyncio.get_running_loop().create_task(
            self._log_writer(), name="desk-call-log"
        )
        self._unsubscribe = self.rt.ami.subscribe(self.on_notice)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        tasks = [a.worker for a in self._by_user.values() if a.worker is not None]
        for a in self._by_user.values():
            a.inbox.put_nowait(None)
        if self._log_task is not None:
            self._log.put_nowait(None)
            tasks.append(self._log_task)
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
        agent = DeskAgent(user=user, pbx=pbx, interface=interface, queues=queues)
        live = self.rt.ami.state(pbx).agents.get(interface)
        if live is not None:
            agent.state, agent.reason, agent.since = live.state.value, live.reason, live.since
        self._by_user[user.id] = agent
        self._by_iface[(pbx, interface)] = agent
        agent.worker = asyncio.get_running_loop().create_task(
            self._work(agent), name=f"desk-agent-{user.id}"
        )
        return agent

    async def remove(self, agent: DeskAgent) -> None:
        """Forget an agent (desk sign-out); its worker finishes what it has queued."""
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

    # --- pushing ------------------------------------------------------------------------------

    def now_ms(self) -> int:
        return epoch_ms(self.rt.clock.now())

    def desk_clients(self, user_id: int) -> list[Client]:
        return [c for c in self.hub.clients_of(user_id) if DESK_TOPIC in c.topics]

    def push(self, user_id: int, message: dict[str, Any]) -> None:
        """Queue a message for the desk sockets of one operator (never anyone else's)."""
        message["now"] = self.now_ms()
        for client in self.desk_clients(user_id):
            self.hub.send_to_client(client, message)

    def snapshot_of(self, user: SignedIn) -> dict[str, Any]:
        agent = self._by_user.get(user.id)
        desk: dict[str, Any] = (
            agent.snapshot()
            if agent is not None
            else {
                "signed_in": False,
                "interface": user.extension,
                "queues": list(self.rt.settings.desk.queues_for(user.routines)),
                "state": AgentState.OFFLINE.value,
                "reason": "",
                "pop": None,
                "call": None,
                "timer": None,
                "attention": None,
                "footer": {
                    "last_call": None,
                    "operator": user.full_name,
                    "attention_status": None,
                    "operation": None,
                    "next_call": None,
                },
            }
        )
        return {"type": "snapshot", "now": self.now_ms(), "desk": desk}

    def pop_for(self, pop_id: str) -> tuple[int, dict[str, Any]] | None:
        """A recent pop and the operator it was pushed to."""
        return self._pops.get(pop_id)

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
                self._log.put_nowait(
                    (
                        "end",
                        {
                            "key": repo.CallKey(notice.pbx, notice.uniqueid),
                            "at": notice.at,
                            "outcome": CallOutcome.ABANDONED,
                        },
                    )
                )
        elif isinstance(notice, DialerConnected):
            # A preview call put straight through to the agent who dialled it (no queue).
            agent = self._by_iface.get((notice.pbx, notice.agent))
            if agent is not None:
                self._direct[(notice.pbx, str(notice.linkedid))] = agent
                agent.inbox.put_nowait(notice)
        elif isinstance(notice, CallEnded):
            agent = self._direct.pop((notice.pbx, str(notice.linkedid)), None)
            if agent is not None:
                agent.inbox.put_nowait(notice)
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
        if isinstance(n, AgentStateChanged):
            agent.state, agent.reason, agent.since = n.state.value, n.reason, n.since
            self.push(
                uid,
                {"type": "state", "state": agent.state, "reason": n.reason, "since": n.since},
            )
        elif isinstance(n, AgentRinging):
            await self._ringing_pop(agent, n)
        elif isinstance(n, AgentRingEnded):
            pop = agent.pop
            if pop is not None and pop["id"] == n.uniqueid and pop["status"] == "ringing":
                pop["status"] = "missed"
                self.push(uid, {"type": "pop_update", "pop": pop})
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
        elif isinstance(n, AgentConnected):
            await self._connected(agent, n)
        elif isinstance(n, DialerConnected):
            # The same as a queue connect, with no queue, no hold and no ring of our own.
            await self._connected(
                agent,
                AgentConnected(
                    pbx=n.pbx,
                    at=n.at,
                    queue="",
                    interface=agent.interface,
                    member_name=agent.user.full_name,
                    caller_num="",
                    caller_name="",
                    uniqueid=n.uniqueid,
                    linkedid=n.linkedid,
                    hold_seconds=0,
                    ring_seconds=0,
                ),
            )
        elif isinstance(n, CallEnded):
            call = agent.call
            if call is not None and call["linkedid"] == str(n.linkedid):
                talk = max(0, round((epoch_ms(n.at) - call["answered_ms"]) / 1000))
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
                        talk_seconds=talk,
                        hold_seconds=0,
                        reason="hangup",
                    ),
                )
        elif isinstance(n, AgentCallEnded):
            await self._call_ended(agent, n)
        elif isinstance(n, StateResynced):
            live = self.rt.ami.state(agent.pbx).agents.get(agent.interface)
            if live is not None:
                agent.state, agent.reason, agent.since = live.state.value, live.reason, live.since
            for client in self.desk_clients(uid):
                self.hub.send_to_client(client, self.snapshot_of(agent.user))

    def _phone(self, caller_num: str) -> str | None:
        if not caller_num or caller_num in ("<unknown>", "anonymous"):
            return None
        try:
            return normalize_phone(caller_num, self.rt.settings.telephony.default_region)
        except UserInputError:
            return None

    async def lookup(self, agent: DeskAgent, phone: str | None) -> dict[str, Any]:
        """What the pop shows about the caller, personal fields as the agent may see them.

        The permission is read in the pop's own query; the audit lines of the read go to the
        writer task (one INSERT), so the pop does not wait for them.
        """
        found = await repo.lookup_caller(
            self._lookups,
            phone,
            viewer_id=agent.user.id,
            today=self.rt.clock.now().date(),
            collection="collection" in agent.user.routines,
            sales="telesales" in agent.user.routines,
        )
        rows = _present_pop(Viewer(agent.user.id, agent.user.username), found)
        if rows:
            self._log.put_nowait(("audit", {"rows": rows}))
        return found

    def _is_dialer_call(self, pbx: str, linkedid: str) -> bool:
        """Whether a channel of the call runs in the PBX's dialer context (no query needed)."""
        context = self._dialer_contexts.get(pbx)
        return context is not None and self.rt.ami.state(pbx).call_runs_in(linkedid, context)

    async def _campaign_of(self, pbx: str, linkedid: str) -> dict[str, Any] | None:
        if self._campaign_pop is None or not self._is_dialer_call(pbx, linkedid):
            return None
        return await self._campaign_pop(linkedid)

    def _remember(self, user_id: int, pop: dict[str, Any]) -> None:
        self._pops[pop["id"]] = (user_id, pop)
        self._pops.move_to_end(pop["id"])
        while len(self._pops) > POPS_KEPT:
            self._pops.popitem(last=False)

    async def _ringing_pop(self, agent: DeskAgent, n: AgentRinging) -> None:
        campaign = await self._campaign_of(n.pbx, str(n.linkedid))
        # A dialer call shows the campaign's caller id; the person is the lead.
        phone = campaign["lead"]["phone"] if campaign else self._phone(n.caller_num)
        found = await self.lookup(agent, phone)
        pop = {
            "id": str(n.uniqueid),
            "linkedid": str(n.linkedid),
            "queue": n.queue,
            "caller_num": n.caller_num,
            "caller_name": n.caller_name,
            "phone": phone,
            "status": "ringing",
            "rang_at": n.at.isoformat(),
            "known": found["match"] is not None,
            **found,
            "campaign": campaign,
        }
        agent.pop = pop
        self._remember(agent.user.id, pop)
        self.push(agent.user.id, {"type": "pop", "pop": pop})
        self.pops_pushed += 1
        self._log.put_nowait(
            (
                "ring",
                {
                    "key": repo.CallKey(n.pbx, n.uniqueid),
                    "linkedid": n.linkedid,
                    "queue": n.queue,
                    "interface": n.interface,
                    "operator_id": agent.user.id,
                    "caller_num": n.caller_num,
                    "caller_name": n.caller_name,
                    "phone": phone,
                    "at": n.at,
                },
            )
        )

    def _kind_for(self, agent: DeskAgent, queue: str) -> AttentionKind:
        campaign = (agent.pop or {}).get("campaign")
        if campaign:
            return AttentionKind(campaign["campaign"]["kind"])
        for routine in agent.user.routines:
            if queue in self.rt.settings.desk.queues_for((routine,)):
                return AttentionKind(routine)
        return AttentionKind(agent.user.routines[0] if agent.user.routines else "telemarketing")

    async def _connected(self, agent: DeskAgent, n: AgentConnected) -> None:
        uid = agent.user.id
        if agent.pop is None or agent.pop["id"] != n.uniqueid:
            # Signed in while it rang: pop now.
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
            )
        assert agent.pop is not None
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
        )
        await self.refresh_attention(agent, attention_id)

    async def refresh_attention(self, agent: DeskAgent, attention_id: int) -> None:
        """Reload the agent's attention and push it with the footer."""
        agent.attention = await repo.attention_detail(
            self.rt.db, attention_id, Viewer(agent.user.id, agent.user.username)
        )
        agent.next_call = await repo.next_planned_call(
            self.rt.db, agent.user.id, after=self.rt.clock.now()
        )
        self.push(
            agent.user.id,
            {"type": "attention", "attention": agent.attention, "footer": agent.footer()},
        )

    async def _call_ended(self, agent: DeskAgent, n: AgentCallEnded) -> None:
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
        # Written here, in the agent's order, so the attention shown next holds the call's times.
        await repo.log_end(
            self.rt.db,
            repo.CallKey(n.pbx, n.uniqueid),
            at=n.at,
            outcome=CallOutcome.ANSWERED,
        )
        attention_id = (agent.attention or {}).get("id")
        if attention_id is not None:
            await self.refresh_attention(agent, attention_id)

    def clear(self, agent: DeskAgent) -> None:
        """The agent cleared the screen (Limpa Atendimento): pop, timer and attention reset."""
        agent.pop = None
        agent.call = None
        agent.attention = None
        self.push(agent.user.id, {"type": "cleared", "footer": agent.footer()})

    # --- the call log -------------------------------------------------------------------------

    async def _log_writer(self) -> None:
        while True:
            item = await self._log.get()
            if item is None:
                return
            what, args = item
            try:
                if what == "ring":
                    await repo.log_ring(self.rt.db, **args)
                elif what == "audit":
                    await write_reads(self.rt.db, args["rows"])
                else:
                    await repo.log_end(self.rt.db, **args)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("call log: writing %s failed", what)


def _present_pop(viewer: Viewer, found: dict[str, Any]) -> list[dict[str, Any]]:
    """Mask the pop's personal fields in place unless the viewer may see them (LGPD); the audit
    lines of this read (one per person shown: the customer, the contact or lead matched)."""
    allowed = bool(found.pop("personal_data", False))
    found["masked"] = not allowed
    customer, match = found.get("customer"), found.get("match")
    records: list[tuple[str, dict[str, Any]]] = []
    if customer:
        records.append((f"customer:{customer['id']}", customer))
    if match and match.get("kind") != "customer":
        records.append((f"{match['kind']}:{match['id']}", match))
    # Contacts and leads have a subset of a customer's personal fields.
    shown, rows = present(viewer, records, CUSTOMER_FIELDS, allowed=allowed, purpose="screen-pop")
    for (_, record), masked in zip(records, shown, strict=True):
        record.update((k, v) for k, v in masked.items() if k != "masked")
    if customer and match and match.get("kind") == "customer":
        match["name"] = customer["name"]
    return rows
