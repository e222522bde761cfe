"""app_queue's distribution: ringing a free member for the first waiting caller, answering, ring
timeouts."""

from __future__ import annotations

from cti.sim.flows import LOCAL, AgentLeg, DialApp, PhoneCall, QueueCaller, cancel
from cti.sim.model import AGENT, RINGING, UP, AgentMode, Member, Queue
from cti.sim.queue_callers import QueueCallers


class QueueRinging(QueueCallers):
    """Which member rings for which caller, and what happens when one answers or does not."""

    def _distribute(self, q: Queue) -> None:
        """Ring a free member for the first waiting caller (ringall would be a loop; rrmemory is one).

        As app_queue's metric has it, the free member with the lowest penalty is rung (one with
        penalty 1 only while no member with penalty 0 is free); among equal penalties the round
        robin goes on from the member rung last."""
        for c in q.callers:
            if c.state != "waiting" or self.scheduler.now() < c.retry_at:
                continue
            members = list(q.members.values())
            if not members:
                return
            n = len(members)
            best: int | None = None
            for i in range(1, n + 1):
                idx = (q.rr_last + i) % n
                m = members[idx]
                if (
                    self._available(m)
                    and self.scheduler.now() >= m.wrapup_until
                    and not self._busy_elsewhere(m)
                    and (best is None or m.penalty < members[best].penalty)
                ):
                    best = idx
            if best is None:
                return
            q.rr_last = best
            self._ring_member(c, members[best])

    def _ring_member(self, c: QueueCaller, m: Member) -> None:
        caller = c.chan
        lm = LOCAL.match(m.interface)
        m.ringing = True
        c.state = "ringing"
        if lm:
            ext, ctx = lm.group(1), lm.group(2)
            one, two = self._local_pair(ext, ctx, caller.linkedid)
            # app_queue gives the agent leg the caller's connected line, else the dialled exten.
            if caller.con_num != "<unknown>":
                num, name = caller.con_num, caller.con_name
            else:
                num, name = caller.exten, "<unknown>"
            one.cid_num, one.cid_name = num, name
            self._exten(one, 1, "AppQueue", "(Outgoing Line)")
            self._set_cid(one, num, name)
            peer = m.interface.split("/", 1)[1]
            self._var(one, "DIALEDPEERNUMBER", peer)
            self._var(two, "DIALEDPEERNUMBER", peer)
            two.con_num, two.con_name = caller.cid_num, caller.cid_name
            self._set_cid(two, caller.cid_num, caller.cid_name)
            self._set_connected(two, caller.cid_num, caller.cid_name)
            self._local_bridge(one, two, optimize=False)
            leg = AgentLeg(caller=c, member=m, one=one, two=two, started=self.scheduler.now())
        else:
            one = self._phone_channel(m.interface, "from-agents", "s", linkedid=caller.linkedid)
            # app_queue: the agent sees the caller's connected line, else the dialled extension.
            if caller.con_num != "<unknown>":
                num, name = caller.con_num, caller.con_name
            else:
                num, name = caller.exten, "<unknown>"
            self._exten(one, 1, "AppQueue", "(Outgoing Line)")
            self._set_cid(one, num, name)
            one.exten = caller.exten
            self._set_connected(one, caller.cid_num, caller.cid_name)
            leg = AgentLeg(caller=c, member=m, one=one, two=None, started=self.scheduler.now())
        one.owner = leg
        if leg.two is not None:
            leg.two.owner = leg
        c.leg = leg
        self.emit(
            "AgentCalled",
            AGENT,
            [
                *caller.block(),
                *one.block("Dest"),
                ("Queue", c.queue.name),
                ("Interface", m.interface),
                ("MemberName", m.name),
            ],
        )
        self._two("DialBegin", caller, one, ("DialString", m.interface))
        if leg.two is None and (caller.con_num, caller.con_name) != (one.cid_num, one.cid_name):
            self._set_connected(caller, one.cid_num, one.cid_name)
        mode = self.mode_of(m.interface)
        if leg.two is not None:
            if mode is AgentMode.SIMULATED:
                self._exten(leg.two, 1, "NoOp", f"sim agent {leg.two.exten} answers")
            else:
                self._exten(leg.two, 1, "NoOp", f"sim agent {leg.two.exten} rings")
        if mode is AgentMode.SIMULATED:
            ring = self.agents.ring_seconds()
            if ring <= 0 and leg.two is not None:
                self._agent_answers(leg)
                return
            self._agent_rings(leg)
            if ring <= 0:  # a phone rings before it answers, however fast
                self._agent_answers(leg)
                return
            leg.timers.append(self.later(ring, lambda: self._agent_answers(leg)))
        else:
            self._agent_rings(leg)
        leg.timers.append(self.later(c.queue.timeout, lambda: self._ring_timeout(leg)))

    def _agent_rings(self, leg: AgentLeg) -> None:
        if leg.two is not None:
            self._exten(leg.two, 2, "Ringing", "")
        self._state(leg.one, RINGING)
        self._two("DialState", leg.caller.chan, leg.one, ("DialStatus", "RINGING"))
        if self._is_phone(leg.member):
            # device_state_busy_at = 1: the ringing phone is BUSY, its members Status 3.
            self._phone_changed(leg.member.state_interface)
            return
        self._dsc(leg.member.state_interface, "RINGING")
        leg.member.status = 6
        self.emit("QueueMemberStatus", AGENT, self._member_event_fields(leg.member))
        leg.member.status = 1

    def ringing_leg(self, interface: str) -> AgentLeg | None:
        for ch in self.channels.values():
            leg = ch.owner
            if (
                isinstance(leg, AgentLeg)
                and leg.answered_at is None
                and leg.caller.state == "ringing"
            ):
                iface = leg.member.interface
                if interface in (iface, leg.member.state_interface, leg.one.name) or (
                    leg.two is not None and interface == leg.two.name
                ):
                    return leg
        return None

    def answer(self, interface: str) -> bool:
        """A person at the desk accepts the call ringing on ``interface`` (or channel name): a
        queue call, an originate to their phone, or a Dial() to it; False if none rings."""
        leg = self.ringing_leg(interface)
        if leg is not None:
            self._agent_answers(leg)
            return True
        for ch in list(self.channels.values()):
            if interface not in (ch.device, ch.name):
                continue
            owner = ch.owner
            if isinstance(owner, PhoneCall) and not owner.answered and not owner.done:
                self._phone_answers(owner)
                return True
            if isinstance(owner, DialApp) and owner.callee is ch and not owner.answered:
                self._dial_answered(owner)
                return True
        return False

    def ringing(self, interface: str) -> bool:
        """Whether anything rings on ``interface`` (what ``answer`` would pick up)."""
        if self.ringing_leg(interface) is not None:
            return True
        for ch in self.channels.values():
            if interface in (ch.device, ch.name):
                owner = ch.owner
                if isinstance(owner, PhoneCall) and not owner.answered and not owner.done:
                    return True
                if isinstance(owner, DialApp) and owner.callee is ch and not owner.answered:
                    return True
        return False

    def _agent_answers(self, leg: AgentLeg) -> None:
        c, m = leg.caller, leg.member
        if c.state != "ringing" or c.leg is not leg:
            return
        cancel(leg.timers)
        one, two, caller, q = leg.one, leg.two, c.chan, c.queue
        now = self.scheduler.now()
        if two is not None:
            self._exten(two, 2, "Answer", "")
            self._state(two, UP)
        else:
            self._state(one, UP)
        m.ringing = False
        if not self._is_phone(m):  # a phone stays BUSY (Status 3) from its first ring
            m.status = 2
            self._dsc(m.state_interface, "INUSE")
            self._member_status(m)
        self._avail_device(q)
        if two is not None:
            one.exten = caller.exten
            self._state(one, UP)
            self._exten(one, 1, "AppQueue", "(Outgoing Line)")
            self._set_connected(one, caller.cid_num, caller.cid_name)
            self._dsc(m.state_interface, "INUSE")
        self._two("DialEnd", caller, one, ("DialStatus", "ANSWER"))
        self._moh(caller, start=False)
        hold = int(now - c.joined)
        c.hold_seconds = hold
        member_vars = (
            ("MEMBERINTERFACE", m.interface),
            ("MEMBERNAME", m.name),
            ("MEMBERCALLS", str(m.calls_taken)),
            ("MEMBERLASTCALL", str(m.last_call)),
            ("MEMBERPENALTY", str(m.penalty)),
            ("MEMBERDYNAMIC", "1"),
            ("MEMBERREALTIME", "0"),
        )
        for ch in (caller, one):
            for k, v in member_vars:
                self._var(ch, k, v)
        for ch in (caller, one):
            self._var(ch, "QEHOLDTIME", str(hold))
            self._var(ch, "QEORIGINALPOS", str(c.original_position))
        for ch in (caller, one):
            self._queue_vars(ch, q)
        pos = self._leave_queue(c)
        self._var(caller, "QUEUEPOSITION", str(pos))
        self._elapsed_vars(caller, "QUEUEWAIT", c.joined)
        ring = int(now - leg.started)
        self.emit(
            "AgentConnect",
            AGENT,
            [
                *caller.block(),
                *one.block("Dest"),
                ("Queue", q.name),
                ("Interface", m.interface),
                ("MemberName", m.name),
                ("HoldTime", str(hold)),
                ("RingTime", str(ring)),
            ],
        )
        if caller.variables.get("CTI_RECORD") != "no":  # [cti-record]'s check
            self._record(caller)
        bridge = self._new_bridge()
        self._enter(bridge, one)
        self._enter(bridge, caller)
        self._settle(bridge)
        self._var(one, "BRIDGEPEER", caller.name)
        if caller.name in self._call_ids:
            self._var(one, "BRIDGEPVTCALLID", self._call_ids[caller.name])
        self._var(caller, "BRIDGEPEER", one.name)
        if two is not None:
            self._exten(two, 3, "Wait", "600")
        m.in_call = True
        c.state = "bridged"
        c.connected_at = now
        leg.answered_at = now
        self._remove_timers_patience(c)
        if c.talk_seconds is not None:
            c.timers.append(
                self.later(c.talk_seconds, lambda: self._caller_gone(c, request_done=False))
            )
        if self.mode_of(m.interface) is AgentMode.SIMULATED:
            handle = self.agents.handle_seconds()
            if handle is not None:
                leg.timers.append(self.later(handle, lambda: self.agent_hangup(leg)))
        self._spy_scan()
        self._distribute(q)

    def _remove_timers_patience(self, c: QueueCaller) -> None:
        cancel(c.timers)

    def _ring_timeout(self, leg: AgentLeg) -> None:
        """Nobody answered within the queue timeout: AgentRingNoAnswer, retry after ``retry`` s."""
        c = leg.caller
        if c.leg is not leg or c.state != "ringing":
            return
        self._ring_no_answer_event(leg)
        self._ring_again(leg, "NOANSWER")

    def _ring_again(self, leg: AgentLeg, dialstatus: str) -> None:
        """The agent's phone stops ringing without taking the call (``dialstatus``): the caller
        waits again, and app_queue tries the members again after the queue's ``retry``."""
        c = leg.caller
        c.leg = None
        c.state = "waiting"
        c.retry_at = self.scheduler.now() + c.queue.retry
        self._drop_leg(leg, dialstatus)
        c.timers.append(self.later(c.queue.retry, lambda: self._distribute(c.queue)))

    def _ring_no_answer_event(self, leg: AgentLeg) -> None:
        c, m = leg.caller, leg.member
        self.emit(
            "AgentRingNoAnswer",
            AGENT,
            [
                *c.chan.block(),
                *leg.one.block("Dest"),
                ("Queue", c.queue.name),
                ("Interface", m.interface),
                ("MemberName", m.name),
                ("RingTime", str(int(self.scheduler.now() - leg.started))),
            ],
        )

    def _drop_leg(self, leg: AgentLeg, dialstatus: str) -> None:
        """Stop ringing an agent's phone (no answer, caller gone, rejected)."""
        cancel(leg.timers)
        m = leg.member
        self._two("DialEnd", leg.caller.chan, leg.one, ("DialStatus", dialstatus))
        if self._is_phone(m):
            # app_queue hangs the ringing channel up itself: no request, cause 0.
            self._hangup_event(leg.one, 0)
            m.ringing = False
            self._phone_changed(m.state_interface)
            return
        if leg.two is not None:
            self._hreq(leg.two, 16)
        self._hangup_event(leg.one, 16)
        if leg.two is not None:
            self._soft(leg.two, 16)
            self._hangup_event(leg.two, 16)
        m.ringing = False
        m.status = 1
        self._dsc(m.state_interface, "NOT_INUSE")
        self._member_status(m)
        self._avail_device(leg.caller.queue)
