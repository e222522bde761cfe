"""The screen-pop: who is calling an agent and what the desk shows of them as the call rings.

A base of :class:`cti.web.desk_service.DeskService`: the caller's number made a phone number, the
caller (customer, contact or lead) looked up in one query with their history, debts and orders
(:class:`cti.db.desk.PopLookup`), a dialer's call shown with its campaign and lead, the pop pushed
to the agent's desk, and the ring written to the call log with the pop's audit lines, in order
behind it. Pops are kept a while for their owner to read back.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from cti.db import desk as repo
from cti.db.backoffice.personal import Viewer, read_rows, write_reads
from cti.db.dialer.pop import lead_for_call
from cti.domain.model import AttentionKind
from cti.domain.notices import AgentRinging
from cti.domain.phone import normalize_phone
from cti.errors import UserInputError
from cti.web.desk_agent import SCREEN_POP, CampaignPop, DeskAgent, pop_parts
from cti.web.personal import permission

if TYPE_CHECKING:
    from cti.runtime import Runtime
    from cti.web.writes import OrderedWrites

# Pops kept for reading back (by their owner only).
POPS_KEPT = 2000

# What a pop of a transferred caller adds (the agent rung, the PBX, the call's linkedid).
TransferPop = Callable[[DeskAgent, str, str], Awaitable[dict[str, Any] | None]]


class ScreenPops:
    """The desk service's half that pops the caller on the agent's screen."""

    if TYPE_CHECKING:
        # What the desk service provides.
        rt: Runtime
        _lookups: repo.PopLookup
        _writes: OrderedWrites
        _campaign_pop: CampaignPop | None
        _dialer_contexts: dict[str, str | None]
        _pops: OrderedDict[str, tuple[int, dict[str, Any]]]
        pops_pushed: int
        transfer_pop: TransferPop | None

        def push(self, user_id: int, message: dict[str, Any]) -> None: ...

    def pop_for(self, pop_id: str) -> tuple[int, dict[str, Any]] | None:
        """A recent pop and the operator it was pushed to."""
        return self._pops.get(pop_id)

    def _phone(self, caller_num: str) -> str | None:
        if not caller_num or caller_num in ("<unknown>", "anonymous"):
            return None
        try:
            return normalize_phone(caller_num, self.rt.settings.telephony.default_region)
        except UserInputError:
            return None

    async def lookup(self, agent: DeskAgent, phone: str | None) -> dict[str, Any]:
        """What the pop shows about the caller (unmasked: frames are masked as they are sent).

        The permission is read in the pop's own query and kept on the agent for the frames.
        """
        found = await repo.lookup_caller(
            self._lookups,
            phone,
            viewer_id=agent.user.id,
            today=self.rt.clock.now().date(),
            collection="collection" in agent.user.routines,
            sales="telesales" in agent.user.routines,
        )
        agent.personal_data = bool(found.pop("personal_data", False))
        if not phone:
            # No number to look up (a withheld caller id, a call put straight through): the
            # permission is read on its own, or an agent allowed to see personal data would be
            # shown this call masked.
            agent.personal_data = await permission(self.rt.db, agent.user.id)
        if found.get("customer") and (match := found.get("match")) and match["kind"] == "customer":
            match["name"] = found["customer"]["name"]
        return found

    def audit_pop(self, agent: DeskAgent, pop: dict[str, Any]) -> None:
        """Write the audit lines of showing ``pop`` to the agent (behind the pop, by the writer)."""
        rows = self._pop_reads(agent, pop)
        if rows:
            self._writes.put("audit", partial(write_reads, self.rt.db, rows))

    @staticmethod
    def _pop_reads(agent: DeskAgent, pop: dict[str, Any]) -> list[dict[str, Any]]:
        """The audit lines of showing ``pop`` to the agent."""
        return read_rows(
            Viewer(agent.user.id, agent.user.username),
            pop_parts(pop),
            allowed=agent.personal_data,
            purpose=SCREEN_POP,
        )

    def _is_dialer_call(self, pbx: str, linkedid: str) -> bool:
        """Whether a channel of the call runs in the PBX's dialer context (no query needed)."""
        context = self._dialer_contexts.get(pbx)
        return context is not None and self.rt.ami.state(pbx).call_runs_in(linkedid, context)

    async def _campaign_of(
        self, pbx: str, linkedid: str, *, dialer: bool = False, lead: int | None = None
    ) -> dict[str, Any] | None:
        """The dialer's pop of a call: known to be the dialer's (``dialer``), or running in its
        context (a queue call the dialer placed); ``lead``: a lead called back from the desk."""
        if lead is not None:
            return await lead_for_call(self.rt.db, lead_id=lead)
        if self._campaign_pop is None or not (dialer or self._is_dialer_call(pbx, linkedid)):
            return None
        return await self._campaign_pop(linkedid)

    def _remember(self, user_id: int, pop: dict[str, Any]) -> None:
        self._pops[pop["id"]] = (user_id, pop)
        self._pops.move_to_end(pop["id"])
        while len(self._pops) > POPS_KEPT:
            self._pops.popitem(last=False)

    async def _ringing_pop(
        self, agent: DeskAgent, n: AgentRinging, *, dialer: bool = False, lead: int | None = None
    ) -> None:
        campaign = await self._campaign_of(n.pbx, str(n.linkedid), dialer=dialer, lead=lead)
        # A dialer call shows the campaign's caller id; the person is the lead.
        phone = campaign["lead"]["phone"] if campaign else self._phone(n.caller_num)
        found = await self.lookup(agent, phone)
        # One caller per screen: the last call's attention leaves it (the desk keeps one still
        # open in its own tab until it is disposed).
        agent.attention = None
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
        if self.transfer_pop is not None:
            # A caller transferred here (cti.web.desk_transfer): who they are and the
            # transferring agent's attention, as that agent's pop had them.
            pop.update(await self.transfer_pop(agent, n.pbx, str(n.linkedid)) or {})
        agent.pop = pop
        self._remember(agent.user.id, pop)
        self.push(agent.user.id, {"type": "pop", "pop": pop})
        self.pops_pushed += 1
        # The ring and the pop's audit lines, in one transaction behind the pop.
        self._writes.put(
            "ring",
            partial(
                repo.log_ring,
                self.rt.db,
                repo.CallKey(n.pbx, n.uniqueid),
                linkedid=n.linkedid,
                queue=n.queue,
                interface=n.interface,
                operator_id=agent.user.id,
                caller_num=n.caller_num,
                caller_name=n.caller_name,
                phone=phone,
                at=n.at,
                reads=self._pop_reads(agent, pop),
            ),
        )

    def _kind_for(self, agent: DeskAgent, queue: str) -> AttentionKind:
        campaign = (agent.pop or {}).get("campaign")
        if campaign:
            return AttentionKind(campaign["campaign"]["kind"])
        for routine in agent.user.routines:
            if queue in self.rt.settings.desk.queues_for((routine,)):
                return AttentionKind(routine)
        return AttentionKind(agent.user.routines[0] if agent.user.routines else "telemarketing")


__all__ = ["POPS_KEPT", "ScreenPops", "TransferPop"]
