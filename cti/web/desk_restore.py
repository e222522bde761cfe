"""The desks come back after cti restarts: who sits where, and the call in progress.

cti keeps its desk agents in memory, the PBX keeps its queue members and calls, and the database
the sessions and the call log. After each resynchronisation with a PBX (the first one after start
included), every queue member nobody holds at a desk here is matched to an operator whose phone it
is and who still has a live session: their desk agent is made again (paused as the PBX says), and
a call they are on gets its pop, timer and attention back from the call log (a call answered while
cti was away is opened as a connect would open it). The desk's snapshot then shows it all; an
operator with no live session is left alone (their member stays as the PBX has it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from cti.db import sessions as sessions_repo
from cti.db.desk.calls import CallInProgress, call_in_progress
from cti.domain.events import UniqueId
from cti.domain.notices import AgentConnected, AnyNotice, StateResynced
from cti.web.auth import SignedIn, signed_in_of
from cti.web.desk_agent import DeskAgent, epoch_ms
from cti.web.desk_service import DeskService

log = logging.getLogger("cti.web.desk")


MayHold = Callable[[int, str, str], Awaitable[bool]]


async def _anyone_may(user_id: int, pbx: str, interface: str) -> bool:
    return True


class DeskRestorer:
    """Makes the desks of signed-in operators again after each resync with a PBX.

    ``may_hold(user id, pbx, interface)`` says whether this instance may hold that desk (of
    several instances, the one that claims it first); ``lock`` is held while a desk is made.
    """

    def __init__(
        self,
        service: DeskService,
        *,
        may_hold: MayHold = _anyone_may,
        lock: asyncio.Lock | None = None,
    ) -> None:
        self._service = service
        self._rt = service.rt
        self.may_hold = may_hold
        self.lock = lock or asyncio.Lock()
        self._unsubscribe: Any = None
        self._tasks: set[asyncio.Task[list[str]]] = set()

    def start(self) -> None:
        self._unsubscribe = self._rt.ami.subscribe(self._on_notice)
        # A PBX already resynchronised before the desk started: its state is there now.
        for pbx, status in self._rt.ami.status().items():
            if status == "connected":
                self._schedule(pbx)

    def _schedule(self, pbx: str) -> None:
        task = asyncio.get_running_loop().create_task(
            self._restore_logged(pbx), name=f"desk-restore-{pbx}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _on_notice(self, notice: AnyNotice) -> None:
        if isinstance(notice, StateResynced):
            self._schedule(notice.pbx)

    async def _restore_logged(self, pbx: str) -> list[str]:
        try:
            return await self.restore(pbx)
        except Exception:
            log.exception("desks on %s could not be restored", pbx)
            return []

    async def restore(self, pbx: str) -> list[str]:
        """Make the desk agents of ``pbx``'s members again; the user names restored."""
        service = self._service
        state = self._rt.ami.state(pbx)
        members: dict[str, set[str]] = {}
        for name, queue in state.queues.items():
            for interface in queue.members:
                members.setdefault(interface, set()).add(name)
        free = [i for i in members if service.holder_of(pbx, i) is None]
        accounts = await sessions_repo.signed_in_at(self._rt.db, free, self._rt.clock.now())
        restored: list[str] = []
        for account in accounts:
            user = signed_in_of(account)
            interface = user.extension or ""
            queues = self._rt.settings.desk.queues_for(user.routines)
            async with self.lock:
                if (
                    not queues
                    or interface not in members
                    or service.agent_of(user.id) is not None
                    or service.holder_of(pbx, interface) is not None
                    or not await self.may_hold(user.id, pbx, interface)
                ):
                    continue
                await self.seat(user, pbx, interface, queues)
            restored.append(user.username)
            log.info("desk of %s at %s restored", user.username, interface)
        return restored

    async def seat(
        self, user: SignedIn, pbx: str, interface: str, queues: tuple[str, ...]
    ) -> DeskAgent:
        """Make the desk agent of an operator whose phone is a queue member, with the call
        they are on; their open desk pages get the snapshot."""
        service = self._service
        agent = service.add(user, pbx, interface, queues)
        await self._restore_call(agent)
        service.push(user.id, service.snapshot_of(user))
        return agent

    async def _restore_call(self, agent: DeskAgent) -> None:
        """The call the agent is on, from the PBX's state and the call log."""
        state = self._rt.ami.state(agent.pbx)
        live = state.agents.get(agent.interface)
        call = state.calls.get(live.call) if live is not None and live.call else None
        if live is None or call is None:
            return
        found = await call_in_progress(self._rt.db, agent.pbx, agent.interface, str(call.linkedid))
        if found is not None and found.attention_id is not None:
            await self._show_logged(agent, found)
            return
        # Answered while cti was away: opened as a connect opens it (pop, attention, call log).
        uniqueid = found.key.uniqueid if found is not None else live.caller
        first = state.channels.get(UniqueId(str(call.linkedid)))
        if (
            uniqueid is None
            and first is not None
            and first.uniqueid in call.channels
            and not first.name.startswith(f"{agent.interface}-")
        ):
            # Answered while cti was away, its AgentConnect never seen: the caller's channel is
            # the one the call began with (its linkedid), as a queue call's caller is, unless
            # that is the agent's own phone.
            uniqueid = first.uniqueid
        if uniqueid is None:
            log.warning(
                "desk of %s: the call in progress has no caller channel", agent.user.username
            )
            return
        agent.inbox.put_nowait(
            AgentConnected(
                pbx=agent.pbx,
                at=call.answered_at or live.connected_at or live.since,
                queue=call.queue or live.call_queue,
                interface=agent.interface,
                member_name=agent.user.full_name,
                caller_num=call.caller_num,
                caller_name=call.caller_name,
                uniqueid=UniqueId(uniqueid),
                linkedid=call.linkedid,
                hold_seconds=0,
                ring_seconds=0,
            )
        )

    async def _show_logged(self, agent: DeskAgent, found: CallInProgress) -> None:
        service = self._service
        campaign = await service._campaign_of(agent.pbx, found.linkedid)
        phone = campaign["lead"]["phone"] if campaign else found.phone
        seen = await service.lookup(agent, phone)
        pop = {
            "id": found.key.uniqueid,
            "linkedid": found.linkedid,
            "queue": found.queue,
            "caller_num": found.caller_num,
            "caller_name": found.caller_name,
            "phone": phone,
            "status": "answered",
            "rang_at": found.answered_at.isoformat(),
            "known": seen["match"] is not None,
            **seen,
            "campaign": campaign,
        }
        agent.pop = pop
        service._remember(agent.user.id, pop)
        service.audit_pop(agent, pop)
        agent.call = {
            "uniqueid": found.key.uniqueid,
            "linkedid": found.linkedid,
            "queue": found.queue,
            "caller_num": found.caller_num,
            "caller_name": found.caller_name,
            "answered_at": found.answered_at.isoformat(),
            "answered_ms": epoch_ms(found.answered_at),
            "ended_ms": None,
        }
        assert found.attention_id is not None
        await service.refresh_attention(agent, found.attention_id)
