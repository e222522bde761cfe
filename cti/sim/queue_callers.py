"""app_queue's callers: joining a queue, abandoning it, and the end of an answered queue call."""

from __future__ import annotations

from cti.sim.flows import AgentLeg, Originated, QueueCaller, cancel
from cti.sim.model import AGENT, CALL, Channel, Member, Queue
from cti.sim.queue_members import QueueMembers


class QueueCallers(QueueMembers):
    """Queue() on the caller's channel: waiting, leaving unanswered, and hanging up once bridged."""

    def _queue_vars(self, ch: Channel, q: Queue) -> None:
        for k, v in (
            ("QUEUENAME", q.name),
            ("QUEUEMAX", "0"),
            ("QUEUESTRATEGY", q.strategy),
            ("QUEUECALLS", str(len(q.callers))),
            ("QUEUEHOLDTIME", str(q.holdtime)),
            ("QUEUETALKTIME", str(q.talktime)),
            ("QUEUECOMPLETED", str(q.completed)),
            ("QUEUEABANDONED", str(q.abandoned)),
            ("QUEUESRVLEVEL", str(q.service_level)),
            ("QUEUESRVLEVELPERF", q.perf()),
        ):
            self._var(ch, k, v)

    def _queue_device(self, q: Queue) -> None:
        self._dsc_cached(f"Queue:{q.name}", "RINGING" if q.callers else "NOT_INUSE")

    def _queue_join(self, c: QueueCaller) -> None:
        q = c.queue
        c.chan.owner = c
        if c.partner is not None:
            c.partner.owner = c
        for k in (
            "ANSWEREDTIME",
            "ANSWEREDTIME_MS",
            "DIALEDTIME",
            "DIALEDTIME_MS",
            "QUEUEWAIT",
            "QUEUEWAIT_MS",
        ):
            self._var(c.chan, k, "")
        q.callers.append(c)
        c.joined = self.scheduler.now()
        c.original_position = len(q.callers)
        self._queue_device(q)
        self.emit(
            "QueueCallerJoin",
            AGENT,
            [
                *c.chan.block(),
                ("Queue", q.name),
                ("Position", str(len(q.callers))),
                ("Count", str(len(q.callers))),
            ],
        )
        self._moh(c.chan, start=True)
        if c.patience is not None:
            c.timers.append(
                self.later(
                    c.patience,
                    lambda: (
                        self._caller_gone(c, request_done=False)
                        if c.state in ("waiting", "ringing")
                        else None
                    ),
                )
            )
        self._distribute(q)

    def _caller_gone(self, c: QueueCaller, *, request_done: bool) -> None:
        """The caller hangs up: abandon if still waiting or ringing, AgentComplete if bridged."""
        if c.state == "done":
            return
        state = c.state
        cancel(c.timers)
        if state == "bridged":
            self._caller_hangs_up_bridged(c, request_done)
        else:
            self._abandon(c, request_done)

    def _caller_request(self, c: QueueCaller, request_done: bool) -> None:
        if request_done:
            return
        if c.kind == "pjsip":
            self._rtp_stats(c.chan, None)
            self._hreq(c.chan, None)
        elif c.kind == "local":
            self._hreq(c.chan, 0)
            assert c.partner is not None
            self._hangup_event(c.partner, 0)
        else:
            self._hreq(c.chan, 16)

    def _abandon(self, c: QueueCaller, request_done: bool) -> None:
        ch = c.chan
        if c.leg is not None:
            leg, c.leg = c.leg, None
            self._drop_leg(leg, "CANCEL")
        c.state = "done"
        self._caller_request(c, request_done)
        self._moh(ch, start=False)
        self._abandon_events(c)
        self._soft(ch, 16)
        self._end_caller_channel(c, 0 if c.kind == "local" else 16)

    def _abandon_events(self, c: QueueCaller) -> None:
        """The caller leaves the queue unanswered: QueueCallerAbandon, QueueCallerLeave."""
        q, ch = c.queue, c.chan
        wait = self._elapsed_vars(ch, "QUEUEWAIT", c.joined)
        self._elapsed_vars(ch, "DIALEDTIME", ch.created)
        self._var(ch, "ANSWEREDTIME", "0")
        self._var(ch, "ANSWEREDTIME_MS", "0")
        self._var(ch, "ABANDONED", "TRUE")
        self._queue_vars(ch, q)
        pos = q.callers.index(c) + 1
        self.emit(
            "QueueCallerAbandon",
            AGENT,
            [
                *ch.block(),
                ("Queue", q.name),
                ("Position", str(pos)),
                ("OriginalPosition", str(c.original_position)),
                ("HoldTime", str(wait)),
            ],
        )
        q.abandoned += 1
        self._queue_vars(ch, q)
        self._leave_queue(c)
        self._var(ch, "QUEUEPOSITION", str(pos))

    def _end_caller_channel(self, c: QueueCaller, cause: int) -> None:
        self._hangup_event(c.chan, cause)
        self._caller_side_over(c, cause)

    def _caller_side_over(self, c: QueueCaller, cause: int) -> None:
        """The caller's channel is gone: its device state follows, its originate is over, and
        the other half of a dialer call hangs up too."""
        self._caller_device_free(c.kind, c.chan)
        if c.origin is not None:
            self._origin_over(c.origin)
            if c.kind == "dialer" and c.partner is not None and c.partner.alive:
                self._hangup_event(c.partner, cause)

    def _caller_device_free(self, kind: str, ch: Channel, *, twice: bool = True) -> None:
        """The device state of a caller's side once its channel ``ch`` is gone: the trunk's
        (a ``pjsip`` caller), else the channel's own device (a Local pair's, said ``twice``)."""
        if kind == "pjsip":
            trunk = "PJSIP/carrier-in"
            self._dsc(trunk, "INUSE" if self._device_busy(trunk) else "UNAVAILABLE")
            return
        state = "INUSE" if self._device_busy(ch.device) else "NOT_INUSE"
        self._dsc(ch.device, state)
        if twice:
            self._dsc(ch.device, state)

    def _origin_over(self, origin: Originated) -> None:
        origin.done = True
        cancel(origin.timers)

    def _device_busy(self, device: str) -> bool:
        return any(ch.device == device for ch in self.channels.values())

    def _agent_complete(
        self,
        q: Queue,
        m: Member,
        ch: Channel,
        dest: Channel | None,
        *,
        hold: int,
        connected_at: float,
        reason: str,
    ) -> None:
        """``AgentComplete`` for the caller ``ch`` (``dest``: the agent's channel, if it is still
        there), counted in the queue's completed calls, hold and talk times."""
        talk = int(self.scheduler.now() - connected_at)
        q.holdtime = (q.holdtime * q.completed + hold) // (q.completed + 1)
        q.talktime = (q.talktime * q.completed + talk) // (q.completed + 1)
        q.completed += 1
        if hold <= q.service_level:
            q.completed_in_sl += 1
        self.emit(
            "AgentComplete",
            AGENT,
            [
                *ch.block(),
                *(dest.block("Dest") if dest is not None else ()),
                ("Queue", q.name),
                ("Interface", m.interface),
                ("MemberName", m.name),
                ("HoldTime", str(hold)),
                ("TalkTime", str(talk)),
                ("Reason", reason),
            ],
        )

    def _end_vars(self, c: QueueCaller) -> None:
        ch, q = c.chan, c.queue
        self._queue_vars(ch, q)
        self._elapsed_vars(ch, "ANSWEREDTIME", c.connected_at)
        self._elapsed_vars(ch, "DIALEDTIME", ch.created)
        self._queue_vars(ch, q)

    def _elapsed_vars(self, ch: Channel, name: str, since: float) -> int:
        """``name`` and ``name_MS``: the seconds and milliseconds since ``since``; the seconds."""
        now = self.scheduler.now()
        seconds = int(now - since)
        self._var(ch, name, str(seconds))
        self._var(ch, f"{name}_MS", str(int((now - since) * 1000)))
        return seconds

    def _leave_queue(self, c: QueueCaller) -> int:
        """The caller is out of its queue (``QueueCallerLeave``); the position it had."""
        q = c.queue
        pos = q.callers.index(c) + 1
        q.callers.remove(c)
        self._queue_device(q)
        self.emit(
            "QueueCallerLeave",
            AGENT,
            [
                *c.chan.block(),
                ("Queue", q.name),
                ("Position", str(pos)),
                ("Count", str(len(q.callers))),
            ],
        )
        return pos

    def _caller_hangs_up_bridged(self, c: QueueCaller, request_done: bool) -> None:
        leg = c.leg
        assert leg is not None and leg.one.bridge is not None
        one, two, ch, m, bridge = leg.one, leg.two, c.chan, leg.member, leg.one.bridge
        cancel(leg.timers)
        c.state = "done"
        if c.kind == "pjsip" and not request_done:
            self._rtp_stats(ch, one)
            self._hreq(ch, None)
        elif c.kind == "local" and not request_done:
            self._hreq(ch, 0)
        elif not request_done:
            self._hreq(ch, 16)
        self._var(ch, "BRIDGEPEER", "")
        self._var(one, "BRIDGEPEER", "")
        if ch.name in self._call_ids:
            self._var(one, "BRIDGEPVTCALLID", "")
        bridge.channels.remove(ch)
        self.emit("BridgeLeave", CALL, [*bridge.block(), *ch.block()])
        bridge.channels.remove(one)
        self.emit("BridgeLeave", CALL, [*bridge.block(), *one.block()])
        self._agent_complete(
            c.queue, m, ch, one, hold=c.hold_seconds, connected_at=c.connected_at, reason="caller"
        )
        if two is not None:
            self._hreq(two, 16)
        self._hangup_event(one, 16)
        if c.kind == "local" and c.partner is not None and c.partner.alive:
            self._hangup_event(c.partner, 0)
        self._end_vars(c)
        self._soft(ch, 16)
        if two is not None:
            self._soft(two, 16)
            self._hangup_event(two, 16)
        self._hangup_event(ch, 16)
        self.emit("BridgeDestroy", CALL, bridge.block())
        self._caller_side_over(c, 16)
        self._agent_leg_over(leg)
        if not self._is_phone(m):
            self._dsc(m.state_interface, "NOT_INUSE")
        self._distribute(c.queue)

    def agent_hangup(
        self, leg: AgentLeg, *, soft_on: Channel | None = None, reason: str = "agent"
    ) -> None:
        """The agent's side ends a bridged call (hang up at the desk, or a simulated agent is done)."""
        c = leg.caller
        if c.state != "bridged" or c.leg is not leg:
            return
        one, two, ch, m = leg.one, leg.two, c.chan, leg.member
        bridge = one.bridge
        assert bridge is not None
        cancel(leg.timers)
        cancel(c.timers)
        c.state = "done"
        if soft_on is not None:
            self._soft(soft_on, 16)
        if two is not None and soft_on is not one:
            self._hreq(one, 16)
        self._var(one, "BRIDGEPEER", "")
        self._var(ch, "BRIDGEPEER", "")
        if ch.name in self._call_ids:
            self._var(one, "BRIDGEPVTCALLID", "")
        bridge.channels.remove(one)
        self.emit("BridgeLeave", CALL, [*bridge.block(), *one.block()])
        self._agent_complete(
            c.queue, m, ch, one, hold=c.hold_seconds, connected_at=c.connected_at, reason=reason
        )
        if two is not None:
            self._hreq(two, 16)
            self._hangup_event(one, 16)
            self._soft(two, 16)
            self._hangup_event(two, 16)
        else:
            self._hangup_event(one, 16)
        bridge.channels.remove(ch)
        self.emit("BridgeLeave", CALL, [*bridge.block(), *ch.block()])
        self.emit("BridgeDestroy", CALL, bridge.block())
        ch.bridge = None
        self._end_vars(c)
        self._agent_leg_over(leg)
        if reason == "agent":
            self._caller_dialplan_hangup(c)
        self._distribute(c.queue)

    def _caller_dialplan_hangup(self, c: QueueCaller) -> None:
        """After Queue() returns, the caller's dialplan runs Hangup()."""
        ch = c.chan
        self._exten(ch, ch.priority + 1, "Hangup", "")
        if c.kind == "pjsip":
            self._rtp_stats(ch, None)
        self._soft(ch, 16)
        partner = c.partner if c.partner is not None and c.partner.alive else None
        if partner is not None:
            self._hreq(partner, 16)
        self._hangup_event(ch, 16)
        if partner is not None:
            self._hangup_event(partner, 16)
        self._caller_side_over(c, 16)
