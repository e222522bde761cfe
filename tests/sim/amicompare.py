"""Normalise AMI streams so a simulator run can be compared with a real capture.

Ids, times and history-dependent statistics are replaced or dropped; channel names keep their base
(``Local/100@sim-agent``) and half (``;1``) with an ordinal per base instead of Asterisk's counter;
Uniqueid/Linkedid become the name of the channel they belong to, so linkage is still checked.

The comparison is per *subject* (a channel, a bridge, a device, a queue member, an ActionID):
Asterisk runs every channel in its own thread, so the interleaving of different channels' events
differs from run to run even on a real PBX, while each channel's own story does not.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from cti.sim.protocol import Headers

PREFIXES = ("Dest", "LocalOne", "LocalTwo", "Spyer", "Spyee", "")
DROP_VALUE = {
    "EventTV",
    "SessionTV",
    "SessionID",
    "LocalAddress",
    "RemoteAddress",
    "Timestamp",
    "Uptime",
    "LastReload",
    "CoreStartupDate",
    "CoreStartupTime",
    "CoreReloadDate",
    "CoreReloadTime",
    "Duration",
    "HoldTime",
    "TalkTime",
    "RingTime",
    "Wait",
    "LastCall",
    "LastPause",
    "LoginTime",
    "Holdtime",
    "LongestHoldTime",
    "Completed",
    "Abandoned",
    "ServicelevelPerf",
    "ServicelevelPerf2",
    "Exten",
    "Context",
    "Priority",
    "ConnectedLineNum",
    "ConnectedLineName",
    "CoreCurrentCalls",
    "CoreProcessedCalls",
    "Extension",
    "AccountID",
    "Ping",
    "RoundtripUsec",
}
TIMING_VARS = re.compile(
    r"^(ANSWEREDTIME|DIALEDTIME|QUEUEWAIT|QEHOLDTIME|QUEUEHOLDTIME|QUEUETALKTIME|QUEUECOMPLETED|"
    r"QUEUEABANDONED|QUEUESRVLEVELPERF|MEMBERLASTCALL|MEMBERCALLS|BRIDGEPVTCALLID$|RTPAUDIOQOS$|RTPAUDIOQOSBRIDGED$)"
)
CHAN = re.compile(r"^(.*)-([0-9a-f]{8})(;[12])?$")
# ``ChanVariable(<channel>)``, as OriginateResponse names the channel its variables are from.
CHAN_VARIABLE = re.compile(r"^ChanVariable\((.*)\)$")
# A contact's URI carries the phone's own (random) port.
CONTACT_PORT = re.compile(r"^(sip:[^@]*@[^:]+):[0-9]+(.*)$")
# Events whose order within one subject is fixed on a real PBX.
ORDERED = {
    "Newchannel",
    "Newstate",
    "Newexten",
    "QueueCallerJoin",
    "AgentCalled",
    "AgentConnect",
    "QueueCallerAbandon",
    "QueueCallerLeave",
    "BridgeEnter",
    "Hangup",
    "DialBegin",
    "DialEnd",
    "ChanSpyStart",
    "ChanSpyStop",
    "BridgeCreate",
    "BridgeDestroy",
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueMemberPause",
}

Event = tuple[tuple[str, str], ...]


class Normaliser:
    def __init__(self, messages: list[Headers]) -> None:
        self.ordinals: dict[str, dict[str, int]] = {}
        self.bridges: dict[str, str] = {}
        self.uid: dict[str, str] = {}
        for m in messages:
            for p in PREFIXES:
                ch = _get(m, p + "Channel")
                uid = _get(m, p + "Uniqueid")
                if ch and uid:
                    self.uid.setdefault(uid, self.chan(ch))

    def chan(self, name: str) -> str:
        m = CHAN.match(name)
        if not m:
            return name
        base, hexid, half = m.group(1), m.group(2), m.group(3) or ""
        table = self.ordinals.setdefault(base, {})
        n = table.setdefault(hexid, len(table) + 1)
        return f"{base}#{n}{half}"

    def bridge(self, bid: str) -> str:
        if not bid:
            return ""
        return self.bridges.setdefault(bid, f"bridge#{len(self.bridges) + 1}")

    def event(self, m: Headers) -> Event:
        out: list[tuple[str, str]] = []
        var = _get(m, "Variable")
        app = _get(m, "Application")
        # An Originate's own dial events (no calling channel) race the channel's ringing: the
        # snapshot shows it Down or Ringing from one run to the next on the same PBX.
        racing = _get(m, "Event") in ("DialBegin", "DialState") and not _get(m, "Channel")
        # app_queue handles a phone's device state asynchronously: the BUSY of an agent who
        # answers within milliseconds may be reported before or after the call set InCall.
        busy_member = _get(m, "Event") == "QueueMemberStatus" and _get(m, "Status") == "3"
        for k, v in m:
            base = k
            for p in PREFIXES:
                if p and k.startswith(p) and k != p:
                    base = k[len(p) :]
                    break
            value = v
            if (
                (racing and k in ("DestChannelState", "DestChannelStateDesc"))
                or (busy_member and k == "InCall")
                or base in DROP_VALUE
            ):
                value = "*"
            elif base == "Channel" or k == "Channel":
                value = self.chan(v)
            elif base in ("Uniqueid", "Linkedid"):
                value = self.uid.get(v, "?" if v != "<unknown>" else v)
            elif k in ("BridgeUniqueid", "BridgeId"):
                value = self.bridge(v)
            elif k == "Value" and TIMING_VARS.match(var):
                value = "*"
            elif k == "Value" and var == "BRIDGEPEER":
                value = self.chan(v)
            elif k == "AppData" and app == "Wait":
                value = "*"
            elif k == "URI":
                value = CONTACT_PORT.sub(r"\1:*\2", v)
            key = k
            if (named := CHAN_VARIABLE.match(k)) is not None:
                key = f"ChanVariable({self.chan(named.group(1))})"
            out.append((key, value))
        return tuple(out)


def _get(m: Headers, key: str) -> str:
    for k, v in m:
        if k == key:
            return v
    return ""


def subjects(ev: Event) -> list[str]:
    d = dict(ev)
    name = d.get("Event", "")
    out: list[str] = []
    if name == "DeviceStateChange":
        return ["device:" + d["Device"]]
    if name.startswith("QueueMember") and "Interface" in d:
        return [f"member:{d['Queue']}:{d['Interface']}"]
    if "ActionID" in d and ("Response" in d or "Privilege" not in d):
        out.append("action:" + d["ActionID"])
    if name in ("FullyBooted", "SuccessfulAuth", "RequestNotAllowed", "RequestBadFormat") or (
        ev[0][0] != "Event" and "ActionID" not in d
    ):
        out.append("session")
    for p in PREFIXES:
        if p + "Channel" in d and name not in ("CoreShowChannel",):
            out.append("chan:" + d[p + "Channel"])
    if "BridgeUniqueid" in d:
        out.append("bridge:" + d["BridgeUniqueid"])
    return out or ["other:" + name]


def by_subject(messages: list[Headers]) -> dict[str, list[Event]]:
    norm = Normaliser(messages)
    result: dict[str, list[Event]] = {}
    for m in messages:
        ev = norm.event(m)
        for s in subjects(ev):
            seq = result.setdefault(s, [])
            if s.startswith("device:") and seq and seq[-1] == ev:
                continue  # repeated device states carry no news
            seq.append(ev)
    return result


def _fmt(evs: Iterable[Event]) -> str:
    return "\n".join(
        "  "
        + " | ".join(
            f"{k}={v}"
            for k, v in e
            if k not in ("Privilege", "ChannelState", "Language", "AccountCode")
        )
        for e in evs
    )


def _sorted_list(seq: list[Event]) -> list[Event]:
    if len(seq) < 3:
        return seq
    return [seq[0], *sorted(seq[1:-1]), seq[-1]]


def _ordered(ev: Event) -> bool:
    d = dict(ev)
    if d.get("Event") == "DialBegin" and "Channel" not in d:
        return False  # an Originate's dial: it races the channel's Newstate (see Normaliser)
    return d.get("Event", "") in ORDERED


def compare(capture: list[Headers], sim: list[Headers]) -> list[str]:
    """Differences between a capture and a simulator run, as readable strings (empty: same)."""
    a, b = by_subject(capture), by_subject(sim)
    problems: list[str] = []
    for s in sorted(set(a) | set(b)):
        ca, cb = a.get(s, []), b.get(s, [])
        if not ca or not cb:
            problems.append(f"{s}: only in {'capture' if ca else 'simulator'}:\n{_fmt(ca or cb)}")
            continue
        strict = s.startswith(("device:", "action:", "member:", "session"))
        if s.startswith("action:"):
            # List items come from hash containers: their order carries no meaning.
            ca, cb = _sorted_list(ca), _sorted_list(cb)
        if strict:
            if ca != cb:
                problems.append(
                    f"{s}: sequence differs\ncapture:\n{_fmt(ca)}\nsimulator:\n{_fmt(cb)}"
                )
            continue
        if Counter(ca) != Counter(cb):
            missing = list((Counter(ca) - Counter(cb)).elements())
            extra = list((Counter(cb) - Counter(ca)).elements())
            problems.append(
                f"{s}: events differ\nmissing from simulator:\n{_fmt(missing)}\nextra in simulator:\n{_fmt(extra)}"
            )
            continue
        oa = [e for e in ca if _ordered(e)]
        ob = [e for e in cb if _ordered(e)]
        if oa != ob:
            problems.append(f"{s}: order differs\ncapture:\n{_fmt(oa)}\nsimulator:\n{_fmt(ob)}")
    return problems
