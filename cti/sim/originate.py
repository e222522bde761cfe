"""AMI Originate: a Local channel pair into the dialplan, or a PJSIP phone rung first."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypedDict

from cti.sim.chanspy import SPY_OPTIONS
from cti.sim.contexts import SimDialplan
from cti.sim.devices import phone_endpoint
from cti.sim.flows import LOCAL, Originated, PhoneCall, cancel
from cti.sim.model import CALL, RINGING, UP


class Asked(TypedDict):
    """What an Originate asked for, as its flow record keeps it."""

    action_id: str
    dial_string: str
    app: str
    data: str
    context: str
    exten: str
    priority: str
    timeout: float
    caller_id: tuple[str, str] | None


class Originate(SimDialplan):
    """``Originate`` (always Async): a Local pair, or a PJSIP phone that answers first."""

    # --- Originate ---------------------------------------------------------------------------

    def originate(
        self,
        *,
        action_id: str,
        channel: str,
        app: str = "",
        data: str = "",
        context: str = "",
        exten: str = "",
        priority: str = "1",
        caller_id: tuple[str, str] | None = None,
        timeout: float = 30.0,
        variables: Sequence[tuple[str, str]] = (),
    ) -> bool:
        """Start an Async originate; False if the channel cannot be requested (the caller answers
        with ``OriginateResponse`` Failure, Reason 0): an unknown Local extension, or a phone that
        is not registered."""
        local = None
        if phone_endpoint(channel) is not None:
            known = self.phones.reachable(channel)
        else:
            local = LOCAL.match(channel)
            known = local is not None and self._exists(local.group(2), local.group(1))
        if not known:
            self.emit_originate_failure(
                action_id, channel, app, data, reason=0, cid=caller_id, context=context, exten=exten
            )
            return False
        asked = Asked(
            action_id=action_id,
            dial_string=channel,
            app=app,
            data=data,
            context=context,
            exten=exten,
            priority=priority,
            timeout=timeout,
            caller_id=caller_id,
        )
        if local is None:
            self._originate_phone(asked, variables)
        else:
            self._originate_local(asked, local, variables)
        return True

    def _originate_local(
        self, asked: Asked, m: re.Match[str], variables: Sequence[tuple[str, str]]
    ) -> None:
        """The Local pair: ``;1`` is the originated side, ``;2`` runs the dialplan at once."""
        dexten, dctx, keep = m.group(1), m.group(2), m.group(3) or ""
        one, two = self._local_pair(dexten, dctx)
        o = Originated(**asked, one=one, two=two)
        one.owner = o
        two.owner = o
        self._exten(one, 1, "AppDial2", "(Outgoing Line)")
        one.app, one.appdata = o.app or "AppDial2", o.data if o.app else "(Outgoing Line)"
        for k, v in variables:
            self._var(one, k, v)
        if o.caller_id is not None:
            self._set_cid(one, *o.caller_id)
            self._set_connected(one, *o.caller_id)
        for k, v in variables:
            self._var(two, k, v)
        if o.caller_id is not None:
            two.cid_num, two.cid_name = o.caller_id
            self._set_cid(two, *o.caller_id)
            self._set_connected(two, *o.caller_id)
        # "/n" keeps the Local pair (no optimisation), as cti's dialer asks.
        self._local_bridge(one, two, optimize=not keep)
        self.emit("DialBegin", CALL, [*one.block("Dest"), ("DialString", f"{dexten}@{dctx}{keep}")])
        o.timers.append(self.later(o.timeout, lambda: self._originate_timeout(o)))
        self._run_dialplan(o)

    def _exists(self, context: str, exten: str) -> bool:
        if context == "from-carrier":
            return exten in self.dids
        return context in ("sim-customer", "sim-agent") or context == self.dialer_context

    # --- Originate of a PJSIP phone (tier captures chanspy_end, dialer_preview) ------------------

    def _originate_phone(self, asked: Asked, variables: Sequence[tuple[str, str]]) -> None:
        """Ring the phone; once it answers, the originate succeeds and the channel runs ``app``
        or ``context``/``exten``."""
        device = asked["dial_string"]
        ch = self._phone_channel(device, "from-agents", "s", linkedid=None)
        call = PhoneCall(**asked, one=ch)
        ch.owner = call
        self._exten(ch, 1, "AppDial2", "(Outgoing Line)")
        for k, v in variables:
            self._var(ch, k, v)
        if call.caller_id is not None:
            self._set_cid(ch, *call.caller_id)
            self._set_connected(ch, *call.caller_id)
        self.emit("DialBegin", CALL, [*ch.block("Dest"), ("DialString", device.split("/", 1)[1])])
        self._state(ch, RINGING)
        self.emit("DialState", CALL, [*ch.block("Dest"), ("DialStatus", "RINGING")])
        self._phone_changed(device)
        if not self._simulated_answer(device, call.timers, lambda: self._phone_answers(call)):
            call.timers.append(self.later(call.timeout, lambda: self._phone_not_answered(call, 3)))

    def _phone_answers(self, call: PhoneCall) -> None:
        if call.done or call.answered:
            return
        cancel(call.timers)
        call.answered = True
        ch = call.one
        self._originate_response_ok(call)
        self._state(ch, UP)
        self.emit("DialEnd", CALL, [*ch.block("Dest"), ("DialStatus", "ANSWER")])
        self.processed_calls += 1
        self._phone_runs(call)

    def _phone_not_answered(self, call: PhoneCall, reason: int) -> None:
        """Nobody picked up within the Originate's Timeout (Reason 3), or the phone refused the
        call (Reason 5)."""
        if call.done or call.answered:
            return
        call.done = True
        cancel(call.timers)
        ch = call.one
        status = "NOANSWER" if reason == 3 else "BUSY"
        self.emit("DialEnd", CALL, [*ch.block("Dest"), ("DialStatus", status)])
        self._hangup_event(ch, 19 if reason == 3 else 17)
        self._phone_changed(ch.device)
        self.emit_originate_failure(
            call.action_id,
            call.dial_string,
            call.app,
            call.data,
            reason=reason,
            cid=(ch.cid_num, ch.cid_name),
            context=call.context,
            exten=call.exten,
        )

    def _phone_runs(self, call: PhoneCall) -> None:
        """The answered phone runs its application, or the dialplan at context/exten."""
        ch = call.one
        app = call.app.lower()
        if app == "chanspy":
            self._chanspy(call, call.data)
        elif app == "wait":
            seconds = float(call.data) if call.data.replace(".", "", 1).isdigit() else 0.0
            call.timers.append(self.later(seconds, lambda: self._phone_call_ends(call, 16)))
        elif call.app:
            self._phone_call_ends(call, 16)
        elif call.context == "cti-spy" and call.exten in SPY_OPTIONS:
            ch.context, ch.exten = call.context, call.exten
            target = ch.variables.get("CTI_SPY_TARGET", "")
            self._exten(ch, 1, "GotoIf", f'$["{target}" = ""]?missing,1')
            if not target:
                ch.exten = "missing"
                self._user_event(ch, "CtiSpyRefused", ("Reason", "CTI_SPY_TARGET is not set"))
                self._phone_call_ends(call, 16)
                return
            self._chanspy(call, f"{target},{SPY_OPTIONS[call.exten]}")
        elif call.context == self.dialer_context and call.exten == "preview":
            self._preview(call)
        else:
            self._phone_call_ends(call, 16)

    def _phone_call_ends(self, call: PhoneCall, cause: int, *, soft: bool = True) -> None:
        """The phone's dialplan runs Hangup() (``soft``), or AMI hung it up: the call it made (if
        any) ends, then the phone's channel."""
        if call.done:
            return
        call.done = True
        cancel(call.timers)
        if call.spy is not None:
            self._spy_end(call.spy)
        if call.dial is not None and not call.dial.done:
            self._dial_caller_gone(call.dial)
        ch = call.one
        if ch.alive:
            if soft:
                self._soft(ch, cause)
            self._hangup_event(ch, cause)
            self._phone_changed(ch.device)

    def _phone_call_gone(self, call: PhoneCall, cause: int) -> None:
        self._phone_call_ends(call, cause, soft=False)

    def _phone_hangs_up(self, call: PhoneCall) -> None:
        """The person puts the phone down (BYE), or declines while it rings (486)."""
        if call.done:
            return
        if not call.answered:
            self._phone_not_answered(call, 5)
            return
        ch = call.one
        self._hreq(ch, 16)
        call.done = True
        cancel(call.timers)
        if call.spy is not None:
            self._spy_end(call.spy)
        if call.dial is not None and not call.dial.done:
            dial = call.dial
            self._dial_caller_gone(dial)
        self._hangup_event(ch, 16)
        self._phone_changed(ch.device)
