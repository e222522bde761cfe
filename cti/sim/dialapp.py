"""``Dial()`` from a channel that is already up, as the tier captures show it on Asterisk 22.

Used by a preview call (the agent's answered phone dials the customer: ``dialer_preview``) and by
a blind transfer (the redirected caller dials another agent: ``blind_transfer``). The dialled
channel shows the caller's extension as its caller id and the caller as its connected line; the
caller's connected line becomes the dialled channel's caller id. Once answered both enter a new
basic bridge, dialled channel first; two PJSIP channels then go ``native_rtp``.
"""

from __future__ import annotations

from cti.sim.base import PbxBase
from cti.sim.flows import ANSWER, BUSY_OUT, CONGESTION, CustomerPlan, DialApp, cancel
from cti.sim.model import CALL, RINGING, UP, AgentMode, Channel

# What Dial() hands back for an outcome, and the dialled channel's hangup cause.
FAILURE_CAUSE = {"BUSY": 17, "CONGESTION": 34, "NOANSWER": 19, "CHANUNAVAIL": 20}
# The SIP status a refusing customer's carrier answers with (TechCause on its channel).
SIP_STATUS = {"BUSY": 486, "CONGESTION": 503}


class DialApps(PbxBase):
    """Dial() between two channels of the PBX (no Local pair, no originate)."""

    def _dial_start(
        self,
        caller: Channel,
        device: str,
        dial_string: str,
        *,
        limit: float,
        plan: CustomerPlan | None = None,
    ) -> DialApp:
        """The caller's Dial() creates the dialled channel and rings it. ``plan``: the dialled
        party is a customer behind the carrier; None: a phone of the PBX."""
        callee = self._phone_channel(
            device,
            "from-carrier" if plan is not None else "from-agents",
            "s",
            linkedid=caller.linkedid,
        )
        dial = DialApp(caller=caller, callee=callee, limit=limit, customer=plan is not None)
        dial.plan = plan
        callee.owner = dial
        self._exten(callee, 1, "AppDial", "(Outgoing Line)")
        # app_dial: the dialled channel shows the caller's extension, with its connected name.
        self._set_cid(callee, caller.exten, caller.con_name)
        self._set_connected(callee, caller.cid_num, caller.cid_name)
        self._two("DialBegin", caller, callee, ("DialString", dial_string))
        if (caller.con_num, caller.con_name) != (callee.cid_num, callee.cid_name):
            self._set_connected(caller, callee.cid_num, callee.cid_name)
        if plan is not None:
            self._customer_rings(dial, plan)
        elif not self.phones.reachable(device):
            self._dial_failed(dial, "CHANUNAVAIL")
        else:
            self._dial_ringing(dial)
            if not self._simulated_answer(device, dial.timers, lambda: self._dial_answered(dial)):
                dial.timers.append(self.later(limit, lambda: self._dial_failed(dial, "NOANSWER")))
        return dial

    def _customer_rings(self, dial: DialApp, plan: CustomerPlan) -> None:
        self._dial_ringing(dial)
        if plan.outcome == ANSWER:
            if plan.ring_seconds < dial.limit:
                dial.timers.append(self.later(plan.ring_seconds, lambda: self._dial_answered(dial)))
        elif plan.outcome in (BUSY_OUT, CONGESTION):
            status = "BUSY" if plan.outcome == BUSY_OUT else "CONGESTION"
            if plan.ring_seconds < dial.limit:
                dial.timers.append(
                    self.later(plan.ring_seconds, lambda: self._dial_failed(dial, status))
                )
        dial.timers.append(self.later(dial.limit, lambda: self._dial_failed(dial, "NOANSWER")))

    def _dial_ringing(self, dial: DialApp) -> None:
        self._state(dial.callee, RINGING)
        self._two("DialState", dial.caller, dial.callee, ("DialStatus", "RINGING"))
        if dial.customer:
            self._dsc("PJSIP/carrier", "RINGING")
        else:
            self._phone_changed(dial.callee.device)

    def _dial_answered(self, dial: DialApp) -> None:
        """The dialled party answers: DialEnd ANSWER, then both channels in a new bridge."""
        if dial.done or dial.answered:
            return
        cancel(dial.timers)
        dial.answered = True
        callee, caller = dial.callee, dial.caller
        self._state(callee, UP)
        if dial.customer:
            self._dsc("PJSIP/carrier", "INUSE")
        self._exten(callee, 1, "AppDial", "(Outgoing Line)")
        self._dial_answered_hook(dial)
        self._two("DialEnd", caller, callee, ("DialStatus", "ANSWER"))
        self._var(caller, "DIALSTATUS", "ANSWER")
        bridge = self._new_bridge()
        dial.bridge = bridge
        self._enter(bridge, callee)
        self._enter(bridge, caller)
        self._settle(bridge)
        if dial.plan is not None:
            talk = dial.plan.talk_seconds
            dial.timers.append(self.later(talk, lambda: self._dial_callee_hangs_up(dial)))
        elif self.mode_of(callee.device) is AgentMode.SIMULATED:
            handle = self.agents.handle_seconds()
            if handle is not None:
                dial.timers.append(self.later(handle, lambda: self._dial_callee_hangs_up(dial)))

    def _dial_failed(self, dial: DialApp, status: str) -> None:
        """No answer: DialEnd with the status, the dialled channel hangs up, the caller's dialplan
        goes on (``_dial_returned``)."""
        if dial.done or dial.answered:
            return
        dial.done = True
        cancel(dial.timers)
        callee = dial.callee
        cause = FAILURE_CAUSE.get(status, 16)
        tech = SIP_STATUS.get(status) if dial.customer else None
        if status in ("BUSY", "CONGESTION"):
            self._hreq(callee, cause, tech=tech)
        self._two("DialEnd", dial.caller, callee, ("DialStatus", status))
        self._hangup_event(callee, 0 if status == "NOANSWER" else cause, tech=tech)
        self._callee_device_free(dial)
        self._var(dial.caller, "DIALSTATUS", status)
        self._dial_returned(dial, status)

    def _dial_callee_hangs_up(self, dial: DialApp, *, request: bool = True) -> None:
        """The dialled party hangs up a bridged call (``request``: from its side; else AMI hung
        it up); Dial() returns ANSWER to the caller."""
        if dial.done or not dial.callee.alive:
            return
        dial.done = True
        cancel(dial.timers)
        callee = dial.callee
        if request:
            self._hreq(callee, 16)
        self._dial_unbridge(dial)
        self._dial_returned(dial, "ANSWER")
        if callee.alive:
            self._hangup_event(callee, 16)
            self._callee_device_free(dial)

    def _dial_caller_gone(self, dial: DialApp) -> None:
        """The calling channel went away (it hung up, or a restart): the dialled one follows."""
        if dial.done:
            return
        dial.done = True
        cancel(dial.timers)
        callee = dial.callee
        if not dial.answered:
            self._two("DialEnd", dial.caller, callee, ("DialStatus", "CANCEL"))
        self._dial_unbridge(dial, caller_first=True)
        if callee.alive:
            self._hangup_event(callee, 16 if dial.answered else 0)
            self._callee_device_free(dial)

    def _dial_unbridge(self, dial: DialApp, *, caller_first: bool = False) -> None:
        """Both leave the bridge, the one that hung up first."""
        bridge, dial.bridge = dial.bridge, None
        if bridge is not None:
            first, second = (
                (dial.caller, dial.callee) if caller_first else (dial.callee, dial.caller)
            )
            self._leave(bridge, first)
            self._leave(bridge, second)
            self.emit("BridgeDestroy", CALL, bridge.block())

    def _callee_device_free(self, dial: DialApp) -> None:
        if dial.customer:
            self._dsc("PJSIP/carrier", "NOT_INUSE")
        else:
            self._phone_changed(dial.callee.device)

    # --- what the caller's dialplan does around Dial() (its owner decides) --------------------

    def _dial_answered_hook(self, dial: DialApp) -> None:
        """Dial's ``U()`` option runs on the dialled channel once it answered (preview calls)."""

    def _dial_returned(self, dial: DialApp, status: str) -> None:
        """Dial() returned ``status`` to the caller's dialplan."""
        raise NotImplementedError
