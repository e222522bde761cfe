"""Plain data the PBX model is made of: channels, bridges, queues, members, and event categories."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Asterisk's manager permission/category bits (include/asterisk/manager.h).
CATEGORIES: dict[str, int] = {
    "system": 1 << 0,
    "call": 1 << 1,
    "log": 1 << 2,
    "verbose": 1 << 3,
    "command": 1 << 4,
    "agent": 1 << 5,
    "user": 1 << 6,
    "config": 1 << 7,
    "dtmf": 1 << 8,
    "reporting": 1 << 9,
    "cdr": 1 << 10,
    "dialplan": 1 << 11,
    "originate": 1 << 12,
    "agi": 1 << 13,
    "cc": 1 << 14,
    "aoc": 1 << 15,
    "test": 1 << 16,
    "security": 1 << 17,
    "message": 1 << 19,
}
ALL = sum(CATEGORIES.values())
SYSTEM = CATEGORIES["system"]
CALL = CATEGORIES["call"]
COMMAND = CATEGORIES["command"]
AGENT = CATEGORIES["agent"]
USER = CATEGORIES["user"]
DIALPLAN = CATEGORIES["dialplan"]
SECURITY = CATEGORIES["security"]
REPORTING = CATEGORIES["reporting"]
ORIGINATE = CATEGORIES["originate"]
CATEGORY_NAME = {bit: name for name, bit in CATEGORIES.items()}


def parse_mask(text: str) -> int | None:
    """An ``Events:``/``read=`` style mask: on/off, a number, or comma-separated names.

    Returns None when the text names no known category (an invalid mask).
    """
    t = text.strip().lower()
    if t in ("on", "yes", "true", "all"):
        return ALL
    if t in ("off", "no", "false", ""):
        return 0
    if t.isdigit():
        return int(t) & ALL
    mask = 0
    for raw in t.split(","):
        part = raw.strip()
        if part == "all":
            mask |= ALL
        elif part in CATEGORIES:
            mask |= CATEGORIES[part]
    return mask if mask else None


STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up", 7: "Busy"}
DOWN, RING, RINGING, UP, BUSY = 0, 4, 5, 6, 7

CAUSE_TEXT = {
    0: "Unknown",
    16: "Normal Clearing",
    17: "User busy",
    19: "User alerting, no answer",
    34: "Circuit/channel congestion",
}


class AgentMode(StrEnum):
    """Who answers a queue member's phone."""

    SIMULATED = "simulated"  # answers after a ring, talks for a handle time, then wraps up
    PERSON = "person"  # a person at the agent desk: rings until answered or hung up over AMI


@dataclass(eq=False, slots=True)
class Channel:
    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    device: str
    created: float
    state: int = DOWN
    cid_num: str = "<unknown>"
    cid_name: str = "<unknown>"
    con_num: str = "<unknown>"
    con_name: str = "<unknown>"
    priority: int = 1
    app: str = ""
    appdata: str = ""
    bridge: Bridge | None = None
    variables: dict[str, str] = field(default_factory=dict)
    # The flow object that decides what a hangup request on this channel means.
    owner: Any = None
    alive: bool = True
    # manager.conf ``channelvars``: shown as ``ChanVariable: NAME=value`` in every snapshot.
    manager_vars: tuple[str, ...] = ()

    def block(self, prefix: str = "") -> list[tuple[str, str]]:
        """The standard channel snapshot headers, in Asterisk's order."""
        p = prefix
        out = [
            (p + "Channel", self.name),
            (p + "ChannelState", str(self.state)),
            (p + "ChannelStateDesc", STATE_DESC[self.state]),
            (p + "CallerIDNum", self.cid_num),
            (p + "CallerIDName", self.cid_name),
            (p + "ConnectedLineNum", self.con_num),
            (p + "ConnectedLineName", self.con_name),
            (p + "Language", "en"),
            (p + "AccountCode", ""),
            (p + "Context", self.context),
            (p + "Exten", self.exten),
            (p + "Priority", str(self.priority)),
            (p + "Uniqueid", self.uniqueid),
            (p + "Linkedid", self.linkedid),
        ]
        for name in self.manager_vars:
            out.append((p + "ChanVariable", f"{name}={self.variables.get(name, '')}"))
        return out

    def chan_variables(self) -> list[tuple[str, str]]:
        """``ChanVariable(<channel>): NAME=value``, as OriginateResponse ends."""
        return [
            (f"ChanVariable({self.name})", f"{name}={self.variables.get(name, '')}")
            for name in self.manager_vars
        ]

    @property
    def pjsip(self) -> bool:
        return self.name.startswith("PJSIP/")


@dataclass(eq=False, slots=True)
class Bridge:
    uniqueid: str
    channels: list[Channel] = field(default_factory=list)
    # simple_bridge; native_rtp once two PJSIP channels share it with no audiohook (ChanSpy).
    technology: str = "simple_bridge"

    def block(self) -> list[tuple[str, str]]:
        return [
            ("BridgeUniqueid", self.uniqueid),
            ("BridgeType", "basic"),
            ("BridgeTechnology", self.technology),
            ("BridgeCreator", "<unknown>"),
            ("BridgeName", "<unknown>"),
            ("BridgeNumChannels", str(len(self.channels))),
            ("BridgeVideoSourceMode", "none"),
        ]


@dataclass(eq=False, slots=True)
class Member:
    queue: str
    interface: str
    name: str
    state_interface: str
    penalty: int = 0
    paused: bool = False
    paused_reason: str = ""
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    login_time: int = 0
    in_call: bool = False
    status: int = 1  # AST_DEVICE_NOT_INUSE
    ringing: bool = False
    wrapup_until: float = 0.0
    mode: AgentMode = AgentMode.PERSON

    def fields(
        self, *, name_key: str = "MemberName", iface_key: str = "Interface"
    ) -> list[tuple[str, str]]:
        return [
            ("Queue", self.queue),
            (name_key, self.name),
            (iface_key, self.interface),
            ("StateInterface", self.state_interface),
            ("Membership", "dynamic"),
            ("Penalty", str(self.penalty)),
            ("CallsTaken", str(self.calls_taken)),
            ("LastCall", str(self.last_call)),
            ("LastPause", str(self.last_pause)),
            ("LoginTime", str(self.login_time)),
            ("InCall", "1" if self.in_call else "0"),
            ("Status", str(self.status)),
            ("Paused", "1" if self.paused else "0"),
            ("PausedReason", self.paused_reason),
        ]


@dataclass(eq=False, slots=True)
class Queue:
    name: str
    strategy: str = "rrmemory"
    timeout: float = 15.0
    retry: float = 2.0
    members: dict[str, Member] = field(default_factory=dict)
    # Waiting callers, in position order (objects of cti.sim.pbx.QueueCaller).
    callers: list[Any] = field(default_factory=list)
    completed: int = 0
    abandoned: int = 0
    completed_in_sl: int = 0
    holdtime: int = 0  # running average, seconds
    talktime: int = 0
    service_level: int = 0
    rr_last: int = -1
    # The member last found free (the queue's availability hint looks at it first).
    free_hint: str | None = None

    def perf(self) -> str:
        if self.completed == 0:
            return "0.0"
        return f"{100.0 * self.completed_in_sl / self.completed:.1f}"

    def perf2(self) -> str:
        total = self.completed + self.abandoned
        if total == 0:
            return "0.0"
        return f"{100.0 * self.completed_in_sl / total:.1f}"
