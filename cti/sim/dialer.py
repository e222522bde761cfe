"""cti's dialer context, as ``config/asterisk/extensions.conf`` ``[cti-dialer]`` ships it.

Progressive and predictive calls (captures ``dialer_progressive``, ``dialer_abandoned``,
``dialer_busy``): ``Local/NUMBER@cti-dialer/n`` dials the customer through the carrier
(``_dial_customer``: ``[cti-dialer-out]``); the answered ``;1`` half runs ``connect``
(``_dialer_connect``): the customer's number (``CTI_NUMBER``) becomes its caller id, AMD if asked,
then the queue with the connect limit, else the abandon message.

Preview calls (``dialer_preview``, ``dialer_preview_busy``): the agent's own phone is originated
into ``preview`` (``_preview``); once it answered, the customer is dialled with the campaign's
caller id: ``CtiDialerConnected`` from the customer's channel when they answer (Dial's ``U()``),
``CtiDialerResult`` on the agent's channel when they do not.

The ``CtiDialer*`` UserEvents carry the dialplan's names and headers.
"""

from __future__ import annotations

from cti.sim.dialapp import FAILURE_CAUSE, SIP_STATUS, DialApps
from cti.sim.flows import (
    ABANDON_SOUND,
    ANSWER,
    BUSY_OUT,
    CONGESTION,
    AgentLeg,
    DialApp,
    Originated,
    PhoneCall,
    QueueCaller,
    cancel,
    truthy,
    whole,
)
from cti.sim.model import AGENT, BUSY, CALL, RINGING, UP, Channel


class DialerPlan(DialApps):
    """The ``[cti-dialer]`` context."""

    @staticmethod
    def _dialer_ids(ch: Channel) -> list[tuple[str, str]]:
        v = ch.variables
        return [
            ("Campaign", v.get("CTI_CAMPAIGN", "")),
            ("Lead", v.get("CTI_LEAD", "")),
            ("Attempt", v.get("CTI_ATTEMPT", "")),
        ]

    # --- the customer leg: _X. -> [cti-dialer-out] ------------------------------------------------

    def _dial_customer(self, o: Originated, number: str) -> None:
        """``_X.`` → ``cti-dialer-out``: the ;2 half dials the number through the carrier trunk."""
        two = o.two
        self._exten(two, 1, "Gosub", f"cti-dialer-out,s,1({number})")
        two.context, two.exten = "cti-dialer-out", "s"
        v = two.variables
        self._exten(
            two,
            1,
            "NoOp",
            f"cti dialer: calling {number}, campaign {v.get('CTI_CAMPAIGN', '')}"
            f" lead {v.get('CTI_LEAD', '')}",
        )
        ring_limit = whole(v.get("CTI_RING_SECONDS"), 30)
        self._exten(two, 2, "Set", f"CTI_RING={ring_limit}")
        self._var(two, "CTI_RING", str(ring_limit))
        self._exten(two, 3, "Dial", f"PJSIP/{number}@carrier,{ring_limit}")
        carrier = self._phone_channel("PJSIP/carrier", "from-carrier", "s", linkedid=two.linkedid)
        carrier.owner = o
        o.carrier = carrier
        self._exten(carrier, 1, "AppDial", "(Outgoing Line)")
        # The dialled channel shows the caller's extension ("s") as its caller id.
        self._set_cid(carrier, two.exten, two.con_name)
        self._set_connected(carrier, two.cid_num, two.cid_name)
        self._two("DialBegin", two, carrier, ("DialString", f"{number}@carrier"))
        self._set_connected(two, carrier.cid_num, carrier.cid_name)
        plan = self.customer_plan(number)
        o.plan = plan
        self._carrier_ringing(o)
        if plan.outcome == ANSWER and plan.ring_seconds <= 0:
            self._carrier_answers(o)
            return
        if plan.outcome == ANSWER:
            o.timers.append(self.later(plan.ring_seconds, lambda: self._carrier_answers(o)))
        elif plan.outcome in (BUSY_OUT, CONGESTION):
            status = "BUSY" if plan.outcome == BUSY_OUT else "CONGESTION"
            o.timers.append(self.later(plan.ring_seconds, lambda: self._carrier_fails(o, status)))
        if plan.outcome != ANSWER or plan.ring_seconds >= ring_limit:
            o.timers.append(self.later(ring_limit, lambda: self._carrier_fails(o, "NOANSWER")))

    def _carrier_ringing(self, o: Originated) -> None:
        """The carrier rings: so does the Local ;1 half, whose caller id becomes ;2's connected
        line (the carrier leg's "s")."""
        assert o.carrier is not None
        self._state(o.carrier, RINGING)
        self._dsc("PJSIP/carrier", "RINGING")
        # ;1 takes ;2's connected line as its caller id as it starts ringing.
        o.one.cid_num, o.one.cid_name = o.two.con_num, o.two.con_name
        self._state(o.one, RINGING)
        self._set_cid(o.one, o.two.con_num, o.two.con_name)
        self.emit("DialState", CALL, [*o.one.block("Dest"), ("DialStatus", "RINGING")])
        self._dsc(o.one.device, "INUSE")
        self._two("DialState", o.two, o.carrier, ("DialStatus", "RINGING"))

    def _carrier_answers(self, o: Originated) -> None:
        """The customer picks up: the Local pair answers, the originate succeeds, ;1 runs connect."""
        carrier = o.carrier
        if o.done or o.answered or carrier is None:
            return
        cancel(o.timers)
        self._state(carrier, UP)
        self._dsc("PJSIP/carrier", "INUSE")
        self._two("DialEnd", o.two, carrier, ("DialStatus", "ANSWER"))
        self._state(o.two, UP)
        self._state(o.one, UP)
        self.emit("DialEnd", CALL, [*o.one.block("Dest"), ("DialStatus", "ANSWER")])
        o.answered = True
        self._dsc(o.one.device, "INUSE")
        self.processed_calls += 1
        bridge = self._new_bridge()
        o.carrier_bridge = bridge
        self._exten(carrier, 1, "AppDial", "(Outgoing Line)")
        self._enter(bridge, carrier)
        self._enter(bridge, o.two)
        self._originate_response_ok(o)
        talk = o.plan.talk_seconds if o.plan is not None else 4.0
        o.timers.append(self.later(talk, lambda: self._carrier_hangs_up(o)))
        self._after_answer(o)

    def _carrier_fails(self, o: Originated, status: str) -> None:
        """The carrier leg ends unanswered: ``CtiDialerResult``, then Busy()/Congestion() or hang
        up, so the Originate fails with Reason 5, 8 or 3."""
        carrier = o.carrier
        if o.done or o.answered or carrier is None:
            return
        o.done = True
        cancel(o.timers)
        two, one = o.two, o.one
        cause = FAILURE_CAUSE.get(status, 19)
        tech = SIP_STATUS.get(status)
        if tech is not None:
            self._hreq(carrier, cause, tech=tech)
        self._two("DialEnd", two, carrier, ("DialStatus", status))
        self._hangup_event(carrier, cause, tech=tech)
        self._dsc("PJSIP/carrier", "NOT_INUSE")
        self._var(two, "DIALSTATUS", status)
        self._exten(two, 4, "GotoIf", f'$["{status}" = "ANSWER"]?done')
        self._user_event(two, "CtiDialerResult", ("DialStatus", status), *self._dialer_ids(two))
        if status == "BUSY":
            self._exten(two, two.priority + 1, "Busy", "3")
            self._state(two, BUSY)
        elif status == "CONGESTION":
            self._exten(two, two.priority + 1, "Congestion", "3")
        self.emit("DialEnd", CALL, [*one.block("Dest"), ("DialStatus", status)])
        self._hreq(two, 0)
        self._soft(two, 16)
        self._hangup_event(two, cause)
        self._dsc(one.device, "NOT_INUSE")
        self._dsc(one.device, "NOT_INUSE")
        self.emit_originate_failure(
            o.action_id,
            o.dial_string,
            o.app,
            o.data,
            reason={"BUSY": 5, "CONGESTION": 8}.get(status, 3),
            cid=o.caller_id or (one.cid_num, one.cid_name),
            context=o.context,
            exten=o.exten,
        )
        self._hangup_event(one, 0)
        self._dsc(one.device, "NOT_INUSE")

    def _carrier_down(self, o: Originated, cause: int) -> None:
        """The carrier leg leaves its bridge with ;2 and hangs up (;2 went first)."""
        carrier = o.carrier
        assert carrier is not None
        bridge, o.carrier_bridge = o.carrier_bridge, None
        if bridge is not None:
            self._leave(bridge, o.two)
            self._leave(bridge, carrier)
            self.emit("BridgeDestroy", CALL, bridge.block())
        self._hangup_event(carrier, cause)
        self._dsc("PJSIP/carrier", "NOT_INUSE")

    def _carrier_hangs_up(self, o: Originated) -> None:
        """The customer hangs up: ;2's Dial() returns, it hangs up, and ;1 follows."""
        carrier = o.carrier
        if o.done or carrier is None or not carrier.alive:
            return
        self._hreq(carrier, 16)
        bridge, o.carrier_bridge = o.carrier_bridge, None
        if bridge is not None:
            self._leave(bridge, carrier)
            self._leave(bridge, o.two)
            self.emit("BridgeDestroy", CALL, bridge.block())
        self._exten(o.two, 4, "GotoIf", '$["ANSWER" = "ANSWER"]?done')
        self._exten(o.two, 5, "Return", "")
        self._two_ends(o, 16)
        if carrier.alive:
            self._hangup_event(carrier, 16)
            self._dsc("PJSIP/carrier", "NOT_INUSE")

    # --- the answered leg: connect ------------------------------------------------------------

    def _dialer_connect(self, o: Originated) -> None:
        """``connect``: the customer's number as caller id, AMD if asked, then the queue."""
        one = o.one
        v = one.variables
        one.context, one.exten = self.dialer_context, o.exten or "connect"
        self._exten(
            one,
            1,
            "NoOp",
            f"cti dialer: answered, campaign {v.get('CTI_CAMPAIGN', '')} lead"
            f" {v.get('CTI_LEAD', '')} queue {v.get(self.dialer_queue_variable, '')}",
        )
        number = v.get("CTI_NUMBER", "")
        self._exten(one, 2, "Set", f"CALLERID(num)={number or one.cid_num}")
        if number:
            # What the queue, the agent's phone and cti's call log see of the answered call.
            self._set_cid(one, number, one.cid_name)
        limit = max(1, whole(v.get("CTI_CONNECT_SECONDS"), 2))
        self._exten(one, 3, "Set", f"CTI_CONNECT={limit}")
        self._var(one, "CTI_CONNECT", str(limit))
        if not truthy(v.get("CTI_AMD")):
            self._dialer_route(o, limit)
            return
        self._exten(one, 7, "AMD", "")
        o.timers.append(self.later(self.amd_seconds, lambda: self._amd_done(o, limit)))

    def _amd_done(self, o: Originated, limit: int) -> None:
        if o.done:
            return
        one = o.one
        machine = o.plan is not None and o.plan.machine
        status, cause = (
            ("MACHINE", "LONGGREETING-1500-1500") if machine else ("HUMAN", "HUMAN-300-600")
        )
        self._var(one, "AMDSTATUS", status)
        self._var(one, "AMDCAUSE", cause)
        self._user_event(
            one, "CtiDialerAmd", ("AmdStatus", status), ("AmdCause", cause), *self._dialer_ids(one)
        )
        if machine:
            self._user_event(one, "CtiDialerMachine", *self._dialer_ids(one))
            self._exten(one, one.priority + 1, "Hangup", "16")
            self._dialer_hangup(o)
            return
        self._dialer_route(o, limit)

    def _dialer_route(self, o: Originated, limit: int) -> None:
        one = o.one
        queue_name = one.variables.get(self.dialer_queue_variable, "")
        self._exten(one, 10, "Queue", f"{queue_name},b(cti-dialer-autoanswer^s^1),,,{limit}")
        queue = self.queues.get(queue_name)
        if queue is None:
            self._var(one, "QUEUESTATUS", "JOINUNAVAIL")
            self._dialer_abandon(o, "JOINUNAVAIL")
            return
        c = QueueCaller(
            chan=one,
            queue=queue,
            kind="dialer",
            partner=o.two,
            origin=o,
        )
        self._queue_join(c)
        if c.state in ("waiting", "ringing"):
            c.timers.append(self.later(float(limit), lambda: self._queue_timeout(c)))

    def _queue_timeout(self, c: QueueCaller) -> None:
        """Queue()'s timeout (the connect limit) passed with no agent. With
        ``timeoutpriority = app`` it also cuts the agent's phone that still rings
        (AgentRingNoAnswer, DialEnd NOANSWER then CANCEL); app_queue counts the caller as
        abandoned (QueueCallerAbandon) and the dialplan plays the abandon message."""
        if c.state not in ("waiting", "ringing") or c.origin is None:
            return
        q, ch, o = c.queue, c.chan, c.origin
        cancel(c.timers)
        if c.leg is not None:
            leg, c.leg = c.leg, None
            self._ring_no_answer_event(leg)
            self._two("DialEnd", ch, leg.one, ("DialStatus", "NOANSWER"))
            self._drop_leg(leg, "CANCEL")
        c.state = "done"
        self._moh(ch, start=False)
        self._abandon_events(c)
        ch.owner = o
        if c.partner is not None:
            c.partner.owner = o
        self._var(ch, "QUEUESTATUS", "TIMEOUT")
        self._dialer_abandon(o, "TIMEOUT")
        self._distribute(q)

    def _dialer_abandon(self, o: Originated, status: str) -> None:
        """``abandon``: ``CtiDialerAbandoned``, the abandon message, then Hangup(16)."""
        one = o.one
        self._user_event(
            one,
            "CtiDialerAbandoned",
            ("Queue", one.variables.get(self.dialer_queue_variable, "")),
            ("QueueStatus", status),
            ("Agent", one.variables.get("CTI_AGENT", "")),
            *self._dialer_ids(one),
        )
        self._exten(one, one.priority + 1, "Playback", ABANDON_SOUND)

        def done() -> None:
            if not o.done:
                self._exten(one, one.priority + 1, "Hangup", "16")
                self._dialer_hangup(o)

        o.timers.append(self.later(self.abandon_message_seconds, done))

    def _dialer_hangup(self, o: Originated) -> None:
        """The ;1 half's dialplan hangs up: ;2 follows, then the carrier leg."""
        if o.done:
            return
        o.done = True
        cancel(o.timers)
        self._soft(o.one, 16)
        self._hangup_event(o.one, 16)
        self._dsc(o.one.device, "NOT_INUSE")
        if o.two.alive:
            self._hreq(o.two, 16)
            carrier, bridge = o.carrier, o.carrier_bridge
            o.carrier_bridge = None
            if bridge is not None and carrier is not None:
                self._leave(bridge, o.two)
                self._leave(bridge, carrier)
            self._soft(o.two, 16)
            self._hangup_event(o.two, 16)
            self._dsc(o.one.device, "NOT_INUSE")
            if bridge is not None:
                self.emit("BridgeDestroy", CALL, bridge.block())
            if carrier is not None and carrier.alive:
                self._hangup_event(carrier, 16)
                self._dsc("PJSIP/carrier", "NOT_INUSE")

    # --- preview: the agent's phone first ---------------------------------------------------

    def _preview(self, call: PhoneCall | Originated) -> None:
        """``preview`` on the agent's answered phone (a PJSIP phone, or a Local channel standing
        for one): dial the customer with the campaign's caller id; Dial's U() says
        CtiDialerConnected from the customer's channel."""
        ch = call.one
        v = ch.variables
        ch.context, ch.exten = self.dialer_context, "preview"
        number = v.get("CTI_NUMBER", "")
        self._exten(
            ch,
            1,
            "NoOp",
            f"cti dialer: preview, {v.get('CTI_AGENT', '')} calls {number}, campaign"
            f" {v.get('CTI_CAMPAIGN', '')} lead {v.get('CTI_LEAD', '')}",
        )
        self._exten(ch, 2, "GotoIf", f'$["{number}" = ""]?gone')
        if not number:
            self._preview_ends(call)
            return
        ring = whole(v.get("CTI_RING_SECONDS"), 30)
        self._exten(ch, 3, "Set", f"CTI_RING={ring}")
        self._var(ch, "CTI_RING", str(ring))
        caller_id = v.get("CTI_CALLER_ID", "") or ch.cid_num
        self._exten(ch, 4, "Set", f"CALLERID(num)={caller_id}")
        if caller_id != ch.cid_num:
            self._set_cid(ch, caller_id, ch.cid_name)
        ids = "^".join(value for _, value in self._dialer_ids(ch))
        self._exten(
            ch,
            5,
            "Dial",
            f"PJSIP/{number}@carrier,{ring},"
            f"U(cti-dialer-connected^{ids}^{v.get('CTI_AGENT', '')}^{v.get('CTI_RECORD', 'yes')})",
        )
        call.dial = self._dial_start(
            ch, "PJSIP/carrier", f"{number}@carrier", limit=ring, plan=self.customer_plan(number)
        )
        call.dial.owner = call

    def _dial_answered_hook(self, dial: DialApp) -> None:
        call = dial.owner
        if not isinstance(call, PhoneCall | Originated) or not dial.customer:
            return
        callee = dial.callee
        agent = call.one.variables
        callee.context, callee.exten = "cti-dialer-connected", "s"
        self._user_event(
            callee,
            "CtiDialerConnected",
            ("Agent", agent.get("CTI_AGENT", "")),
            ("Campaign", agent.get("CTI_CAMPAIGN", "")),
            ("Lead", agent.get("CTI_LEAD", "")),
            ("Attempt", agent.get("CTI_ATTEMPT", "")),
        )
        # [cti-dialer-connected] records the customer's channel unless the campaign said no.
        if agent.get("CTI_RECORD") != "no":
            self._record(callee)
        self._exten(callee, 2, "Return", "")

    def _dial_returned(self, dial: DialApp, status: str) -> None:
        call = dial.owner
        if not isinstance(call, PhoneCall | Originated):
            return
        ch = call.one
        self._exten(ch, 6, "GotoIf", f'$["{status}" = "ANSWER"]?gone')
        if status != "ANSWER":
            self._user_event(ch, "CtiDialerResult", ("DialStatus", status), *self._dialer_ids(ch))
            self._exten(ch, ch.priority + 1, "Hangup", "16")
        self._preview_ends(call)

    def _preview_ends(self, call: PhoneCall | Originated) -> None:
        """``Hangup(16)`` on the agent's channel."""
        if isinstance(call, PhoneCall):
            self._phone_call_ends(call, 16)
        else:
            self._dialer_hangup(call)

    # --- shared with the PBX ------------------------------------------------------------------

    def _ring_no_answer_event(self, leg: AgentLeg) -> None:
        raise NotImplementedError

    def _drop_leg(self, leg: AgentLeg, dialstatus: str) -> None:
        raise NotImplementedError

    def _abandon_events(self, c: QueueCaller) -> None:
        raise NotImplementedError

    def _two_ends(self, o: Originated, cause: int) -> None:
        raise NotImplementedError

    def _after_answer(self, o: Originated) -> None:
        raise NotImplementedError

    def _phone_call_ends(self, call: PhoneCall, cause: int) -> None:
        raise NotImplementedError


__all__ = ["AGENT", "DialerPlan"]
