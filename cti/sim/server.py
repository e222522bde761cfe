"""The AMI side of the simulator: a TCP server speaking Asterisk 22's manager protocol."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cti.config import Secret
from cti.sim.model import (
    AGENT,
    ALL,
    CALL,
    ORIGINATE,
    REPORTING,
    SECURITY,
    SYSTEM,
    AgentMode,
    parse_mask,
)
from cti.sim.pbx import Pbx
from cti.sim.protocol import FrameParser, Headers, encode, get, get_all

log = logging.getLogger(__name__)

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
# A client that lets this much pile up unread is dropped, as Asterisk drops slow readers.
MAX_BACKLOG = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class AmiUser:
    """A manager.conf user: its secret and read/write permission masks (``all``, ``call,agent``…)."""

    secret: Secret
    read: str = "all"
    write: str = "all"


def default_users() -> dict[str, AmiUser]:
    """The capture PBX's users: ``cti`` (read/write all) and ``readonly`` (read all, write none)."""
    return {
        "cti": AmiUser(Secret("ctisecret")),
        "readonly": AmiUser(Secret("ro"), write=""),
    }


_CID = re.compile(r'^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$')


def parse_callerid(text: str) -> tuple[str, str]:
    """``"Name" <num>`` → (num, name); a bare number is both."""
    m = _CID.match(text)
    if m:
        return m.group(2), m.group(1).strip()
    return text.strip(), text.strip()


class AmiSession:
    """One manager connection."""

    def __init__(
        self, server: AmiServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.authenticated = False
        self.username = ""
        self.readperm = 0
        self.writeperm = 0
        self.send_events = ALL
        self.session_id = f"0x{id(self):x}"
        self.session_tv = ""
        sock = writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        self.local = f"IPV4/TCP/{sock[0]}/{sock[1]}"
        self.remote = f"IPV4/TCP/{peer[0]}/{peer[1]}"
        self.closing = False

    # --- output --------------------------------------------------------------------------

    def on_event(self, cat: int, frame: bytes) -> None:
        if self.closing or not self.authenticated or not (cat & self.readperm & self.send_events):
            return
        self.write(frame)

    def write(self, data: bytes) -> None:
        if self.closing:
            return
        self.writer.write(data)
        transport = self.writer.transport
        if transport.get_write_buffer_size() > MAX_BACKLOG:
            log.warning("AMI client %s is not reading; dropping it", self.remote)
            self.close()

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self.writer.close()

    def respond(
        self, m: Headers, response: str, message: str | None = None, extra: Headers | None = None
    ) -> None:
        out: Headers = [("Response", response)]
        aid = get(m, "ActionID")
        if aid:
            out.append(("ActionID", aid))
        if message is not None:
            out.append(("Message", message))
        if extra:
            out.extend(extra)
        self.write(encode(out))

    def ok(self, m: Headers, message: str) -> None:
        self.respond(m, "Success", message)

    def error(self, m: Headers, message: str) -> None:
        self.respond(m, "Error", message)

    def security_event(self, name: str, severity: str, extra: Headers) -> None:
        now = self.server.tv()
        self.server.pbx.emit(
            name,
            SECURITY,
            [
                ("EventTV", now),
                ("Severity", severity),
                ("Service", "AMI"),
                ("EventVersion", "1"),
                ("AccountID", self.username),
                ("SessionID", self.session_id),
                ("LocalAddress", self.local),
                ("RemoteAddress", self.remote),
                *extra,
            ],
        )

    # --- input ---------------------------------------------------------------------------

    async def run(self) -> None:
        parser = FrameParser()
        self.write(BANNER)
        try:
            while not self.closing:
                data = await self.reader.read(65536)
                if not data:
                    break
                for message in parser.feed(data):
                    if self.closing:
                        break
                    keep = await self.handle(message)
                    if not keep:
                        await self.writer.drain()
                        self.close()
                        break
        except (ConnectionError, asyncio.IncompleteReadError):
            return  # the client went away; close below
        finally:
            self.close()

    async def handle(self, m: Headers) -> bool:
        action = get(m, "Action").strip()
        if not action:
            self.error(m, "Missing action in request")
            return True
        key = action.lower()
        if not self.authenticated and key not in ("login", "logoff", "challenge"):
            self.error(m, "Permission denied")
            return True
        if key == "login":
            return await self.login(m)
        spec = ACTIONS.get(key)
        if spec is None:
            self.error(
                m,
                f"Invalid/unknown command: {action}. Use Action: ListCommands to show available commands.",
            )
            self.security_event(
                "RequestBadFormat",
                "Error",
                [("RequestType", action), ("SessionTV", self.session_tv)],
            )
            return True
        authority, fn = spec
        if authority and not (self.writeperm & authority):
            self.error(m, "Permission denied")
            self.security_event(
                "RequestNotAllowed",
                "Error",
                [("RequestType", f"Action: {action}"), ("SessionTV", self.session_tv)],
            )
            return True
        return fn(self, m)

    async def login(self, m: Headers) -> bool:
        if self.authenticated:
            self.ok(m, "Already authenticated")
            return True
        username = get(m, "Username")
        user = self.server.users.get(username)
        secret = get(m, "Secret")
        if user is None or not hmac.compare_digest(user.secret.reveal().encode(), secret.encode()):
            # Asterisk sleeps a second before refusing, then closes the session.
            await asyncio.sleep(self.server.login_failure_delay)
            self.error(m, "Authentication failed")
            return False
        self.username = username
        self.readperm = parse_mask(user.read) or 0
        self.writeperm = parse_mask(user.write) or 0
        events = get(m, "Events")
        if events:
            mask = parse_mask(events)
            self.send_events = mask if mask is not None else 0
        self.authenticated = True
        self.session_tv = self.server.tv()
        self.ok(m, "Authentication accepted")
        if self.send_events & SYSTEM and self.readperm & SYSTEM:
            up = int(self.server.pbx.scheduler.now()) + self.server.uptime_offset
            self.write(
                encode(
                    [
                        ("Event", "FullyBooted"),
                        ("Privilege", "system,all"),
                        ("Uptime", str(up)),
                        ("LastReload", str(up)),
                        ("Status", "Fully Booted"),
                    ]
                )
            )
        self.security_event(
            "SuccessfulAuth",
            "Informational",
            [("UsingPassword", "0"), ("SessionTV", self.session_tv)],
        )
        return True


# --- actions ---------------------------------------------------------------------------------

Handler = Callable[[AmiSession, Headers], bool]


def _logoff(s: AmiSession, m: Headers) -> bool:
    s.respond(m, "Goodbye", "Thanks for all the fish.")
    return False


def _ping(s: AmiSession, m: Headers) -> bool:
    s.respond(
        m, "Success", None, [("Ping", "Pong"), ("Timestamp", f"{s.server.pbx.now_epoch():.6f}")]
    )
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
    q = pbx.queues.get(queue)
    if q is None:
        s.error(m, "Unable to add interface to queue: No such queue")
        return True
    if iface in q.members:
        s.error(m, "Unable to add interface: Already there")
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
    q = pbx.queues.get(queue)
    if q is None:
        s.error(m, "Unable to remove interface from queue: No such queue")
        return True
    if iface not in q.members:
        s.error(m, "Unable to remove interface: Not there")
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
    exists = any(iface in q.members for q in pbx.queues.values() if not queue or q.name == queue)
    if not exists:
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
    if pbx.ringing_leg(target) is None:
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


ACTIONS: dict[str, tuple[int, Handler]] = {
    "logoff": (0, _logoff),
    "ping": (0, _ping),
    "events": (0, _events),
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
    "setvar": (CALL, _setvar),
    "getvar": (CALL | REPORTING, _getvar),
    # Simulator-only actions (a real Asterisk answers these as unknown commands).
    "simanswer": (CALL, _sim_answer),
    "siminbound": (ORIGINATE, _sim_inbound),
}


class AmiServer:
    """Accepts manager connections and wires each session to the PBX's event stream."""

    def __init__(
        self, pbx: Pbx, users: dict[str, AmiUser], *, login_failure_delay: float = 1.0
    ) -> None:
        self.pbx = pbx
        self.users = users
        self.login_failure_delay = login_failure_delay
        self.sessions: set[AmiSession] = set()
        self.started = datetime.fromtimestamp(pbx.epoch, UTC)
        self.uptime_offset = 13
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def tv(self) -> str:
        t = datetime.fromtimestamp(self.pbx.now_epoch(), UTC)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._accept, host, port)
        sock = self._server.sockets[0]
        return int(sock.getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(self, reader, writer)
        self.sessions.add(session)
        self.pbx.listeners.append(session.on_event)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
            with contextlib.suppress(ValueError):
                self.pbx.listeners.remove(session.on_event)
            if task is not None:
                self._tasks.discard(task)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for s in list(self.sessions):
            s.close()
            s.reader.feed_eof()  # lets each session's read loop end by itself
        tasks = list(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=2.0)
            for t in pending:
                t.cancel()
            for t in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
        if self._server is not None:
            await self._server.wait_closed()
