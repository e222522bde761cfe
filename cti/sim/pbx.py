"""The PBX model: the capture PBX's dialplan, app_queue, Local channels, PJSIP phones, ChanSpy,
and what a restart or a crash does to them.

One class per part of Asterisk it imitates, each building on the one before:
:mod:`cti.sim.base` (channels, bridges, device state, Originate responses),
:mod:`cti.sim.dialapp` (``Dial()``), :mod:`cti.sim.dialer` (``[cti-dialer]``),
:mod:`cti.sim.chanspy`, :mod:`cti.sim.contexts` (the capture PBX's contexts, the trunk),
:mod:`cti.sim.originate`, app_queue (:mod:`cti.sim.queue_members`,
:mod:`cti.sim.queue_callers`, :mod:`cti.sim.queue_ringing`), :mod:`cti.sim.manager` (Hangup,
Redirect, Setvar, Getvar); :class:`Pbx` adds the ``Hangup`` event, restarts and reporting.
"""

from __future__ import annotations

from collections.abc import Collection

from cti.sim.atxfer import AttendedTransfers
from cti.sim.flows import (
    ANSWER,
    BUSY_OUT,
    CONGESTION,
    NOANSWER,
    AgentBehaviour,
    CustomerPlan,
    DialApp,
    Originated,
    QueueCaller,
    Transferred,
)
from cti.sim.model import CAUSE_TEXT, DIALPLAN, SYSTEM, Channel, Queue

__all__ = [
    "ANSWER",
    "BUSY_OUT",
    "CONGESTION",
    "NOANSWER",
    "AgentBehaviour",
    "CustomerPlan",
    "Pbx",
]


class Pbx(AttendedTransfers):
    """The simulated Asterisk: Originate (Local channels and PJSIP phones), the capture PBX's
    ``sim-customer``/``sim-agent``/``from-carrier`` dialplan, app_queue, hangups and Redirect,
    ChanSpy, and restarts. PJSIP phones' registration and device state: :mod:`cti.sim.devices`."""

    # --- hangups -----------------------------------------------------------------------------

    def _hangup_event(self, ch: Channel, cause: int, *, tech: int | None = None) -> None:
        """``Hangup`` for a channel (after what its flow must say first); it is gone."""
        o = ch.owner
        if isinstance(o, QueueCaller | Transferred):
            o = o.origin
        # The Local ;2 half ends its Dial() to the carrier: the carrier leg goes with it.
        if isinstance(o, Originated) and ch is o.two and o.carrier is not None and o.carrier.alive:
            self._carrier_down(o, cause)
        dial = getattr(ch.owner, "dial", None)
        if isinstance(dial, DialApp) and dial.caller is ch and not dial.done:
            self._dial_caller_gone(dial)  # the channel that dialled goes: so does its call
        for spy in self._spies_on(ch):
            self._spy_stop(spy)
        late = self._pending_complete.pop(ch.name, None)
        if late is not None:
            self._agent_complete_late(late)
        self._ch(
            "Hangup",
            ch,
            ("Cause", str(cause)),
            ("Cause-txt", CAUSE_TEXT.get(cause, "Unknown")),
            *([("TechCause", str(tech))] if tech is not None else []),
        )
        if self.channels.pop(ch.name, None) is ch and ch.alive:
            left = self.channels_on[ch.device] - 1
            if left:
                self.channels_on[ch.device] = left
            else:
                del self.channels_on[ch.device]
        ch.alive = False
        self._call_ids.pop(ch.name, None)

    # --- restarts ----------------------------------------------------------------------------

    def shutdown(self, *, restart: bool) -> None:
        """``core restart now`` (or ``core stop now``): Asterisk hangs every channel up, saying
        so (SoftHangupRequest Cause 4 on each, then each call's own ending: a queue call's
        AgentComplete...), then ``Shutdown``. The sockets close after it (the simulator's job)."""
        live = [ch for ch in self.channels.values() if ch.alive]
        for ch in live:
            self._soft(ch, 4)
        for ch in live:
            owner = ch.owner
            if ch.alive and isinstance(owner, QueueCaller) and ch is owner.chan:
                self._caller_gone(owner, request_done=True)
        for ch in list(self.channels.values()):
            if ch.alive:
                self._hangup_event(ch, 16)
                self._phone_changed(ch.device)
        self.emit(
            "Shutdown",
            SYSTEM,
            [("Shutdown", "Cleanly"), ("Restart", "True" if restart else "False")],
        )

    def reset(self) -> None:
        """A new Asterisk process (after a restart or a crash): no channels, no calls, and no
        dynamic queue members (``persistentmembers = no``); the phones' contacts come back from
        its database, unqualified. Timers of the old process never fire."""
        self.generation += 1
        for ch in self.channels.values():
            ch.alive = False
        self.channels = {}
        self.channels_on = {}
        self._call_ids.clear()
        self._pending_spies.clear()
        self._spies.clear()
        self._pending_complete.clear()
        self.queues = {
            name: Queue(name=name, service_level=self.service_level) for name in self.queues
        }
        self.members_by_device = {}
        self._seq = {}
        self._dev_cache = self._fresh_device_cache()
        self.processed_calls = 0
        self.phones.forget_qualify()
        self.up = False

    def fully_booted(self) -> None:
        """The new Asterisk has loaded its modules: the stored contacts are read back
        (``ContactStatus NonQualified``), the dialplan's globals set, then ``FullyBooted``."""
        self.up = True
        self.phones.booting()
        for name, value in self.global_vars.items():
            self.emit(
                "VarSet",
                DIALPLAN,
                [("Channel", "none"), ("Uniqueid", "none"), ("Variable", name), ("Value", value)],
            )
        # (Headers in this order here; at a login, Uptime comes first.)
        self.emit(
            "FullyBooted",
            SYSTEM,
            [("Status", "Fully Booted"), ("Uptime", "0"), ("LastReload", "0")],
        )

    def qualify(self, device: str | None = None, *, skip: Collection[str] = ()) -> None:
        """Asterisk's first qualify after a restart of one phone (or of all but ``skip``):
        registered ones are reachable again."""
        self.phones.qualify(device, skip=skip)

    # --- reporting ---------------------------------------------------------------------------

    def channel_rows(self) -> list[Channel]:
        return [ch for ch in self.channels.values() if ch.alive]
