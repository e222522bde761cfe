"""A small scripted AMI server for tests: it plays a real Asterisk capture over TCP.

The capture's frames are written exactly as captured, in order. A frame answering one of the
capture's actions (its ``ActionID``) waits until the client sends an action of the same name; its
ActionID is then rewritten to the client's. Actions the capture does not hold at that point (our
client's resync, Ping, Getvar…) are answered from a small model of what the capture has shown so
far (live channels, queue members, waiting callers), in Asterisk 22's own shapes.

``kill()`` drops the TCP link like a dead network; after the client logs in again, the capture
resumes where it stopped (Asterisk's calls do not care about AMI sessions). Answers meant for the
dead session are not re-sent; broadcast events (``OriginateResponse``) are.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

CRLF = "\r\n"
_CHANNEL_KEYS = (
    "Channel",
    "ChannelState",
    "ChannelStateDesc",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Language",
    "AccountCode",
    "Context",
    "Exten",
    "Priority",
    "Uniqueid",
    "Linkedid",
)
_MEMBER_EVENTS = ("QueueMemberAdded", "QueueMemberStatus", "QueueMemberPause")


def parse_block(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.split(CRLF):
        key, sep, value = line.partition(": ")
        if not sep and line.endswith(":"):
            key, sep, value = line[:-1], ":", ""
        if sep:
            out[key] = out[key] + "\n" + value if key in out else value
    return out


def render(pairs: list[tuple[str, str]]) -> bytes:
    return ("".join(f"{k}: {v}{CRLF}" for k, v in pairs) + CRLF).encode()


@dataclass
class CapturedFrame:
    raw: str
    headers: dict[str, str]
    owner: str | None  # ActionID of the captured action this frame answers


@dataclass
class CapturedAction:
    name: str
    action_id: str
    headers: dict[str, str]
    variables: list[str] = field(default_factory=list)


def load_capture(path: Path) -> tuple[str, list[CapturedFrame], list[CapturedAction]]:
    text = path.read_bytes().decode()
    banner, _, rest = text.partition(CRLF)
    actions: list[CapturedAction] = []
    sent = Path(str(path) + ".sent").read_text()
    for block in re.split(r"^--- t=.*$", sent, flags=re.M):
        lines = [ln for ln in block.strip().splitlines() if ": " in ln]
        if not lines:
            continue
        headers: dict[str, str] = {}
        variables = []
        for ln in lines:
            k, _, v = ln.partition(": ")
            if k == "Variable":
                variables.append(v)
            headers.setdefault(k, v)
        if "Action" in headers:
            actions.append(
                CapturedAction(headers["Action"], headers.get("ActionID", ""), headers, variables)
            )
    ids = {a.action_id for a in actions}
    frames = []
    for raw in rest.split(CRLF + CRLF):
        if not raw.strip():
            continue
        headers = parse_block(raw)
        owner = headers.get("ActionID")
        frames.append(CapturedFrame(raw + CRLF + CRLF, headers, owner if owner in ids else None))
    return banner + CRLF, frames, actions


class _Model:
    """What the capture has shown so far: enough to answer a resync like Asterisk would."""

    def __init__(self) -> None:
        self.channels: dict[str, dict[str, str]] = {}
        self.bridge_of: dict[str, str] = {}
        self.vars: dict[str, dict[str, str]] = {}
        self.members: dict[tuple[str, str], dict[str, str]] = {}
        self.waiting: dict[str, list[dict[str, str]]] = {}
        self.queues: set[str] = set()
        self.originates: list[CapturedAction] = []

    def apply(self, h: dict[str, str]) -> None:
        name = h.get("Event")
        if name is None:
            return
        uid = h.get("Uniqueid")
        if name == "Hangup" and uid:
            self.channels.pop(uid, None)
            self.bridge_of.pop(uid, None)
            for entries in self.waiting.values():
                entries[:] = [e for e in entries if e["Uniqueid"] != uid]
            return
        if uid and "Channel" in h and "ActionID" not in h:
            fresh = uid not in self.channels
            self.channels[uid] = {k: h.get(k, "") for k in _CHANNEL_KEYS}
            if fresh:
                for orig in self.originates:
                    if h["Channel"].startswith(orig.headers.get("Channel", "?") + "-"):
                        vals = dict(v.split("=", 1) for v in orig.variables)
                        self.vars.setdefault(h["Channel"], {}).update(vals)
        if name == "BridgeEnter" and uid:
            self.bridge_of[uid] = h["BridgeUniqueid"]
        elif name == "BridgeLeave" and uid:
            self.bridge_of.pop(uid, None)
        elif name in _MEMBER_EVENTS:
            self.queues.add(h["Queue"])
            row = dict(h)
            old = self.members.get((h["Queue"], h["Interface"]), {})
            row["InCall"] = old.get("InCall", h.get("InCall", "0"))
            if name == "QueueMemberPause":
                row["InCall"] = h.get("InCall", "0")
            self.members[(h["Queue"], h["Interface"])] = row
        elif name == "QueueMemberRemoved":
            self.members.pop((h["Queue"], h["Interface"]), None)
        elif name in ("AgentConnect", "AgentComplete"):
            row = self.members.get((h["Queue"], h["Interface"]))
            if row is not None:
                row["InCall"] = "1" if name == "AgentConnect" else "0"
        elif name == "QueueCallerJoin":
            self.queues.add(h["Queue"])
            self.waiting.setdefault(h["Queue"], []).append(dict(h))
        elif name == "QueueCallerLeave":
            entries = self.waiting.get(h["Queue"], [])
            entries[:] = [e for e in entries if e["Uniqueid"] != uid]

    # --- answers ----------------------------------------------------------------------------

    def core_show_channels(self, aid: str) -> bytes:
        out = [
            render(
                [
                    ("Response", "Success"),
                    ("ActionID", aid),
                    ("EventList", "start"),
                    ("Message", "Channels will follow"),
                ]
            )
        ]
        for uid, ch in self.channels.items():
            pairs = [("Event", "CoreShowChannel"), ("ActionID", aid), *ch.items()]
            pairs += [
                ("Application", "Wait"),
                ("ApplicationData", ""),
                ("Duration", "00:00:01"),
                ("BridgeId", self.bridge_of.get(uid, "")),
            ]
            out.append(render(pairs))
        out.append(
            render(
                [
                    ("Event", "CoreShowChannelsComplete"),
                    ("ActionID", aid),
                    ("EventList", "Complete"),
                    ("ListItems", str(len(self.channels))),
                ]
            )
        )
        return b"".join(out)

    def queue_status(self, aid: str) -> bytes:
        out = [
            render(
                [
                    ("Response", "Success"),
                    ("ActionID", aid),
                    ("EventList", "start"),
                    ("Message", "Queue status will follow"),
                ]
            )
        ]
        items = 0
        for q in sorted(self.queues):
            entries = self.waiting.get(q, [])
            out.append(
                render(
                    [
                        ("Event", "QueueParams"),
                        ("Queue", q),
                        ("Max", "0"),
                        ("Strategy", "rrmemory"),
                        ("Calls", str(len(entries))),
                        ("Holdtime", "0"),
                        ("TalkTime", "0"),
                        ("Completed", "0"),
                        ("Abandoned", "0"),
                        ("ServiceLevel", "0"),
                        ("ServicelevelPerf", "0.0"),
                        ("ServicelevelPerf2", "0.0"),
                        ("Weight", "0"),
                        ("ActionID", aid),
                    ]
                )
            )
            items += 1
            for (mq, iface), m in self.members.items():
                if mq != q:
                    continue
                keys = ("StateInterface", "Membership", "Penalty", "CallsTaken", "LastCall")
                keys2 = ("LastPause", "LoginTime", "InCall", "Status", "Paused", "PausedReason")
                pairs = [("Event", "QueueMember"), ("Queue", q), ("Name", m.get("MemberName", ""))]
                pairs.append(("Location", iface))
                pairs += [(k, m.get(k, "")) for k in keys + keys2]
                pairs += [("Wrapuptime", m.get("Wrapuptime", "0")), ("ActionID", aid)]
                out.append(render(pairs))
                items += 1
            for pos, e in enumerate(entries, 1):
                out.append(
                    render(
                        [
                            ("Event", "QueueEntry"),
                            ("Queue", q),
                            ("Position", str(pos)),
                            ("Channel", e["Channel"]),
                            ("Uniqueid", e["Uniqueid"]),
                            ("CallerIDNum", e["CallerIDNum"]),
                            ("CallerIDName", e["CallerIDName"]),
                            ("Wait", "1"),
                            ("Priority", "0"),
                            ("ActionID", aid),
                        ]
                    )
                )
                items += 1
        out.append(
            render(
                [
                    ("Event", "QueueStatusComplete"),
                    ("ActionID", aid),
                    ("EventList", "Complete"),
                    ("ListItems", str(items)),
                ]
            )
        )
        return b"".join(out)

    def queue_summary(self, aid: str) -> bytes:
        out = [
            render(
                [
                    ("Response", "Success"),
                    ("ActionID", aid),
                    ("EventList", "start"),
                    ("Message", "Queue summary will follow"),
                ]
            )
        ]
        for q in sorted(self.queues):
            members = [m for (mq, _), m in self.members.items() if mq == q]
            out.append(
                render(
                    [
                        ("Event", "QueueSummary"),
                        ("Queue", q),
                        ("LoggedIn", str(len(members))),
                        ("Available", str(sum(m.get("Paused") == "0" for m in members))),
                        ("Callers", str(len(self.waiting.get(q, [])))),
                        ("HoldTime", "0"),
                        ("TalkTime", "0"),
                        ("LongestHoldTime", "0"),
                        ("ActionID", aid),
                    ]
                )
            )
        out.append(
            render(
                [
                    ("Event", "QueueSummaryComplete"),
                    ("ActionID", aid),
                    ("EventList", "Complete"),
                    ("ListItems", str(len(self.queues))),
                ]
            )
        )
        return b"".join(out)


class ScriptedPbx:
    """Plays one capture to whoever connects (one client at a time).

    Args:
        capture: the ``*.ami`` file (its ``.ami.sent`` is read too).
        auto: captured ActionIDs the server answers on its own, without waiting for the client.
        reject_login: answer every Login with ``Authentication failed``.
        readonly: refuse CoreShowChannels like Asterisk does for a user without write rights.
    """

    def __init__(
        self,
        capture: Path,
        *,
        auto: Collection[str] = ("logoff-1",),
        reject_login: bool = False,
        readonly: bool = False,
        mute_pings: bool = False,
    ) -> None:
        self.banner, self.frames, self.actions = load_capture(capture)
        self.auto = set(auto)
        self.reject_login = reject_login
        self.readonly = readonly
        self.mute_pings = mute_pings
        self.received: list[dict[str, str]] = []
        self.model = _Model()
        self.port = 0
        self.pos = 0
        self.logins = 0
        self._claimed: dict[str, str] = {}  # captured ActionID -> client ActionID
        self._claim_session: dict[str, int] = {}
        self._session = 0
        self._pointer = 0  # next captured action (not auto) to be claimed by the client
        self._changed = asyncio.Condition()
        self._hold: Callable[[CapturedFrame], bool] | None = None
        self._drop_held = False
        self.held = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.kill()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    # --- test controls -------------------------------------------------------------------------

    def hold_before(
        self, predicate: Callable[[CapturedFrame], bool], *, drop: bool = False
    ) -> None:
        """Stop playing before the first frame matching ``predicate`` (``drop``: then skip it)."""
        self.held.clear()
        self._hold = predicate
        self._drop_held = drop

    async def release(self) -> None:
        """Play on (to the end, or to the next ``hold_before``)."""
        self._hold = None
        async with self._changed:
            self._changed.notify_all()

    async def advance_to(
        self, predicate: Callable[[CapturedFrame], bool], *, drop: bool = False
    ) -> None:
        """Play on until just before the next frame matching ``predicate``."""
        self.hold_before(predicate, drop=drop)
        async with self._changed:
            self._changed.notify_all()
        await asyncio.wait_for(self.held.wait(), 10)

    def kill(self) -> None:
        """Drop the TCP link abruptly."""
        if self._writer is not None:
            transport = self._writer.transport
            with contextlib.suppress(Exception):
                transport.abort()
            self._writer = None

    def count(self, action: str) -> int:
        return sum(1 for a in self.received if a.get("Action", "").lower() == action.lower())

    async def finished(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.pos >= len(self.frames))

    # --- serving ---------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.kill()
        self._session += 1
        session = self._session
        self._writer = writer
        writer.write(self.banner.encode())
        logged_in = asyncio.Event()
        player = asyncio.get_running_loop().create_task(self._play(writer, session, logged_in))
        self._tasks.add(player)
        player.add_done_callback(self._tasks.discard)
        try:
            buf = b""
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                buf += data
                while b"\r\n\r\n" in buf:
                    block, buf = buf.split(b"\r\n\r\n", 1)
                    action = parse_block(block.decode())
                    self.received.append(action)
                    await self._on_action(action, writer, session, logged_in)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            player.cancel()
            with contextlib.suppress(Exception):
                writer.close()

    async def _on_action(
        self,
        action: dict[str, str],
        writer: asyncio.StreamWriter,
        session: int,
        logged_in: asyncio.Event,
    ) -> None:
        name = action.get("Action", "")
        aid = action.get("ActionID", "")
        if name.lower() == "login":
            if self.reject_login:
                writer.write(
                    render(
                        [
                            ("Response", "Error"),
                            ("ActionID", aid),
                            ("Message", "Authentication failed"),
                        ]
                    )
                )
                return
            self.logins += 1
            if self._claim(name, aid, session):
                logged_in.set()
                async with self._changed:
                    self._changed.notify_all()
                return
            writer.write(
                render(
                    [
                        ("Response", "Success"),
                        ("ActionID", aid),
                        ("Message", "Authentication accepted"),
                    ]
                )
            )
            events = action.get("Events", "on").lower()
            if events in ("on", "all") or "system" in events.split(","):
                # As Asterisk does after every login to a PBX that is up (manager.c).
                writer.write(
                    render(
                        [
                            ("Event", "FullyBooted"),
                            ("Privilege", "system,all"),
                            ("Uptime", "125"),
                            ("LastReload", "125"),
                            ("Status", "Fully Booted"),
                        ]
                    )
                )
            logged_in.set()
            return
        if self._claim(name, aid, session):
            if name.lower() == "originate":
                captured = self.actions[self._pointer - 1]
                self.model.originates.append(captured)
                captured.headers = {**captured.headers, "Channel": action.get("Channel", "")}
                if action.get("Variable"):
                    captured.variables = action["Variable"].split("\n")
            async with self._changed:
                self._changed.notify_all()
            return
        if name.lower() == "ping" and self.mute_pings:
            return
        writer.write(self._answer(name, aid, action))

    def _claim(self, name: str, aid: str, session: int) -> bool:
        while self._pointer < len(self.actions) and (
            self.actions[self._pointer].action_id in self.auto
            or self.actions[self._pointer].action_id in self._claimed
        ):
            self._pointer += 1
        if self._pointer >= len(self.actions):
            return False
        captured = self.actions[self._pointer]
        if captured.name.lower() != name.lower():
            return False
        if name.lower() == "login" and self.pos > 0:
            return False
        self._claimed[captured.action_id] = aid
        self._claim_session[captured.action_id] = session
        self._pointer += 1
        return True

    def _answer(self, name: str, aid: str, action: dict[str, str]) -> bytes:
        n = name.lower()
        if n == "ping":
            return render(
                [
                    ("Response", "Success"),
                    ("ActionID", aid),
                    ("Ping", "Pong"),
                    ("Timestamp", "1795356475.000000"),
                ]
            )
        if n == "coreshowchannels":
            if self.readonly:
                return render(
                    [("Response", "Error"), ("ActionID", aid), ("Message", "Permission denied")]
                )
            return self.model.core_show_channels(aid)
        if n == "queuestatus":
            return self.model.queue_status(aid)
        if n == "queuesummary":
            return self.model.queue_summary(aid)
        if n == "getvar":
            value = self.model.vars.get(action.get("Channel", ""), {}).get(
                action.get("Variable", "")
            )
            if action.get("Channel") and action["Channel"] not in {
                c["Channel"] for c in self.model.channels.values()
            }:
                return render(
                    [("Response", "Error"), ("ActionID", aid), ("Message", "No such channel")]
                )
            return render(
                [
                    ("Response", "Success"),
                    ("ActionID", aid),
                    ("Variable", action.get("Variable", "")),
                    ("Value", value or ""),
                ]
            )
        if n == "logoff":
            return render(
                [
                    ("Response", "Goodbye"),
                    ("ActionID", aid),
                    ("Message", "Thanks for all the fish."),
                ]
            )
        return render([("Response", "Success"), ("ActionID", aid), ("Message", "OK")])

    async def _play(
        self, writer: asyncio.StreamWriter, session: int, logged_in: asyncio.Event
    ) -> None:
        if self.pos > 0:
            await logged_in.wait()
        while self.pos < len(self.frames):
            frame = self.frames[self.pos]
            async with self._changed:
                await self._changed.wait_for(lambda f=frame: self._ready(f))  # type: ignore[misc]
            hold = self._hold
            if hold is not None and hold(frame):
                drop = self._drop_held
                self.held.set()
                async with self._changed:
                    await self._changed.wait_for(lambda h=hold: self._hold is not h)  # type: ignore[misc]
                if drop:
                    self.pos += 1
                    self.model.apply(frame.headers)
                    continue
            if writer is not self._writer:
                return
            data = frame.raw
            owner = frame.owner
            if owner is not None:
                claimed = self._claimed.get(owner, owner)
                is_response = "Response" in frame.headers and "Event" not in frame.headers
                if self._claim_session.get(owner, session) != session and (
                    is_response or frame.headers.get("Event") != "OriginateResponse"
                ):
                    data = ""  # answers meant for a dead session are gone with it
                data = data.replace(f"ActionID: {owner}\r\n", f"ActionID: {claimed}\r\n")
            if data:
                writer.write(data.encode())
            self.model.apply(frame.headers)
            self.pos += 1
            if self.pos % 16 == 0:
                await writer.drain()
            async with self._changed:
                self._changed.notify_all()

    def _ready(self, frame: CapturedFrame) -> bool:
        owner = frame.owner
        return owner is None or owner in self.auto or owner in self._claimed
