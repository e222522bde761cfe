"""app_queue's members: QueueAdd, QueueRemove, QueuePause, and a member's device state."""

from __future__ import annotations

from cti.sim.devices import MEMBER_STATUS, phone_endpoint
from cti.sim.flows import AgentLeg, Hdrs
from cti.sim.model import AGENT, AgentMode, Member, Queue
from cti.sim.originate import Originate


class QueueMembers(Originate):
    """Queue members and what their phones' states make of them."""

    # --- queue membership --------------------------------------------------------------------

    def queue_add(
        self,
        queue: str,
        interface: str,
        *,
        name: str = "",
        state_interface: str = "",
        penalty: int = 0,
        paused: bool = False,
        reason: str = "",
        mode: AgentMode | None = None,
    ) -> str | None:
        """QueueAdd; returns an error message, or None on success (events already emitted)."""
        refused = self.queue_add_refused(queue, interface)
        if refused is not None:
            return refused
        q = self.queues[queue]
        if mode is not None:
            self.agent_modes[interface] = mode
        m = Member(
            queue=queue,
            interface=interface,
            name=name or interface,
            state_interface=state_interface or interface,
            penalty=penalty,
            paused=paused,
            paused_reason=reason if paused else "",
            login_time=int(self.now_epoch()),
            mode=self.mode_of(interface),
        )
        if paused:
            m.last_pause = int(self.now_epoch())
        if self._is_phone(m):
            # An unregistered (or not yet qualified) phone: Status 5, never rung.
            m.status = MEMBER_STATUS[self.phones.state(m.state_interface)]
        q.members[interface] = m
        self.members_by_device.setdefault(m.state_interface, []).append((q, m))
        self._dsc_cached(f"Queue:{queue}_pause_{interface}", "INUSE" if paused else "NOT_INUSE")
        self.emit("QueueMemberAdded", AGENT, self._member_event_fields(m))
        self._avail_device(q)
        self.later(0.0, lambda: self._distribute(q))
        return None

    def queue_remove(self, queue: str, interface: str) -> str | None:
        """QueueRemove; returns an error message, or None on success (events already emitted)."""
        refused = self.queue_remove_refused(queue, interface)
        if refused is not None:
            return refused
        q = self.queues[queue]
        m = q.members.pop(interface)
        following = self.members_by_device.get(m.state_interface, [])
        following[:] = [(qq, mm) for qq, mm in following if mm is not m]
        self.emit("QueueMemberRemoved", AGENT, self._member_event_fields(m))
        self._dsc_cached(f"Queue:{queue}_pause_{interface}", "NOT_INUSE")
        self._avail_device(q)
        return None

    def queue_pause(self, queue: str, interface: str, paused: bool, reason: str = "") -> bool:
        """QueuePause of ``interface`` in ``queue`` (every queue if empty); False if not there."""
        found = self.memberships(queue, interface)
        for q, m in found:
            m.paused = paused
            m.paused_reason = reason if paused else ""
            if paused:
                m.last_pause = int(self.now_epoch())
            self._dsc_cached(
                f"Queue:{q.name}_pause_{interface}", "INUSE" if paused else "NOT_INUSE"
            )
            self.emit("QueueMemberPause", AGENT, self._member_event_fields(m))
            self._avail_device(q)
            if not paused:
                self._distribute(q)
        return bool(found)

    def queue_add_refused(self, queue: str, interface: str) -> str | None:
        """Why QueueAdd cannot add ``interface`` to ``queue``, in Asterisk's words; else None."""
        q = self.queues.get(queue)
        if q is None:
            return "Unable to add interface to queue: No such queue"
        if interface in q.members:
            return "Unable to add interface: Already there"
        return None

    def queue_remove_refused(self, queue: str, interface: str) -> str | None:
        """Why QueueRemove cannot remove ``interface`` from ``queue``; else None."""
        q = self.queues.get(queue)
        if q is None:
            return "Unable to remove interface from queue: No such queue"
        if interface not in q.members:
            return "Unable to remove interface: Not there"
        return None

    def memberships(self, queue: str, interface: str) -> list[tuple[Queue, Member]]:
        """``interface``'s membership of ``queue``, or of every queue if ``queue`` is empty."""
        return [
            (q, q.members[interface])
            for q in self.queues.values()
            if (not queue or q.name == queue) and interface in q.members
        ]

    def _avail_device(self, q: Queue) -> None:
        # The member found free last time is likely free still; else the members are looked
        # through from half the queue past the last one rung (rung the longest ago but not next in
        # turn, so the one found stays free a while). Looked through from the first at every
        # change, a busy team of 2,000 made a tenth of the simulator's work.
        hint = q.members.get(q.free_hint) if q.free_hint is not None else None
        if hint is None or not self._available(hint):
            members = list(q.members.values())
            start = (q.rr_last + len(members) // 2) % len(members) if members else 0
            hint = next((m for m in members[start:] if self._available(m)), None) or next(
                (m for m in members[:start] if self._available(m)), None
            )
            q.free_hint = hint.interface if hint is not None else None
        self._dsc_cached(f"Queue:{q.name}_avail", "INUSE" if hint is None else "NOT_INUSE")

    def _available(self, m: Member) -> bool:
        return not m.paused and not m.in_call and not m.ringing and m.status == 1

    def _busy_elsewhere(self, m: Member) -> bool:
        """The same interface rings or talks as a member of another queue (members are keyed by
        interface: one look per queue)."""
        for qq in self.queues.values():
            mm = qq.members.get(m.interface)
            if mm is not None and mm is not m and (mm.in_call or mm.ringing):
                return True
        return False

    def _member_event_fields(self, m: Member) -> Hdrs:
        return [*m.fields(), ("Ringinuse", "0"), ("Wrapuptime", "0")]

    def _member_status(self, m: Member) -> None:
        self.emit("QueueMemberStatus", AGENT, self._member_event_fields(m))

    def _is_phone(self, m: Member) -> bool:
        return phone_endpoint(m.state_interface) is not None

    def _agent_leg_over(self, leg: AgentLeg) -> None:
        """The agent's leg of a queue call is over: its member is free again (a phone's members
        follow its device state; others go NOT_INUSE, with QueueMemberStatus)."""
        m = leg.member
        if self._is_phone(m):
            self._member_free(leg)
            return
        self._dsc(m.state_interface, "NOT_INUSE")
        self._member_free(leg)
        self._member_status(m)
        self._avail_device(leg.caller.queue)

    def _member_free(self, leg: AgentLeg) -> None:
        """The agent's call is over (their channel hung up): a call taken, maybe wrap-up; a
        phone's members follow its device state (QueueMemberStatus with the new CallsTaken)."""
        m = leg.member
        m.in_call = False
        if not self._is_phone(m):
            m.status = 1
        m.calls_taken += 1
        m.last_call = int(self.now_epoch())
        if self.mode_of(m.interface) is AgentMode.SIMULATED:
            wrap = self.agents.wrapup_seconds()
            if wrap > 0:
                m.wrapup_until = self.scheduler.now() + wrap
                q = leg.caller.queue
                self.later(wrap, lambda: self._distribute(q))
        if self._is_phone(m):
            self._phone_changed(m.state_interface)
