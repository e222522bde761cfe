"""What the manager actions Hangup, Redirect (a blind transfer), Setvar and Getvar do inside the PBX
(the AMI side of them is :mod:`cti.sim.actions`)."""

from __future__ import annotations

from cti.sim.flows import AgentLeg, DialApp, Originated, PhoneCall, QueueCaller, Transferred, cancel
from cti.sim.model import CALL, DIALPLAN
from cti.sim.queue_ringing import QueueRinging


class ManagerActions(QueueRinging):
    """Hangup (AMI's, or the far end's), Redirect and channel variables."""

    # --- hangup, redirect, variables ---------------------------------------------------------

    def hangup(self, name: str, cause: int = 16) -> bool:
        """Hang up a channel (AMI Hangup), or the call on a member interface; False if none."""
        ch = self.channels.get(name)
        if ch is None:
            for candidate in self.channels.values():
                leg = candidate.owner
                if isinstance(leg, AgentLeg) and name in (
                    leg.member.interface,
                    leg.member.state_interface,
                ):
                    ch = leg.one
                    break
                if isinstance(leg, PhoneCall | DialApp) and name == candidate.device:
                    ch = candidate
                    break
        if ch is None:
            return False
        owner = ch.owner
        if isinstance(owner, AgentLeg):
            if owner.answered_at is None:
                self._soft(ch, cause)
                self._ring_again(owner, "BUSY")
            else:
                self.agent_hangup(owner, soft_on=ch)
        elif isinstance(owner, QueueCaller):
            self._soft(ch, cause)
            if ch is owner.chan:
                self._caller_gone(owner, request_done=owner.kind != "local")
            else:
                if owner.origin is not None and ch is owner.origin.one:
                    owner.origin.done = True
                self._caller_gone(owner, request_done=False)
        elif isinstance(owner, Originated):
            if not owner.answered:
                self._soft(ch, cause)
                owner.done = True
                cancel(owner.timers)
                self._hangup_event(owner.two, cause)
                self._hangup_event(owner.one, cause)
                self.emit_originate_failure(
                    owner.action_id,
                    owner.dial_string,
                    owner.app,
                    owner.data,
                    reason=1,
                    cid=(owner.one.cid_num, owner.one.cid_name),
                )
                self._dsc(owner.one.device, "NOT_INUSE")
            elif ch is owner.two:
                self._soft(ch, cause)
                self._two_ends(owner, cause)
            else:
                self._soft(ch, cause)
                self._one_ends(owner)
        elif isinstance(owner, PhoneCall):
            self._soft(ch, cause)
            if owner.answered:
                self._phone_call_gone(owner, cause)
            else:
                self._phone_not_answered(owner, 5)
        elif isinstance(owner, DialApp):
            self._soft(ch, cause)
            if owner.answered:
                self._dial_callee_hangs_up(owner, request=False)
            else:
                self._dial_failed(owner, "BUSY")
        elif isinstance(owner, Transferred):
            self._soft(ch, cause)
            self._transfer_ends(owner, cause)
        else:
            self._soft(ch, cause)
            self._hangup_event(ch, cause)
        return True

    def remote_hangup(self, name: str) -> bool:
        """The phone or the customer behind ``name`` (a channel, or a phone's interface) hangs up
        (a SIP BYE, or a 486 while it rings): ``HangupRequest`` rather than AMI's
        ``SoftHangupRequest``. False if there is no such call."""
        ch = self.channels.get(name)
        if ch is None:
            ch = next((c for c in reversed(self.channels.values()) if c.device == name), None)
        if ch is None:
            return False
        owner = ch.owner
        if isinstance(owner, QueueCaller) and ch is owner.chan and owner.kind == "pjsip":
            self._caller_gone(owner, request_done=False)
        elif isinstance(owner, AgentLeg):
            if owner.answered_at is None:
                self._ring_again(owner, "BUSY")
            else:
                if owner.two is None:
                    self._hreq(ch, 16)
                self.agent_hangup(owner)
        elif isinstance(owner, PhoneCall):
            self._phone_hangs_up(owner)
        elif isinstance(owner, DialApp):
            if owner.answered:
                self._dial_callee_hangs_up(owner)
            else:
                self._dial_failed(owner, "BUSY")
        elif isinstance(owner, Transferred):
            self._hreq(ch, 16)
            self._transfer_ends(owner, 16)
        elif isinstance(owner, Originated) and ch is owner.carrier:
            if owner.answered:
                self._carrier_hangs_up(owner)
            else:
                self._carrier_fails(owner, "BUSY")
        else:
            return self.hangup(ch.name)
        return True

    def redirect(self, name: str, context: str, exten: str, priority: str = "1") -> bool:
        """AMI Redirect (a blind transfer): the channel leaves its bridge or queue and runs the
        dialplan there. Taken from a bridged agent (capture ``blind_transfer``): the agent's
        channel hangs up at once and the agent is free, but app_queue reports that agent's
        ``AgentComplete`` only when the transferred channel hangs up, at the end of its new call."""
        ch = self.channels.get(name)
        if ch is None:
            return False
        owner = ch.owner
        c: QueueCaller | None = None
        if isinstance(owner, QueueCaller):
            c = owner
        elif isinstance(owner, AgentLeg) and owner.caller.state == "bridged":
            # Redirecting the agent side moves the caller (the usual "transfer" button).
            c = owner.caller
            ch = c.chan
        t: Transferred | None = owner if isinstance(owner, Transferred) else None
        if t is not None and t.dial is not None and not t.dial.done:
            self._dial_caller_gone(t.dial)
            t.dial = None
        if c is not None and ch is c.chan:
            t = Transferred(chan=ch, kind=c.kind, partner=c.partner, origin=c.origin)
            if c.state == "bridged" and c.leg is not None:
                self._transfer_from_agent(c, t)
            elif c.state in ("waiting", "ringing"):
                cancel(c.timers)
                if c.leg is not None:
                    leg, c.leg = c.leg, None
                    self._drop_leg(leg, "CANCEL")
                c.state = "done"
                self._moh(ch, start=False)
                self._leave_queue(c)
            ch.owner = t
            if c.partner is not None:
                c.partner.owner = t
        ch.context, ch.exten = context, exten
        ch.priority = int(priority) if priority.isdigit() else 1
        self._ch(
            "Newexten",
            ch,
            ("Extension", exten),
            ("Application", ch.app),
            ("AppData", ch.appdata),
            cat=DIALPLAN,
        )
        if t is None:
            return True
        self._transfer_runs(t, context, exten)
        return True

    def _transfer_from_agent(self, c: QueueCaller, t: Transferred) -> None:
        """The caller leaves the agent: the bridge goes, the agent's channel hangs up and the
        member is free (CallsTaken + 1); AgentComplete waits for the caller's hangup."""
        leg = c.leg
        assert leg is not None
        one, two, ch, m = leg.one, leg.two, c.chan, leg.member
        cancel(leg.timers)
        cancel(c.timers)
        c.state = "done"
        t.queue, t.member = c.queue, m
        t.hold_seconds, t.connected_at = c.hold_seconds, c.connected_at
        self._pending_complete[ch.name] = t
        self._var(ch, "BRIDGEPEER", "")
        self._var(one, "BRIDGEPEER", "")
        bridge = one.bridge
        if bridge is not None:
            self._leave(bridge, ch)
            self._leave(bridge, one)
            self.emit("BridgeDestroy", CALL, bridge.block())
        if two is not None:
            self._hreq(two, 16)
        self._hangup_event(one, 16)
        if two is not None:
            self._soft(two, 16)
            self._hangup_event(two, 16)
        self._agent_leg_over(leg)
        self._distribute(c.queue)

    def _transfer_runs(self, t: Transferred, context: str, exten: str) -> None:
        """The redirected channel's new dialplan: another agent (from-agents 2XX), a queue (a DID),
        a customer, or the dialer's queue; anything else hangs up."""
        ch = t.chan
        if context == "from-agents" and len(exten) == 3 and exten.startswith("2"):
            n = int(exten) - 200
            self._exten(ch, 1, "Dial", f"PJSIP/agent{n},20")
            t.dial = self._dial_start(ch, f"PJSIP/agent{n}", f"agent{n}", limit=20.0)
            t.dial.owner = t
            return
        if context == "from-agents" and exten in self.dids:
            context = "from-carrier"
        if context in ("from-carrier", self.dialer_context):
            queue = self.dids.get(exten) if context == "from-carrier" else None
            if context == self.dialer_context:
                queue = ch.variables.get(self.dialer_queue_variable, "")
            if queue in self.queues:
                self._exten(ch, 3, "Queue", queue)
                self._queue_join(
                    QueueCaller(
                        chan=ch,
                        queue=self.queues[queue],
                        kind=t.kind,
                        partner=t.partner,
                        origin=t.origin,
                    )
                )
                return
        if context == "from-agents" and len(exten) >= 6:
            self._exten(ch, 1, "Dial", f"PJSIP/{exten}@carrier,60")
            t.dial = self._dial_start(
                ch, "PJSIP/carrier", f"{exten}@carrier", limit=60.0, plan=self.customer_plan(exten)
            )
            t.dial.owner = t
            return
        self._exten(ch, 1, "Hangup", "")
        self._transfer_ends(t, 16, soft=True)

    def _dial_returned(self, dial: DialApp, status: str) -> None:
        t = dial.owner
        if isinstance(t, Transferred):
            self._exten(t.chan, 2, "Hangup", "")
            self._transfer_ends(t, 16, soft=True)
            return
        super()._dial_returned(dial, status)

    def _transfer_ends(self, t: Transferred, cause: int, *, soft: bool = False) -> None:
        """The transferred channel hangs up (its caller left, or its dialplan ended)."""
        if t.done:
            return
        t.done = True
        ch = t.chan
        if t.dial is not None and not t.dial.done:
            self._dial_caller_gone(t.dial)
        if soft or t.kind == "pjsip":
            self._soft(ch, 16)
        if ch.alive:
            self._hangup_event(ch, cause)
        if t.partner is not None and t.partner.alive:
            self._hangup_event(t.partner, cause)
        if t.origin is not None:
            self._origin_over(t.origin)
        self._caller_device_free(t.kind, ch, twice=False)

    def _agent_complete_late(self, t: Transferred) -> None:
        """The AgentComplete of a transferred call, at the transferred channel's hangup: the
        agent's channel is long gone (no Dest headers); the talk time runs to now."""
        if t.queue is not None and t.member is not None:
            self._agent_complete(
                t.queue,
                t.member,
                t.chan,
                None,
                hold=t.hold_seconds,
                connected_at=t.connected_at,
                reason="caller",
            )

    def setvar(self, name: str, variable: str, value: str) -> bool:
        if not name:
            self.global_vars[variable] = value
            return True
        ch = self.channels.get(name)
        if ch is None:
            return False
        self._var(ch, variable, value)
        return True

    def getvar(self, name: str, variable: str) -> str | None:
        if not name:
            return self.global_vars.get(variable, "")
        ch = self.channels.get(name)
        if ch is None:
            return None
        return ch.variables.get(variable, "")
