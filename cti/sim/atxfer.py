"""What AMI ``Atxfer`` and ``CancelAtxfer`` do inside the PBX: Asterisk's attended transfer, as
the pbx tier shows it on Asterisk 22 (``tests/pbx/test_transfer.py``).

``Atxfer`` on an agent's channel bridged to a queue caller: the agent's channel leaves the caller's
bridge (the caller stays there, on hold) and enters a new bridge with the ``;1`` half of
``Local/<exten>@<context>``, whose ``;2`` half runs the extension: cti's ``cti-transfer`` context
dials the agent in ``CTI_TRANSFER_TO`` (``agent``) or the number through the carrier. The extension
is the channel's ``TRANSFER_EXTEN`` when set (Asterisk's override), else the action's ``Exten``.

The agent's channel hanging up (AMI ``Hangup``, or their phone) completes it: app_queue's
``AgentComplete`` for the agent at once (reason ``transfer``), the Local pair goes and the target
is bridged with the caller. ``CancelAtxfer``, or the target hanging up or not answering, brings the
agent back to the caller.
"""

from __future__ import annotations

from cti.sim.flows import AgentLeg, Consultation, DialApp, QueueCaller, Transferred, cancel
from cti.sim.manager import ManagerActions
from cti.sim.model import CALL, UP, Channel


def _variable(ch: Channel, name: str) -> str:
    """A channel variable set with or without its inheritance underscores (``__NAME``)."""
    for key in (name, f"_{name}", f"__{name}"):
        if ch.variables.get(key):
            return ch.variables[key]
    return ""


class AttendedTransfers(ManagerActions):
    """Atxfer, CancelAtxfer, and the agent's hangup that completes a consultation."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Consultations in progress, by the consulting agent's channel name.
        self._consults: dict[str, Consultation] = {}

    def atxfer(self, name: str, context: str, exten: str) -> str | None:
        """Start a consultation from the agent's channel ``name``; an error text if it cannot."""
        ch = self.channels.get(name)
        leg = ch.owner if ch is not None else None
        if ch is None or not isinstance(leg, AgentLeg) or leg.answered_at is None:
            return "Channel is not in a bridge"
        if leg.caller.state != "bridged" or ch.bridge is None or ch.name in self._consults:
            return "Channel is not in a bridge"
        target = ch.variables.get("TRANSFER_EXTEN") or exten
        context = ch.variables.get("TRANSFER_CONTEXT") or context or ch.context
        caller_bridge = ch.bridge
        self._leave(caller_bridge, ch)
        self._moh(leg.caller.chan, start=True)
        one, two = self._local_pair(target, context, linkedid=ch.linkedid)
        self._state(one, UP)
        self._state(two, UP)
        self._local_bridge(one, two, optimize=True)
        bridge = self._new_bridge()
        self._enter(bridge, ch)
        self._enter(bridge, one)
        cons = Consultation(
            leg=leg, agent=ch, caller_bridge=caller_bridge, one=one, two=two, bridge=bridge
        )
        self._consults[ch.name] = cons
        to = _variable(ch, "CTI_TRANSFER_TO")
        if target == "agent" and to:
            self._exten(two, 2, "Dial", f"{to},30,t")
            cons.dial = self._dial_start(two, to, to.partition("/")[2], limit=20.0)
        elif target.lstrip("+").isdigit() and len(target) >= 5:
            self._exten(two, 1, "Dial", f"PJSIP/{target}@carrier,60")
            cons.dial = self._dial_start(
                two,
                "PJSIP/carrier",
                f"{target}@carrier",
                limit=60.0,
                plan=self.customer_plan(target),
            )
        else:
            # No route the simulator plays (a queue): the Local channel hangs up at once.
            self._exten(two, 1, "Hangup", "")
            self._consult_over(cons)
            return None
        cons.dial.owner = cons
        return None

    def cancel_atxfer(self, name: str) -> None:
        """The agent keyed atxferabort: back to the caller (nothing happens when not consulting)."""
        cons = self._consults.get(name)
        if cons is not None:
            self._consult_over(cons)

    def _consult_over(self, cons: Consultation) -> None:
        """The consultation ends without a transfer: the target's leg and the Local pair hang up,
        the agent goes back into the caller's bridge."""
        if cons.done:
            return
        cons.done = True
        self._consults.pop(cons.agent.name, None)
        dial = cons.dial
        if dial is not None and not dial.done:
            self._dial_caller_gone(dial)
        if cons.two.alive:
            self._hangup_event(cons.two, 16)
        self._leave(cons.bridge, cons.one)
        if cons.one.alive:
            self._hangup_event(cons.one, 16)
        self._leave(cons.bridge, cons.agent)
        self.emit("BridgeDestroy", CALL, cons.bridge.block())
        self._moh(cons.leg.caller.chan, start=False)
        self._enter(cons.caller_bridge, cons.agent)
        self._settle(cons.caller_bridge)

    def _consult_complete(self, cons: Consultation, *, soft: bool) -> None:
        """The agent hangs up while consulting: the caller goes to the target."""
        dial = cons.dial
        if dial is None or not dial.answered or dial.done:
            # Not answered (yet): the simulator brings the agent back rather than ring on.
            self._consult_over(cons)
            return
        cons.done = True
        self._consults.pop(cons.agent.name, None)
        leg, agent = cons.leg, cons.agent
        c = leg.caller
        cancel(leg.timers)
        cancel(c.timers)
        c.state = "done"
        if soft:
            self._soft(agent, 16)
        else:
            self._hreq(agent, 16)
        self._leave(cons.bridge, agent)
        self._agent_complete(
            c.queue,
            leg.member,
            c.chan,
            agent,
            hold=c.hold_seconds,
            connected_at=c.connected_at,
            reason="transfer",
        )
        self._hangup_event(agent, 16)
        self._agent_leg_over(leg)
        # The Local pair optimises away: the target joins the caller's bridge.
        cancel(dial.timers)
        target = dial.callee
        if dial.bridge is not None:
            self._leave(dial.bridge, target)
            self._leave(dial.bridge, cons.two)
            self.emit("BridgeDestroy", CALL, dial.bridge.block())
            dial.bridge = None
        self._leave(cons.bridge, cons.one)
        self.emit("BridgeDestroy", CALL, cons.bridge.block())
        dial.done = True
        self._hangup_event(cons.one, 16)
        self._hangup_event(cons.two, 16)
        self._moh(c.chan, start=False)
        self._enter(cons.caller_bridge, target)
        self._settle(cons.caller_bridge)
        t = Transferred(chan=c.chan, kind=c.kind, partner=c.partner, origin=c.origin)
        c.chan.owner = t
        if c.partner is not None:
            c.partner.owner = t
        t.dial = DialApp(
            caller=c.chan,
            callee=target,
            limit=0.0,
            customer=dial.customer,
            answered=True,
            bridge=cons.caller_bridge,
            owner=t,
        )
        target.owner = t.dial
        self._distribute(c.queue)

    # --- hooks into the other flows ---------------------------------------------------------

    def hangup(self, name: str, cause: int = 16) -> bool:
        cons = self._consults.get(name)
        if cons is not None:
            self._consult_complete(cons, soft=True)
            return True
        return super().hangup(name, cause)

    def remote_hangup(self, name: str) -> bool:
        cons = self._consults.get(name) or next(
            (c for c in self._consults.values() if c.agent.device == name), None
        )
        if cons is not None:
            self._consult_complete(cons, soft=False)
            return True
        return super().remote_hangup(name)

    def _transfer_runs(self, t: Transferred, context: str, exten: str) -> None:
        """A blind transfer (AMI Redirect) into ``cti-transfer``: the agent in CTI_TRANSFER_TO
        (``agent-blind``: Dial's U() says CtiDialerConnected once they answer), the queue in it,
        or a number (as from-agents dials it)."""
        if context != "cti-transfer":
            super()._transfer_runs(t, context, exten)
            return
        ch = t.chan
        to = _variable(ch, "CTI_TRANSFER_TO")
        if exten in ("agent", "agent-blind", "agent-recover") and to:
            limit = 20.0 if exten == "agent-recover" else 30.0
            self._exten(ch, 2, "Dial", f"{to},{limit:.0f},t")
            t.dial = self._dial_start(ch, to, to.partition("/")[2], limit=limit)
            t.dial.owner = t
        elif exten == "queue" and to in self.queues:
            self._exten(ch, 2, "Queue", f"{to},t")
            self._queue_join(
                QueueCaller(
                    chan=ch, queue=self.queues[to], kind=t.kind, partner=t.partner, origin=t.origin
                )
            )
        else:
            super()._transfer_runs(t, "from-agents", exten)

    def _dial_answered_hook(self, dial: DialApp) -> None:
        t = dial.owner
        if isinstance(t, Transferred) and t.chan.exten in ("agent-blind", "agent-recover"):
            callee = dial.callee
            callee.context, callee.exten = "cti-dialer-connected", "s"
            self._user_event(
                callee,
                "CtiDialerConnected",
                ("Agent", _variable(t.chan, "CTI_TRANSFER_TO")),
                ("Campaign", ""),
                ("Lead", ""),
                ("Attempt", ""),
            )
            self._exten(callee, 2, "Return", "")
            return
        super()._dial_answered_hook(dial)

    def _dial_returned(self, dial: DialApp, status: str) -> None:
        t = dial.owner
        if isinstance(t, Consultation):
            self._consult_over(t)  # the target did not answer, or hung up
            return
        back_to = _variable(t.chan, "CTI_RECOVER_QUEUE") if isinstance(t, Transferred) else ""
        if (
            isinstance(t, Transferred)
            and t.chan.exten == "agent-recover"
            and status != "ANSWER"
            and back_to in self.queues
        ):
            # The agent's phone did not take its caller back in time: the caller waits in the
            # call's queue again (Asterisk puts them first, QUEUE_PRIO=100; here, last).
            t.dial = None
            self._exten(t.chan, 6, "Queue", f"{back_to},t")
            self._queue_join(
                QueueCaller(
                    chan=t.chan,
                    queue=self.queues[back_to],
                    kind=t.kind,
                    partner=t.partner,
                    origin=t.origin,
                )
            )
            return
        super()._dial_returned(dial, status)
