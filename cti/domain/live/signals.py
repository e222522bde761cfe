"""What the PBX says of calls cti placed or watches: Originate responses, the signals of the
dialer's dialplan, ChanSpy sessions."""

from __future__ import annotations

from typing import Any

from cti.domain.events import (
    ChannelInfo,
    DialerAgentReached,
    DialerAmdFinished,
    DialerCallDropped,
    DialerLegEnded,
    DialerMachineFound,
    DialerSignal,
    OriginateOutcome,
    OriginateResponded,
    SpyStarted,
    SpyStopped,
)
from cti.domain.live.core import StateCore
from cti.domain.live.entities import Spy
from cti.domain.live.transitions import AGENT_TRANSITIONS, AgentTrigger
from cti.domain.notices import (
    AgentState,
    AnyNotice,
    CallKind,
    DialerAbandoned,
    DialerAmdDecided,
    DialerConnected,
    DialerMachineHungUp,
    DialerUnanswered,
    OriginateFinished,
    SpyBegan,
)

ORIGINATE_REASONS: dict[int, OriginateOutcome] = {
    3: OriginateOutcome.NO_ANSWER,
    4: OriginateOutcome.ANSWERED,
    5: OriginateOutcome.BUSY,
    8: OriginateOutcome.CONGESTION,
}


def originate_outcome(success: bool, reason: int) -> OriginateOutcome:
    """Outcome of an OriginateResponse (reasons 3 no answer, 4 answered, 5 busy, 8 congestion)."""
    if success:
        return OriginateOutcome.ANSWERED
    outcome = ORIGINATE_REASONS.get(reason, OriginateOutcome.FAILED)
    return OriginateOutcome.FAILED if outcome is OriginateOutcome.ANSWERED else outcome


def _id(text: str) -> int | None:
    """A CTI_* id as the dialplan echoed it; None when empty or not a number."""
    return int(text) if text.isdigit() else None


class SignalHandlers(StateCore):
    """Originate responses, the dialer's UserEvents, ChanSpy start and stop."""

    # --- originate ------------------------------------------------------------------------------

    def _on_originate(self, ev: OriginateResponded) -> None:
        outcome = originate_outcome(ev.success, ev.reason)
        if ev.uniqueid is not None:
            ch = self.channels.get(ev.uniqueid)
            if ch is not None:
                ch.action_id = ev.action_id
                call = self.calls.get(ch.linkedid)
                if call is not None:
                    call.action_id = ev.action_id
        self._out.append(
            OriginateFinished(
                pbx=self.pbx,
                at=ev.at,
                action_id=ev.action_id,
                outcome=outcome,
                reason_code=ev.reason,
                uniqueid=ev.uniqueid,
            )
        )

    # --- the dialer's dialplan ------------------------------------------------------------------

    def _on_dialer(self, ev: DialerSignal) -> None:
        base: dict[str, Any] = {
            "pbx": self.pbx,
            "at": ev.at,
            "uniqueid": ev.chan.uniqueid,
            "linkedid": ev.chan.linkedid,
            "campaign_id": _id(ev.campaign),
            "lead_id": _id(ev.lead),
            "attempt_id": _id(ev.attempt),
        }
        notice: AnyNotice
        if isinstance(ev, DialerLegEnded):
            notice = DialerUnanswered(dial_status=ev.dial_status, **base)
        elif isinstance(ev, DialerAmdFinished):
            notice = DialerAmdDecided(amd_status=ev.amd_status, amd_cause=ev.amd_cause, **base)
        elif isinstance(ev, DialerMachineFound):
            notice = DialerMachineHungUp(**base)
        elif isinstance(ev, DialerCallDropped):
            notice = DialerAbandoned(
                queue=ev.queue, queue_status=ev.queue_status, agent=ev.agent, **base
            )
        elif isinstance(ev, DialerAgentReached):
            notice = DialerConnected(agent=ev.agent, **base)
            self._preview_connected(ev)
        else:
            return
        self._out.append(notice)

    def _preview_connected(self, ev: DialerAgentReached) -> None:
        """A preview call's customer answered the agent who dialled (or a blind transfer's agent
        answered): the agent is on a call until their channel (or the whole call) ends, as after
        a queue connect. The dialer's own notices tell the desk; no AgentConnected or
        AgentCallEnded is made for it (no queue took it)."""
        agent = self.agents.get(ev.agent)
        if agent is None:
            return  # not a queue member: nothing to follow
        if agent.state is AgentState.IN_CALL and (
            agent.call_kind in (CallKind.QUEUE, CallKind.OUTBOUND) or agent.call != ev.chan.linkedid
        ):
            return  # a duplicate, or the agent is on another call
        if (agent.state, AgentTrigger.CONNECTED) not in AGENT_TRANSITIONS:
            return  # offline: the phone is not a member's now
        own = next(
            (
                c
                for c in self.channels.values()
                if c.linkedid == ev.chan.linkedid and c.name.startswith(f"{ev.agent}-")
            ),
            None,
        )
        bridged = agent.state is AgentState.IN_CALL  # its bridge came first: it is the same call
        # Said by the customer's channel when the agent dialled; by the agent's own phone when a
        # caller was sent to them (a blind transfer, a reloaded desk's call taken back).
        theirs = ev.chan.channel.startswith(f"{ev.agent}-")
        kind = CallKind.DIRECT if theirs else CallKind.OUTBOUND
        self._move(agent, AgentTrigger.CONNECTED, ev.at, kind=kind)
        agent.call, agent.call_queue = ev.chan.linkedid, ""
        if not bridged or agent.connected_at is None:
            agent.connected_at = ev.at
        agent.caller = None  # no queue caller: its end is the dialer's to report
        agent.ringing_for = agent.ringing_queue = agent.ringing_since = None
        agent.channel = own.uniqueid if own is not None else None

    # --- ChanSpy (supervisor listen / whisper / barge) ---------------------------------------------

    def _spied_agent(self, spyee: ChannelInfo) -> str | None:
        for agent in self.engaged.find(("channel", spyee.uniqueid)):
            return agent.interface
        base = spyee.channel.rpartition("-")[0]
        return base if base in self.agents else None

    def _on_spy_started(self, ev: SpyStarted) -> None:
        if self._channel(ev.spyer, ev.at) is None:
            return  # the listening phone already hung up
        uid = ev.spyer.uniqueid
        old = self.spies.get(uid)
        if old is not None:
            if old.spyee == ev.spyee.uniqueid:
                return  # a duplicate
            # One phone moved on to another channel (ChanSpy without "E" follows the agent into
            # the next call): that is a new session, and the old one is over.
            self._spy_ended(uid, ev.at)
        spy = Spy(
            spyer=uid,
            spyer_channel=ev.spyer.channel,
            spyee=ev.spyee.uniqueid,
            spyee_channel=ev.spyee.channel,
            spyee_linkedid=ev.spyee.linkedid,
            agent=self._spied_agent(ev.spyee),
            since=ev.at,
        )
        self.spies[uid] = spy
        self._out.append(
            SpyBegan(
                pbx=self.pbx,
                at=ev.at,
                spyer=uid,
                spyer_channel=spy.spyer_channel,
                spyee_channel=spy.spyee_channel,
                spyee_linkedid=spy.spyee_linkedid,
                agent=spy.agent,
            )
        )

    def _on_spy_stopped(self, ev: SpyStopped) -> None:
        if ev.spyer.uniqueid in self.spies:
            self._spy_ended(ev.spyer.uniqueid, ev.at)
