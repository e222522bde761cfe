"""A call that outlives its browser phone: the desk page was reloaded (or its network blinked)
mid-call, so the agent's WebRTC leg is gone while the caller is still there, on Asterisk.

The reloaded page registers its phone again, sees from the desk's snapshot that a call is still
up with no phone session of its own, and asks ``POST /api/v1/desk/call/recover``. cti then
redirects the caller (AMI ``Redirect``, as a blind transfer does) to ``[cti-transfer]
agent-recover``, which hears music on hold while it rings the same agent, and the page answers
the call it asked for by itself. Asterisk hangs the dead leg up as the caller leaves it; the
caller never is. Once the agent answers, Dial's ``U()`` tells cti (``CtiDialerConnected``), and
the desk goes on with the same call: pop, timer from the first answer, attention, no wrap-up in
between. Unanswered within the dialplan's limit (20 s), the caller goes back to the queue with
the highest priority, and this agent's call ends as any call does (wrap-up, attention pending).

A phone that is not the desk's own (an external SIP phone) does not lose its call with the page,
so recovery is refused for it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from cti.domain.notices import AgentCallEnded, AnyNotice, CallerJoined, DialerConnected
from cti.web.desk_agent import DeskAgent

log = logging.getLogger("cti.web.desk")

# The dialplan's extension that rings the agent again, and the queue it falls back to.
RECOVER_EXTEN = "agent-recover"
RECOVER_QUEUE_VARIABLE = "CTI_RECOVER_QUEUE"


class CallRecovery:
    """The desk service's half that keeps a call across its agent's new phone leg."""

    if TYPE_CHECKING:
        # What the desk service provides.
        _direct: dict[tuple[str, str], DeskAgent]
        # The agents whose caller is being rung back, by (pbx, linkedid).
        _recovering: dict[tuple[str, str], DeskAgent]

        def push(self, user_id: int, message: dict[str, Any]) -> None: ...

        def follow_direct(self, agent: DeskAgent, linkedid: str) -> None: ...

        async def _call_ended(self, agent: DeskAgent, n: AgentCallEnded) -> None: ...

        async def refresh_attention(self, agent: DeskAgent, attention_id: int) -> None: ...

    def begin_recovery(self, agent: DeskAgent, linkedid: str) -> None:
        """The caller of ``linkedid`` is being rung back on the agent's new phone leg."""
        agent.recovering = linkedid
        self._recovering[(agent.pbx, linkedid)] = agent

    def end_recovery(self, agent: DeskAgent) -> None:
        """The call is back, gone back to the queue, or could not be taken back."""
        if agent.recovering is not None:
            self._recovering.pop((agent.pbx, agent.recovering), None)
        agent.recovering = None

    def recovering_agent(self, notice: CallerJoined) -> DeskAgent | None:
        """The agent whose call this caller was coming back to, now back in a queue."""
        return self._recovering.get((notice.pbx, str(notice.linkedid)))

    async def recovery_handles(self, agent: DeskAgent, n: AnyNotice) -> bool:
        """Run in the agent's order before anything else: True when ``n`` belongs to a call being
        taken back, and is dealt with here."""
        if not isinstance(n, AgentCallEnded | DialerConnected | CallerJoined):
            return False
        linkedid = str(n.linkedid)
        if isinstance(n, AgentCallEnded) and linkedid in (agent.recovering, agent.recovered):
            # The dead leg, hung up as the caller left it (or the queue's word on it, late): the
            # call goes on, and ends when the caller or the agent hangs the new leg up.
            log.info("desk of %s: the lost phone leg's end is not the call's", agent.user.username)
            return True
        if linkedid != agent.recovering:
            return False
        if isinstance(n, DialerConnected):
            self.end_recovery(agent)
            agent.recovered = linkedid
            if agent.pop is not None:
                agent.pop["status"] = "answered"
            log.info("desk of %s: the call is back on the new phone leg", agent.user.username)
            self.push(
                agent.user.id,
                {"type": "connected", "call": agent.call, "timer": agent.timer(), "pop": agent.pop},
            )
            if (attention_id := (agent.attention or {}).get("id")) is not None:
                await self.refresh_attention(agent, attention_id)  # the same one, shown again
            return True
        if isinstance(n, CallerJoined):
            # Not answered in time: the caller waits at the head of the queue for someone else,
            # and this agent's part of the call is over.
            self.end_recovery(agent)
            self._direct.pop((agent.pbx, linkedid), None)  # its end is someone else's now
            call = agent.call or {}
            await self._call_ended(
                agent,
                AgentCallEnded(
                    pbx=n.pbx,
                    at=n.at,
                    queue=str(call.get("queue") or ""),
                    interface=agent.interface,
                    member_name=agent.user.full_name,
                    caller_num=str(call.get("caller_num") or ""),
                    caller_name=str(call.get("caller_name") or ""),
                    uniqueid=n.uniqueid,
                    linkedid=n.linkedid,
                    talk_seconds=agent.talked_until(n.at),
                    hold_seconds=0,
                    reason="returned",
                ),
            )
            return True
        return False


__all__ = ["RECOVER_EXTEN", "RECOVER_QUEUE_VARIABLE", "CallRecovery"]
