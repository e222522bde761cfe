"""ChanSpy (app_chanspy): a supervisor's phone listens to, whispers to or barges into an agent's
channel."""

from __future__ import annotations

from cti.sim.dialer import DialerPlan
from cti.sim.flows import Originated, PhoneCall, Spy
from cti.sim.model import CALL, Channel

# config/asterisk/extensions.conf [cti-spy]: each exten's ChanSpy options (E: end with the call).
SPY_OPTIONS = {"listen": "qE", "whisper": "qwE", "barge": "qBE"}


class ChanSpyApp(DialerPlan):
    """``ChanSpy(prefix,options)``: sessions wait for a bridged channel of that name."""

    def _chanspy(self, origin: Originated | PhoneCall, data: str) -> None:
        """``ChanSpy(prefix,options)`` on the answered spying channel."""
        target, _, options = data.partition(",")
        spy = Spy(origin=origin, target=target, ends="E" in options)
        origin.spy = spy
        self._pending_spies.append(spy)
        self._spy_scan()

    def _spy_scan(self) -> None:
        for spy in list(self._pending_spies):
            if spy.origin.done:
                self._pending_spies.remove(spy)
                continue
            for ch in self.channels.values():
                if (
                    ch.name.startswith(spy.target)
                    and ch.bridge is not None
                    and ch is not spy.origin.one
                ):
                    self._pending_spies.remove(spy)
                    self._spy_start(spy, ch)
                    break

    def _spies_on(self, ch: Channel) -> list[Spy]:
        return [s for s in self._spies if s.spyee is ch]

    def _spy_start(self, spy: Spy, spyee: Channel) -> None:
        spy.spyee = spyee
        self._spies.append(spy)
        self.emit("ChanSpyStart", CALL, [*spy.origin.one.block("Spyer"), *spyee.block("Spyee")])
        # Asterisk re-evaluates the bridge when the spy's audiohook attaches.
        bridge = spyee.bridge
        if bridge is not None:
            peers = [c for c in bridge.channels if c is not spyee]
            if peers:
                self._var(spyee, "BRIDGEPEER", peers[0].name)
                self._var(peers[0], "BRIDGEPEER", spyee.name)
            self._settle(bridge)

    def _spy_stop(self, spy: Spy) -> None:
        """The session ends (the spied channel hangs up, or the spy goes). With option E the spying
        channel's ChanSpy() returns and its dialplan hangs up; without it, it waits for the next
        channel of that name (and joins the agent's next call)."""
        spyee = spy.spyee
        if spyee is None:
            return
        self.emit("ChanSpyStop", CALL, [*spy.origin.one.block("Spyer"), *spyee.block("Spyee")])
        if spy in self._spies:
            self._spies.remove(spy)
        spy.spyee = None
        origin = spy.origin
        if origin.done:
            return
        if spy.ends:
            if isinstance(origin, PhoneCall):
                self.later(0.0, lambda: self._phone_call_ends(origin, 16))
            else:
                self.later(0.0, lambda: self._one_ends(origin))
        else:
            self._pending_spies.append(spy)

    def _spy_end(self, spy: Spy) -> None:
        """The spying channel goes away."""
        if spy.spyee is not None:
            bridge = spy.spyee.bridge
            spy.ends = False
            self._spy_stop(spy)
            if bridge is not None:
                self._settle(bridge)
        if spy in self._pending_spies:
            self._pending_spies.remove(spy)

    # --- provided by the dialplan ------------------------------------------------------------

    def _one_ends(self, o: Originated) -> None:
        raise NotImplementedError
