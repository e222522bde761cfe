"""The capture PBX's dialplan contexts an originated Local channel runs (``sim-customer``,
``sim-agent``, ``from-carrier``, the dialer's), and inbound calls from the carrier trunk."""

from __future__ import annotations

from cti.sim.chanspy import SPY_OPTIONS, ChanSpyApp
from cti.sim.flows import ANSWER, BUSY_OUT, CONGESTION, NUMBER, Originated, QueueCaller, cancel
from cti.sim.model import BUSY, CALL, RING, RINGING, UP, Channel


class SimDialplan(ChanSpyApp):
    """What each half of an originated Local pair does once the dialplan runs."""

    def _run_dialplan(self, o: Originated) -> None:
        ctx, ext, two = o.two.context, o.two.exten, o.two
        if ctx == self.dialer_context and NUMBER.match(ext):
            self._dial_customer(o, ext)
        elif ctx == "sim-customer":
            plan = self.customer_plan(ext)
            if plan.outcome == ANSWER:
                self._exten(two, 1, "NoOp", f"sim customer {ext} answers")
                if plan.ring_seconds > 0:
                    o.timers.append(
                        self.later(
                            plan.ring_seconds, lambda: self._customer_answers(o, plan.talk_seconds)
                        )
                    )
                else:
                    self._customer_answers(o, plan.talk_seconds)
            elif plan.outcome in (BUSY_OUT, CONGESTION):
                busy = plan.outcome == BUSY_OUT
                self._exten(
                    two, 1, "NoOp", "sim customer busy" if busy else "sim customer congestion"
                )
                if plan.ring_seconds > 0:
                    self._ringing(o)
                    o.timers.append(
                        self.later(plan.ring_seconds, lambda: self._customer_fails(o, busy))
                    )
                else:
                    self._customer_fails(o, busy)
            else:
                self._exten(two, 1, "NoOp", "sim customer rings, never answers")
                self._ringing(o)
        elif ctx == "from-carrier":
            queue = self.dids[ext]
            self._exten(two, 1, "NoOp", f"Inbound DID {ext} -> queue {queue}")
            self._answer_pair(o)
            self._exten(two, 3, "Queue", queue)
            self._queue_join(
                QueueCaller(
                    chan=two,
                    queue=self.queues[queue],
                    kind="local",
                    partner=o.one,
                    origin=o,
                )
            )
        elif ctx == "sim-agent":
            self._exten(two, 1, "NoOp", f"sim agent {ext} answers")
            self._answer_pair(o)
            self._exten(two, 3, "Wait", "600")
            o.timers.append(self.later(600.0, lambda: self._two_ends(o, 16)))
        else:  # the dialer context reached directly: straight into the queue named by the variable
            self._answer_pair(o)
            self._enter_dialer(o, o.two)

    def _ringing(self, o: Originated) -> None:
        self._exten(o.two, 2, "Ringing", "")
        self._state(o.one, RINGING)
        self._exten(o.two, 3, "Wait", "60")
        self.emit("DialState", CALL, [*o.one.block("Dest"), ("DialStatus", "RINGING")])
        self._dsc(o.one.device, "INUSE")

    def _customer_answers(self, o: Originated, talk: float) -> None:
        if o.done:
            return
        self._exten(o.two, 2, "Answer", "")
        self._state(o.two, UP)
        self._state(o.one, UP)
        o.answered = True
        cancel(o.timers)
        self._originate_response_ok(o)
        self.emit("DialEnd", CALL, [*o.one.block("Dest"), ("DialStatus", "ANSWER")])
        self._dsc(o.one.device, "INUSE")
        self._dsc(o.one.device, "INUSE")
        self.processed_calls += 1
        self._exten(o.two, 3, "Wait", f"{talk:g}")
        o.timers.append(self.later(talk, lambda: self._customer_hangs_up(o)))
        self._after_answer(o)

    def _answer_pair(self, o: Originated) -> None:
        """The ;2 side runs Answer(): both halves go Up and the originate succeeds."""
        self._exten(o.two, 2, "Answer", "")
        self._state(o.two, UP)
        self._state(o.one, UP)
        o.answered = True
        cancel(o.timers)
        self._dsc(o.one.device, "INUSE")
        self._originate_response_ok(o)
        self.emit("DialEnd", CALL, [*o.one.block("Dest"), ("DialStatus", "ANSWER")])
        self._dsc(o.one.device, "INUSE")
        self.processed_calls += 1
        self._after_answer(o)

    def _after_answer(self, o: Originated) -> None:
        """What the originated side (;1) does once answered: an application or the dialplan."""
        if o.app:
            if o.app.lower() == "wait":
                try:
                    secs = float(o.data or "0")
                except ValueError:
                    secs = 0.0
                o.timers.append(self.later(secs, lambda: self._one_ends(o)))
            elif o.app.lower() == "chanspy":
                self._chanspy(o, o.data)
        elif o.context == "cti-spy" and o.exten in SPY_OPTIONS:
            target = o.one.variables.get("CTI_SPY_TARGET", "")
            o.one.context, o.one.exten = o.context, o.exten
            self._exten(o.one, 1, "GotoIf", f'$["{target}" = ""]?missing,1')
            if target:
                self._chanspy(o, f"{target},{SPY_OPTIONS[o.exten]}")
            else:
                self._user_event(o.one, "CtiSpyRefused", ("Reason", "CTI_SPY_TARGET is not set"))
                self._one_ends(o)
        elif o.context == self.dialer_context and o.exten == "preview":
            self._preview(o)
        elif o.context in (self.dialer_context, "from-carrier"):
            if o.context == "from-carrier" and o.exten in self.dids:
                o.one.context, o.one.exten = o.context, o.exten
                self._exten(o.one, 1, "Queue", self.dids[o.exten])
                self._queue_join(
                    QueueCaller(
                        chan=o.one,
                        queue=self.queues[self.dids[o.exten]],
                        kind="dialer",
                        partner=o.two,
                        origin=o,
                    )
                )
            else:
                self._dialer_connect(o)

    def _enter_dialer(self, o: Originated, ch: Channel) -> None:
        queue_name = ch.variables.get(self.dialer_queue_variable, "")
        ch.context, ch.exten = self.dialer_context, o.exten or "s"
        self._exten(ch, 1, "Queue", queue_name)
        queue = self.queues.get(queue_name)
        if queue is None:
            self._exten(ch, 2, "Hangup", "")
            if ch is o.one:
                self._one_ends(o)
            else:
                self._two_ends(o, 16)
            return
        partner = o.two if ch is o.one else o.one
        self._queue_join(
            QueueCaller(
                chan=ch,
                queue=queue,
                kind="dialer",
                partner=partner,
                origin=o,
            )
        )

    def _customer_fails(self, o: Originated, busy: bool) -> None:
        if o.done:
            return
        o.done = True
        cancel(o.timers)
        two, one = o.two, o.one
        if busy:
            self._exten(two, 2, "Busy", "")
            self._state(two, BUSY)
        else:
            self._exten(two, 2, "Congestion", "")
        self._dsc(one.device, "INUSE")
        self.emit(
            "DialEnd", CALL, [*one.block("Dest"), ("DialStatus", "BUSY" if busy else "CONGESTION")]
        )
        self._hreq(two, 0)
        self._soft(two, 16)
        self._hangup_event(two, 17 if busy else 34)
        self.emit_originate_failure(
            o.action_id,
            o.dial_string,
            o.app,
            o.data,
            reason=5 if busy else 8,
            cid=(one.cid_num, one.cid_name),
        )
        self._hangup_event(one, 0)
        self._dsc(one.device, "NOT_INUSE")
        self._dsc(one.device, "NOT_INUSE")

    def _originate_timeout(self, o: Originated) -> None:
        if o.done or o.answered:
            return
        o.done = True
        cancel(o.timers)
        self._hreq(o.two, 19)
        self._hangup_event(o.one, 19)
        self._soft(o.two, 16)
        self._hangup_event(o.two, 19)
        self.emit_originate_failure(
            o.action_id, o.dial_string, o.app, o.data, reason=3, cid=(o.one.cid_num, o.one.cid_name)
        )
        self._dsc(o.one.device, "NOT_INUSE")
        self._dsc(o.one.device, "NOT_INUSE")

    def _customer_hangs_up(self, o: Originated) -> None:
        """The dialled side's Wait() ends and it runs Hangup()."""
        if o.done:
            return
        self._exten(o.two, 4, "Hangup", "")
        self._two_ends(o, 16)

    def _two_ends(self, o: Originated, cause: int) -> None:
        """The ;2 half hangs up; the ;1 half follows (or leaves the queue/bridge it is in)."""
        if o.done:
            return
        if isinstance(o.one.owner, QueueCaller) and o.one.owner.state != "done":
            caller = o.one.owner
            self._soft(o.two, cause)
            self._hreq(o.one, cause)
            self._hangup_event(o.two, cause)
            o.done = True
            cancel(o.timers)
            self._caller_gone(caller, request_done=True)
            return
        o.done = True
        cancel(o.timers)
        self._soft(o.two, cause)
        self._hreq(o.one, cause)
        if o.spy is not None:
            self._spy_end(o.spy)
        self._hangup_event(o.two, cause)
        self._hangup_event(o.one, cause)
        self._dsc(o.one.device, "NOT_INUSE")
        self._dsc(o.one.device, "NOT_INUSE")

    def _one_ends(self, o: Originated) -> None:
        """The originated side's application ends (Wait expired): it hangs up."""
        if o.done:
            return
        caller = o.two.owner
        if isinstance(caller, QueueCaller) and caller.state != "done":
            o.done = True
            cancel(o.timers)
            self._caller_gone(caller, request_done=False)
            return
        o.done = True
        cancel(o.timers)
        if o.spy is not None:
            self._spy_end(o.spy)
        self._hreq(o.two, 0)
        self._hangup_event(o.one, 0)
        self._soft(o.two, 16)
        self._hangup_event(o.two, 16)
        self._dsc(o.one.device, "NOT_INUSE")
        self._dsc(o.one.device, "NOT_INUSE")

    # --- inbound from the trunk --------------------------------------------------------------

    def inbound_call(
        self,
        did_or_queue: str,
        caller_num: str,
        caller_name: str = "",
        *,
        talk_seconds: float | None = None,
        patience: float | None = None,
    ) -> Channel:
        """A call arrives on the carrier trunk (``PJSIP/carrier-in-…``) for a DID or a queue name."""
        if did_or_queue in self.dids:
            did, queue = did_or_queue, self.dids[did_or_queue]
        elif did_or_queue in self.queues:
            queue = did_or_queue
            did = next((d for d, q in self.dids.items() if q == queue), did_or_queue)
        else:
            raise KeyError(did_or_queue)
        name = f"PJSIP/carrier-in-{self._next('PJSIP')}"
        # The snapshot in Newchannel already carries the caller id the SIP INVITE brought.
        ch = self._new_channel(
            name,
            "from-carrier",
            did,
            "PJSIP/carrier-in",
            state=RING,
            linkedid=None,
            cid=(caller_num, caller_name or caller_num),
        )
        self._var(ch, "SIPDOMAIN", "127.0.0.1")
        self._call_ids[ch.name] = (
            f"{self.rng.randrange(1, 10**4)}-{self.rng.randrange(10**4)}@127.0.0.1"
        )
        self._exten(ch, 1, "NoOp", f"Inbound DID {did} -> queue {queue}")
        self._exten(ch, 2, "Answer", "")
        self._state(ch, UP)
        self._dsc("PJSIP/carrier-in", "INUSE")
        self.processed_calls += 1
        self._exten(ch, 3, "Queue", queue)
        self._queue_join(
            QueueCaller(
                chan=ch,
                queue=self.queues[queue],
                kind="pjsip",
                partner=None,
                talk_seconds=talk_seconds,
                patience=patience,
            )
        )
        return ch
