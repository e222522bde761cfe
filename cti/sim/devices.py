"""PJSIP phones as Asterisk 22 sees them: registered or not, qualified or not, busy or free.

What the tier captures (``tests/captures``) show of cti's ``config/asterisk/pjsip.conf``
(``max_contacts = 1``, ``qualify_frequency = 10``, ``device_state_busy_at = 1``):

- a phone that is not registered is ``UNAVAILABLE``: a queue member on it has ``Status: 5`` and is
  never rung; an Originate to it fails at once (``Reason: 0``, no channel);
- REGISTER: ``ContactStatus NonQualified``, ``PeerStatus Reachable``, ``ContactStatus Reachable``
  (Asterisk qualifies a new contact at once), ``DeviceStateChange NOT_INUSE``, members
  ``QueueMemberStatus`` 1; un-REGISTER: ``PeerStatus Unreachable``, ``UNAVAILABLE``, members 5,
  ``ContactStatus Removed``;
- with ``device_state_busy_at = 1`` a phone with one channel (ringing or talking) is ``BUSY``:
  members show ``Status: 3`` from the first ring to the hangup (never 6 or 2);
- after a restart the stored contacts come back ``NonQualified`` while Asterisk boots, and the
  phones stay ``UNAVAILABLE`` until the first qualify (``PeerStatus``/``ContactStatus Reachable``).

Interfaces that are not phones (``Local/...``, the carrier trunk) keep the simulator's older model.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cti.sim.model import SYSTEM

if TYPE_CHECKING:
    from cti.sim.base import PbxBase

# ``QueueMemberStatus`` Status for a device state (app_queue's ``ast_device_state`` values).
MEMBER_STATUS = {"NOT_INUSE": 1, "INUSE": 2, "BUSY": 3, "UNAVAILABLE": 5, "RINGING": 6}
_PHONE = re.compile(r"^PJSIP/([^@/]+)$")
_TRUNKS = ("carrier", "carrier-in")


def phone_endpoint(device: str) -> str | None:
    """The endpoint name of a phone's device (``PJSIP/agent1`` -> ``agent1``), else None."""
    m = _PHONE.match(device)
    if m is None or m.group(1) in _TRUNKS:
        return None
    return m.group(1)


@dataclass(eq=False, slots=True)
class Phone:
    endpoint: str
    registered: bool
    qualified: bool
    port: int

    @property
    def device(self) -> str:
        return f"PJSIP/{self.endpoint}"

    @property
    def uri(self) -> str:
        return f"sip:{self.endpoint}@127.0.0.1:{self.port}"


class Phones:
    """The PJSIP phones of one simulated Asterisk.

    A phone the simulator has not been told about is registered (``registered_by_default``), so
    tests and the demo that never register anything keep ringing their agents.
    """

    def __init__(self, pbx: PbxBase, *, registered_by_default: bool = True) -> None:
        self.pbx = pbx
        self.registered_by_default = registered_by_default
        self.phones: dict[str, Phone] = {}
        self.qualified_by_default = True
        self._ports = 5070

    def get(self, device: str) -> Phone | None:
        """The phone behind ``device`` (made on first sight), or None if it is not a phone."""
        endpoint = phone_endpoint(device)
        if endpoint is None:
            return None
        phone = self.phones.get(endpoint)
        if phone is None:
            self._ports += 1
            phone = Phone(
                endpoint=endpoint,
                registered=self.registered_by_default,
                qualified=self.qualified_by_default,
                port=self._ports,
            )
            self.phones[endpoint] = phone
        return phone

    def reachable(self, device: str) -> bool:
        """Whether a call can reach ``device`` (anything but a phone always can)."""
        phone = self.get(device)
        return phone is None or (phone.registered and phone.qualified)

    def state(self, device: str) -> str:
        """The phone's device state: UNAVAILABLE, BUSY (one channel or more) or NOT_INUSE."""
        if not self.reachable(device):
            return "UNAVAILABLE"
        return "BUSY" if self.pbx.channels_on.get(device) else "NOT_INUSE"

    def changed(self, device: str) -> None:
        """Publish the phone's device state and its queue members' status, if they changed."""
        if phone_endpoint(device) is None:
            return
        state = self.state(device)
        self.pbx.dsc_cached(device, state)
        self.pbx.members_follow(device, MEMBER_STATUS[state])

    # --- REGISTER --------------------------------------------------------------------------

    def _contact(self, phone: Phone, status: str) -> None:
        self.pbx.emit(
            "ContactStatus",
            SYSTEM,
            [
                ("URI", phone.uri),
                ("ContactStatus", status),
                ("AOR", phone.endpoint),
                ("EndpointName", phone.endpoint),
                ("RoundtripUsec", "0" if status in ("NonQualified", "Removed") else "500"),
            ],
        )

    def _peer(self, phone: Phone, status: str) -> None:
        self.pbx.emit(
            "PeerStatus",
            SYSTEM,
            [("ChannelType", "PJSIP"), ("Peer", phone.device), ("PeerStatus", status)],
        )

    def register(self, device: str) -> None:
        """The phone registers: Asterisk qualifies the new contact at once and it is reachable."""
        phone = self.get(device)
        if phone is None:
            raise ValueError(f"{device} is not a PJSIP phone")
        if phone.registered:
            return
        phone.registered = True
        phone.qualified = True
        self._ports += 1
        phone.port = self._ports
        self._contact(phone, "NonQualified")
        self._peer(phone, "Reachable")
        self._contact(phone, "Reachable")
        self.changed(phone.device)

    def unregister(self, device: str) -> None:
        """The phone sends REGISTER with Expires: 0: unreachable at once."""
        phone = self.get(device)
        if phone is None:
            raise ValueError(f"{device} is not a PJSIP phone")
        if not phone.registered:
            return
        phone.registered = False
        self._peer(phone, "Unreachable")
        self.changed(phone.device)
        self._contact(phone, "Removed")

    # --- restarts ----------------------------------------------------------------------------

    def forget_qualify(self) -> None:
        """A new Asterisk: registered contacts are loaded from its database, not yet qualified."""
        for phone in self.phones.values():
            phone.qualified = False
        self.qualified_by_default = False

    def booting(self) -> None:
        """While Asterisk boots it reads the stored contacts back: ``NonQualified``."""
        for phone in self.phones.values():
            if phone.registered:
                self._contact(phone, "NonQualified")

    def qualify(self, device: str | None = None, *, skip: Collection[str] = ()) -> None:
        """The first qualify after a restart of ``device`` (or every phone not in ``skip``): a
        registered phone is reachable again."""
        if device is None:
            self.qualified_by_default = True
        for phone in self.phones.values():
            if (device is not None and phone.device != device) or phone.device in skip:
                continue
            if phone.registered and not phone.qualified:
                phone.qualified = True
                self._peer(phone, "Reachable")
                self._contact(phone, "Reachable")
                self.changed(phone.device)
