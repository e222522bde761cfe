"""The manager actions the simulated Asterisk answers: each reads its headers, answers as
Asterisk 22 does (errors first, then ``Success``) and asks the PBX model to act.

The sessions and the server are :mod:`cti.sim.server`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from cti.sim.model import (
    AGENT,
    CALL,
    COMMAND,
    ORIGINATE,
    REPORTING,
    SYSTEM,
    AgentMode,
    parse_mask,
)
from cti.sim.protocol import Headers, encode, get, get_all

if TYPE_CHECKING:
    from cti.sim.server import AmiSession

Handler = Callable[["AmiSession", Headers], bool]

_CID = re.compile(r'^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$')


def parse_callerid(text: str) -> tuple[str, str]:
    """``"Name" <num>`` → (num, name); a bare number is both."""
    m = _CID.match(text)
    if m:
        return m.group(2), m.group(1).strip()
    return text.strip(), text.strip()


def _logoff(s: AmiSession, m: Headers) -> bool:
    s.respond(m, "Goodbye", "Thanks for all the fish.")
    return False


def _ping(s: AmiSession, m: Headers) -> bool:
    s.respond(
        m, "Success", None, [("Ping", "Pong"), ("Timestamp", f"{s.server.pbx.now_epoch():.6f}")]
    )
    return True


def _command(s: AmiSession, m: Headers) -> bool:
    """A CLI command: Asterisk answers its output one ``Output:`` line each (manager.c
    action_command). The simulator knows one, ``rtp show settings`` (its first lines)."""
    command = " ".join(get(m, "Command").split())
    if command == "rtp show settings":
        start, end = s.server.pbx.rtp_ports
        lines = ["", "", "General Settings:", "----------------"]
        lines += [f"  Port start:      {start}", f"  Port end:        {end}"]
        lines += ["  DTMF Timeout:    3000", "  Strict RTP:      Yes", "  ICE support:     Yes"]
    else:
        lines = [
            f"No such command '{command}' (type 'core show help {command}' for other possible commands)"
        ]
    s.respond(m, "Success", "Command output follows", [("Output", line) for line in lines])
    return True


def _events(s: AmiSession, m: Headers) -> bool:
    mask = parse_mask(get(m, "EventMask"))
    if mask is None:
        s.error(m, "Invalid event mask")
        return True
    s.send_events = mask
    s.respond(m, "Success", None, [("Events", "On" if mask else "Off")])
    return True


def _core_status(s: AmiSession, m: Headers) -> bool:
    start = s.server.started
    pbx = s.server.pbx
    calls = len({ch.linkedid for ch in pbx.channel_rows()})
    s.respond(
        m,
        "Success",
        None,
        [
            ("CoreStartupDate", start.strftime("%Y-%m-%d")),
            ("CoreStartupTime", start.strftime("%H:%M:%S")),
            ("CoreReloadDate", start.strftime("%Y-%m-%d")),
            ("CoreReloadTime", start.strftime("%H:%M:%S")),
            ("CoreCurrentCalls", str(calls)),
            ("CoreProcessedCalls", str(pbx.processed_calls)),
        ],
    )
    return True


def _core_settings(s: AmiSession, m: Headers) -> bool:
    s.respond(
        m,
        "Success",
        None,
        [
            ("AMIversion", "11.0.0"),
            ("AsteriskVersion", "22.10.1"),
            ("SystemName", ""),
            ("CoreMaxCalls", "0"),
            ("CoreMaxLoadAvg", "0.000000"),
            ("CoreRunUser", ""),
            ("CoreRunGroup", ""),
            ("CoreMaxFilehandles", "0"),
            ("CoreRealTimeEnabled", "No"),
            ("CoreCDRenabled", "Yes"),
            ("CoreHTTPenabled", "No"),
            ("SoundsSearchCustomDir", "No"),
        ],
    )
    return True


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _list_start(s: AmiSession, m: Headers, message: str) -> None:
    # Asterisk puts EventList before Message in list acknowledgements.
    s.respond(m, "Success", None, [("EventList", "start"), ("Message", message)])


def _list_complete(s: AmiSession, m: Headers, name: str, count: int) -> None:
    out: Headers = [("Event", name)]
    aid = get(m, "ActionID")
    if aid:
        out.append(("ActionID", aid))
    out += [("EventList", "Complete"), ("ListItems", str(count))]
    s.write(encode(out))


def _aid(m: Headers) -> Headers:
    aid = get(m, "ActionID")
    return [("ActionID", aid)] if aid else []


def _core_show_channels(s: AmiSession, m: Headers) -> bool:
    pbx = s.server.pbx
    _list_start(s, m, "Channels will follow")
    now = pbx.scheduler.now()
    rows = pbx.channel_rows()
    for ch in rows:
        s.write(
            encode(
                [
                    ("Event", "CoreShowChannel"),
                    *_aid(m),
                    *ch.block(),
                    ("Application", ch.app),
                    ("ApplicationData", ch.appdata),
                    ("Duration", _hms(now - ch.created)),
                    ("BridgeId", ch.bridge.uniqueid if ch.bridge else ""),
                ]
            )
        )
    _list_complete(s, m, "CoreShowChannelsComplete", len(rows))
    return True


def _queue_status(s: AmiSession, m: Headers) -> bool:
    pbx = s.server.pbx
    want_q = get(m, "Queue")
    want_m = get(m, "Member")
    _list_start(s, m, "Queue status will follow")
    n = 0
    now = pbx.scheduler.now()
    for q in pbx.queues.values():
        if want_q and q.name != want_q:
            continue
        s.write(
            encode(
                [
                    ("Event", "QueueParams"),
                    ("Queue", q.name),
                    ("Max", "0"),
                    ("Strategy", q.strategy),
                    ("Calls", str(len(q.callers))),
                    ("Holdtime", str(q.holdtime)),
                    ("TalkTime", str(q.talktime)),
                    ("Completed", str(q.completed)),
                    ("Abandoned", str(q.abandoned)),
                    ("ServiceLevel", str(q.service_level)),
                    ("ServicelevelPerf", q.perf()),
                    ("ServicelevelPerf2", q.perf2()),
                    ("Weight", "0"),
                    *_aid(m),
                ]
            )
        )
        n += 1
        for mem in q.members.values():
            if want_m and want_m not in (mem.interface, mem.name):
                continue
            s.write(
                encode(
                    [
                        ("Event", "QueueMember"),
                        *mem.fields(name_key="Name", iface_key="Location"),
                        ("Wrapuptime", "0"),
                        *_aid(m),
                    ]
                )
            )
            n += 1
        for pos, c in enumerate(q.callers, start=1):
            ch = c.chan
            s.write(
                encode(
                    [
                        ("Event", "QueueEntry"),
                        ("Queue", q.name),
                        ("Position", str(pos)),
                        ("Channel", ch.name),
                        ("Uniqueid", ch.uniqueid),
                        ("CallerIDNum", ch.cid_num),
                        ("CallerIDName", ch.cid_name),
                        ("ConnectedLineNum", ch.con_num),
                        ("ConnectedLineName", ch.con_name),
                        ("Wait", str(int(now - c.joined))),
                        ("Priority", "0"),
                        *_aid(m),
                    ]
                )
            )
            n += 1
    _list_complete(s, m, "QueueStatusComplete", n)
    return True


def _queue_summary(s: AmiSession, m: Headers) -> bool:
    pbx = s.server.pbx
    want_q = get(m, "Queue")
    _list_start(s, m, "Queue summary will follow")
    n = 0
    now = pbx.scheduler.now()
    for q in pbx.queues.values():
        if want_q and q.name != want_q:
            continue
        logged = len(q.members)
        avail = sum(
            1
            for mem in q.members.values()
            if not mem.paused and not mem.in_call and not mem.ringing
        )
        longest = max((int(now - c.joined) for c in q.callers), default=0)
        s.write(
            encode(
                [
                    ("Event", "QueueSummary"),
                    ("Queue", q.name),
                    ("LoggedIn", str(logged)),
                    ("Available", str(avail)),
                    ("Callers", str(len(q.callers))),
                    ("HoldTime", str(q.holdtime)),
                    ("TalkTime", str(q.talktime)),
                    ("LongestHoldTime", str(longest)),
                    *_aid(m),
                ]
            )
        )
        n += 1
    _list_complete(s, m, "QueueSummaryComplete", n)
    return True


def _truthy(v: str) -> bool:
    return v.strip().lower() in ("1", "yes", "true", "on", "y", "t")


def _queue_add(s: AmiSession, m: Headers) -> bool:
    pbx = s.server.pbx
    queue, iface = get(m, "Queue"), get(m, "Interface")
    if not queue or not iface:
        s.error(m, "'Queue' and 'Interface' not set.")
        return True
    refused = pbx.queue_add_refused(queue, iface)
    if refused is not None:
        s.error(m, refused)
        return True
    s.ok(m, "Added interface to queue")
    mode_text = get(m, "SimAgent").lower()
    mode = AgentMode(mode_text) if mode_text in ("simulated", "person") else None
    penalty = get(m, "Penalty")
    pbx.queue_add(
        queue,
        iface,
        name=get(m, "MemberName"),
        state_interface=get(m, "StateInterface"),
        penalty=int(penalty) if penalty.isdigit() else 0,
        paused=_truthy(get(m, "Paused")),
        reason=get(m, "Reason"),
        mode=mode,
    )
    return True


def _queue_remove(s: AmiSession, m: Headers) -> bool:
    pbx = s.server.pbx
    queue, iface = get(m, "Queue"), get(m, "Interface")
    if not queue or not iface:
        s.error(m, "Need 'Queue' and 'Interface' parameters.")
        return True
    refused = pbx.queue_remove_refused(queue, iface)
    if refused is not None:
        s.error(m, refused)
        return True
    s.ok(m, "Removed interface from queue")
    pbx.queue_remove(queue, iface)
    return True


def _queue_pause(s: AmiSession, m: Headers) -> bool:
    pbx = s.server.pbx
    iface, paused_text, queue = get(m, "Interface"), get(m, "Paused"), get(m, "Queue")
    if not iface:
        s.error(m, "Need 'Interface' parameter.")
        return True
    if not paused_text:
        s.error(m, "Need 'Paused' parameter.")
        return True
    paused = _truthy(paused_text)
    if not pbx.memberships(queue, iface):
        s.error(m, "Interface not found")
        return True
    s.ok(m, "Interface paused successfully" if paused else "Interface unpaused successfully")
    pbx.queue_pause(queue, iface, paused, get(m, "Reason"))
    return True


def _variables(m: Headers) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for raw in get_all(m, "Variable"):
        for part in raw.split(","):
            k, sep, v = part.partition("=")
            if sep and k.strip():
                out.append((k.strip(), v))
    return out


def _originate(s: AmiSession, m: Headers) -> bool:
    pbx = s.server.pbx
    channel = get(m, "Channel")
    if not channel:
        s.error(m, "Channel not specified")
        return True
    timeout_text = get(m, "Timeout")
    timeout = 30.0
    if timeout_text:
        try:
            timeout = int(timeout_text) / 1000.0
        except ValueError:
            s.error(m, "Invalid timeout")
            return True
    app, exten = get(m, "Application"), get(m, "Exten")
    if not app and not exten:
        s.error(m, "Exten not specified")
        return True
    cid_text = get(m, "CallerID")
    cid = parse_callerid(cid_text) if cid_text else None
    s.ok(m, "Originate successfully queued")
    pbx.originate(
        action_id=get(m, "ActionID"),
        channel=channel,
        app=app,
        data=get(m, "Data"),
        context=get(m, "Context"),
        exten=exten,
        priority=get(m, "Priority") or "1",
        caller_id=cid,
        timeout=timeout,
        variables=_variables(m),
    )
    return True


def _hangup(s: AmiSession, m: Headers) -> bool:
    name = get(m, "Channel")
    if not name:
        s.error(m, "No channel specified")
        return True
    pbx = s.server.pbx
    if pbx.find_channel(name) is None:
        s.error(m, "No such channel")
        return True
    cause_text = get(m, "Cause")
    s.ok(m, "Channel Hungup")
    pbx.hangup(name, int(cause_text) if cause_text.isdigit() else 16)
    return True


def _redirect(s: AmiSession, m: Headers) -> bool:
    name, context, exten = get(m, "Channel"), get(m, "Context"), get(m, "Exten")
    if not name:
        s.error(m, "Channel not specified")
        return True
    pbx = s.server.pbx
    if pbx.find_channel(name) is None:
        s.error(m, "Channel specified does not exist")
        return True
    if not context or not exten:
        s.error(m, "Redirect failed")
        return True
    s.ok(m, "Redirect successful")
    pbx.redirect(name, context, exten, get(m, "Priority") or "1")
    return True


def _atxfer(s: AmiSession, m: Headers) -> bool:
    name, exten = get(m, "Channel"), get(m, "Exten")
    if not name:
        s.error(m, "No channel specified")
    elif not exten:
        s.error(m, "No extension specified")
    elif s.server.pbx.find_channel(name) is None:
        s.error(m, "Channel specified does not exist")
    else:
        # Asterisk queues the feature code and answers at once; a channel in no bridge just
        # ignores it (the simulator says so in its answer's place: nothing happens).
        s.ok(m, "Atxfer successfully queued")
        s.server.pbx.atxfer(name, get(m, "Context"), exten)
    return True


def _cancel_atxfer(s: AmiSession, m: Headers) -> bool:
    name = get(m, "Channel")
    if not name:
        s.error(m, "No channel specified")
    elif s.server.pbx.find_channel(name) is None:
        s.error(m, "Channel specified does not exist")
    else:
        s.ok(m, "CancelAtxfer successfully queued")
        s.server.pbx.cancel_atxfer(name)
    return True


def _stop_mixmonitor(s: AmiSession, m: Headers) -> bool:
    """The simulator records nothing: Asterisk's answer for a channel without a MixMonitor."""
    name = get(m, "Channel")
    if not name:
        s.error(m, "No channel specified")
    elif s.server.pbx.find_channel(name) is None:
        s.error(m, "No such channel")
    else:
        s.error(m, "Could not stop MixMonitor")
    return True


def _setvar(s: AmiSession, m: Headers) -> bool:
    name, var = get(m, "Channel"), get(m, "Variable")
    if not var:
        s.error(m, "No variable specified")
        return True
    pbx = s.server.pbx
    if name and pbx.find_channel(name) is None:
        s.error(m, "No such channel")
        return True
    s.ok(m, "Variable Set")
    pbx.setvar(name, var, get(m, "Value"))
    return True


def _getvar(s: AmiSession, m: Headers) -> bool:
    name, var = get(m, "Channel"), get(m, "Variable")
    if not var:
        s.error(m, "No variable specified")
        return True
    value = s.server.pbx.getvar(name, var)
    if value is None:
        s.error(m, "No such channel")
        return True
    s.respond(m, "Success", None, [("Variable", var), ("Value", value)])
    return True


def _sim_answer(s: AmiSession, m: Headers) -> bool:
    target = get(m, "Interface") or get(m, "Channel")
    if not target:
        s.error(m, "Interface not specified")
        return True
    pbx = s.server.pbx
    if not pbx.ringing(target):
        s.error(m, "No ringing call for interface")
        return True
    s.ok(m, "Answered")
    pbx.answer(target)
    return True


def _sim_inbound(s: AmiSession, m: Headers) -> bool:
    target = get(m, "Exten") or get(m, "Queue")
    pbx = s.server.pbx
    if target not in pbx.dids and target not in pbx.queues:
        s.error(m, "No such DID or queue")
        return True
    talk, patience = get(m, "TalkTime"), get(m, "Patience")
    s.ok(m, "Inbound call started")
    pbx.inbound_call(
        target,
        get(m, "CallerIDNum") or "5550100",
        get(m, "CallerIDName"),
        talk_seconds=float(talk) if talk else None,
        patience=float(patience) if patience else None,
    )
    return True


# Actions app_queue registers: unknown until it is loaded.
APP_QUEUE_ACTIONS = {"queuestatus", "queuesummary", "queueadd", "queueremove", "queuepause"}

ACTIONS: dict[str, tuple[int, Handler]] = {
    "logoff": (0, _logoff),
    "ping": (0, _ping),
    "events": (0, _events),
    "command": (COMMAND, _command),
    "corestatus": (SYSTEM | REPORTING, _core_status),
    "coresettings": (SYSTEM | REPORTING, _core_settings),
    "coreshowchannels": (SYSTEM | REPORTING, _core_show_channels),
    "queuestatus": (0, _queue_status),
    "queuesummary": (0, _queue_summary),
    "queueadd": (AGENT, _queue_add),
    "queueremove": (AGENT, _queue_remove),
    "queuepause": (AGENT, _queue_pause),
    "originate": (ORIGINATE, _originate),
    "hangup": (SYSTEM | CALL, _hangup),
    "redirect": (CALL, _redirect),
    "atxfer": (CALL, _atxfer),
    "cancelatxfer": (CALL, _cancel_atxfer),
    "stopmixmonitor": (SYSTEM | CALL, _stop_mixmonitor),
    "setvar": (CALL, _setvar),
    "getvar": (CALL | REPORTING, _getvar),
    # Simulator-only actions (a real Asterisk answers these as unknown commands).
    "simanswer": (CALL, _sim_answer),
    "siminbound": (ORIGINATE, _sim_inbound),
}
