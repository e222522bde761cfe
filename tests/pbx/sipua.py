"""A small SIP user agent over UDP, for the ``pbx`` tests: agents' softphones and the carrier.

Pure stdlib asyncio. One :class:`Phone` is one UDP socket. A softphone registers to Asterisk
with digest auth and answers the calls Asterisk sends it (when the test says so, or after
``auto_answer`` seconds); the carrier sends calls into Asterisk and answers or refuses the calls
Asterisk's dialer sends it (:meth:`Phone.on_invite`). Tests decide at run time when a phone
answers, hangs up or unregisters, which is why this is Python and not sipp.

What it implements of RFC 3261 is what Asterisk needs from a phone on a loopback network:
retransmission of requests and of INVITE final responses (timers A/E, G), retransmitted requests
answered again from the server transaction, digest auth (MD5, with and without ``qop=auth``),
dialogs with route sets and target refresh, CANCEL, re-INVITE, UPDATE, OPTIONS (Asterisk's
qualify), and 20 ms PCMU silence on a real RTP socket while a call is up. Not: TCP/TLS, forking,
100rel, session timers, strict routing, SRTP, and media other than that silence.

Asterisk 22 sends its connected-line update (when it bridges a call) as an UPDATE to a peer whose
Allow lists UPDATE, which ours does by default, and as a re-INVITE otherwise
(``Phone.allow_update = False``, like sipp). Both are answered 200 OK.

Every message sent or received is logged to the ``sipua`` logger: its first line at INFO, the
whole message at DEBUG.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import re
import secrets
import socket
import struct
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Any, Literal

log = logging.getLogger("sipua")

T1 = 0.5  # RFC 3261 timer T1: round-trip estimate, first retransmission interval
T2 = 4.0  # RFC 3261 timer T2: longest retransmission interval
TRANSACTION_TIMEOUT = 64 * T1  # timers B, F and H: 32 s
USER_AGENT = "cti-sipua"
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, INFO"  # and UPDATE: Phone.allow_update
PCMU_SILENCE = b"\xff" * 160  # 20 ms of mu-law silence at 8 kHz
PACKET_INTERVAL = 0.020

Address = tuple[str, int]

REASONS = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    603: "Decline",
}


class SipError(Exception):
    """A request got a final error response, or no answer in time.

    The message names the request and the status (``INVITE sip:0610@127.0.0.1:5060: 486 Busy
    Here``); ``status`` is the SIP status code, ``None`` for a timeout.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @classmethod
    def from_response(cls, request: SipMessage, response: SipMessage) -> SipError:
        return cls(
            f"{request.method} {request.uri}: {response.status} {response.reason}",
            status=response.status,
        )


class EndReason(StrEnum):
    """Why a call ended (:meth:`Call.ended` returns one; each compares equal to its string)."""

    BYE_RECEIVED = "bye-received"
    BYE_SENT = "bye-sent"
    CANCELLED = "cancelled"  # the far end cancelled the INVITE it sent us
    CANCEL_SENT = "cancel-sent"  # we cancelled our INVITE (hung up while it rang)
    REJECTED = "rejected"  # we answered an incoming INVITE with an error (Call.status)
    FAILED = "failed"  # our INVITE got an error response (Call.status)
    TIMEOUT = "timeout"  # our INVITE got no answer at all
    NO_ACK = "no-ack"  # our 200 OK was never acknowledged; we sent BYE
    CLOSED = "closed"  # the phone was closed and the far end did not answer our goodbye


class CallState(StrEnum):
    RINGING = "ringing"
    UP = "up"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the carrier does with an INVITE (see :meth:`Phone.on_invite`).

    ``answer`` is 200 OK, ``busy`` 486, ``congestion`` 503, ``unavailable`` 480; ``noanswer``
    rings until the caller cancels. ``after`` is how long it rings first (for every action);
    ``hangup_after`` makes an answered call send BYE that many seconds after answering.
    """

    action: Literal["answer", "busy", "congestion", "noanswer", "unavailable"]
    after: float = 0.0
    hangup_after: float | None = None


_REJECTIONS = {"busy": 486, "congestion": 503, "unavailable": 480}


# --- messages ------------------------------------------------------------------------------------

_COMPACT = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
}
_SPECIAL = {
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "www-authenticate": "WWW-Authenticate",
    "mime-version": "MIME-Version",
    "rack": "RAck",
    "rseq": "RSeq",
}
# Headers whose comma-separated values are separate entries (RFC 3261 7.3.1).
_LIST_HEADERS = {"Via", "Route", "Record-Route", "Contact"}
_REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")


def canonical_name(name: str) -> str:
    """``call-id``, ``i`` and ``CALL-ID`` all become ``Call-ID``."""
    low = name.strip().lower()
    if low in _COMPACT:
        return _COMPACT[low]
    if low in _SPECIAL:
        return _SPECIAL[low]
    return "-".join(part.capitalize() for part in low.split("-"))


def split_commas(value: str) -> list[str]:
    """Split a header value at the commas that are outside quotes and angle brackets."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    depth = 0
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth = max(0, depth - 1)
        elif char == "," and not quoted and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


@dataclass(slots=True)
class SipMessage:
    """A request or response: the start line, headers in order (names canonical), the body."""

    first_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def parse(cls, data: bytes) -> SipMessage:
        """Parse one datagram; raise ``ValueError`` if it is not a SIP message we can use."""
        head, sep, body = data.partition(b"\r\n\r\n")
        if not sep:
            head, _, body = data.partition(b"\n\n")
        lines = head.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
        message = cls(lines[0].strip())
        for line in lines[1:]:
            if not line.strip():
                continue
            if line[0] in " \t" and message.headers:  # a folded continuation line
                name, value = message.headers[-1]
                message.headers[-1] = (name, f"{value} {line.strip()}")
                continue
            name, colon, value = line.partition(":")
            if not colon:
                raise ValueError(f"not a header line: {line!r}")
            message.headers.append((canonical_name(name), value.strip()))
        length = message.get("Content-Length")
        message.body = body[: int(length)] if length is not None else body
        parts = message.first_line.split(" ", 2)
        if message.is_request:
            if len(parts) != 3 or parts[2] != "SIP/2.0":
                raise ValueError(f"not a SIP request line: {message.first_line!r}")
        elif len(parts) < 2 or not parts[1].isdigit():
            raise ValueError(f"not a SIP status line: {message.first_line!r}")
        missing = [name for name in _REQUIRED if message.get(name) is None]
        if missing:
            raise ValueError(f"{message.first_line!r} lacks {', '.join(missing)}")
        return message

    def encode(self) -> bytes:
        lines = [self.first_line]
        lines += [f"{name}: {value}" for name, value in self.headers if name != "Content-Length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body

    def add(self, name: str, value: str) -> None:
        self.headers.append((canonical_name(name), value))

    def get(self, name: str) -> str | None:
        """The first value of a header (the whole first line of a comma list), or ``None``."""
        name = canonical_name(name)
        return next((value for key, value in self.headers if key == name), None)

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def get_all(self, name: str) -> list[str]:
        """Every value of a header, comma lists of Via/Route/Record-Route/Contact split."""
        name = canonical_name(name)
        values = [value for key, value in self.headers if key == name]
        if name in _LIST_HEADERS:
            return [part for value in values for part in split_commas(value)]
        return values

    def raw(self, name: str) -> list[str]:
        """Every header line of that name as received (for copying into a response)."""
        name = canonical_name(name)
        return [value for key, value in self.headers if key == name]

    def header_dict(self) -> dict[str, str]:
        """Headers as a dict, canonical names, the first value of each."""
        result: dict[str, str] = {}
        for name, value in self.headers:
            result.setdefault(name, value)
        return result

    @property
    def is_request(self) -> bool:
        return not self.first_line.startswith("SIP/2.0 ")

    @property
    def method(self) -> str:
        """The request's method; for a response, the method of the request it answers."""
        if self.is_request:
            return self.first_line.split(" ", 1)[0]
        return self.cseq[1]

    @property
    def uri(self) -> str:
        return self.first_line.split(" ")[1] if self.is_request else ""

    @property
    def status(self) -> int:
        return int(self.first_line.split(" ")[1]) if not self.is_request else 0

    @property
    def reason(self) -> str:
        parts = self.first_line.split(" ", 2)
        return parts[2] if not self.is_request and len(parts) > 2 else ""

    @property
    def call_id(self) -> str:
        return self["Call-ID"]

    @property
    def cseq(self) -> tuple[int, str]:
        number, _, method = self["CSeq"].partition(" ")
        return int(number), method.strip()

    @property
    def branch(self) -> str:
        """The branch of the top Via (the transaction id)."""
        return NameAddr.params_of(self.get_all("Via")[0]).get("branch", "")

    @property
    def summary(self) -> str:
        return self.first_line if self.is_request else f"{self.first_line} ({self['CSeq']})"


@dataclass(frozen=True, slots=True)
class NameAddr:
    """A From/To/Contact/Route value: ``"Display" <uri>;param=value``."""

    display: str
    uri: str
    params: dict[str, str]

    _ANGLE = re.compile(r'^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^>]*)>(.*)$')

    @classmethod
    def parse(cls, value: str) -> NameAddr:
        match = cls._ANGLE.match(value)
        if match:
            quoted, token, uri, rest = match.groups()
            display = quoted.replace('\\"', '"') if quoted is not None else (token or "").strip()
            return cls(display, uri.strip(), cls.params_of(rest))
        uri, _, rest = value.strip().partition(";")
        return cls("", uri, cls.params_of(";" + rest))

    @staticmethod
    def params_of(text: str) -> dict[str, str]:
        """``;tag=a;lr`` -> ``{"tag": "a", "lr": ""}`` (also takes a whole Via value)."""
        params: dict[str, str] = {}
        for part in text.split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip():
                params[key.strip().lower()] = value.strip().strip('"')
        return params

    @property
    def tag(self) -> str:
        return self.params.get("tag", "")


@dataclass(frozen=True, slots=True)
class SipUri:
    """``sip:user@host:port;params``: the parts a user agent needs."""

    user: str
    host: str
    port: int | None

    _URI = re.compile(r"^sips?:(?:([^@;?]*)@)?(\[[^\]]+\]|[^:;?>]+)(?::(\d+))?")

    @classmethod
    def parse(cls, uri: str) -> SipUri:
        match = cls._URI.match(uri.strip())
        if match is None:
            raise ValueError(f"not a SIP URI: {uri!r}")
        user, host, port = match.groups()
        return cls((user or "").split(":", 1)[0], host.strip("[]"), int(port) if port else None)

    @property
    def address(self) -> Address:
        return self.host, self.port or 5060


# --- digest authentication (RFC 2617 / RFC 3261 22) ----------------------------------------------


def parse_challenge(value: str) -> dict[str, str]:
    """``Digest realm="asterisk",nonce="..",qop="auth"`` -> its parameters (keys lowercase)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise ValueError(f"not a Digest challenge: {value!r}")
    params: dict[str, str] = {}
    for part in split_commas(rest):
        key, _, raw = part.partition("=")
        raw = raw.strip()
        params[key.strip().lower()] = raw[1:-1] if raw.startswith('"') else raw
    return params


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def digest_authorization(
    challenge: dict[str, str],
    *,
    method: str,
    uri: str,
    username: str,
    password: str,
    nc: int = 1,
    cnonce: str | None = None,
) -> str:
    """The ``Authorization`` value answering a digest challenge (MD5, ``qop=auth`` or none)."""
    algorithm = challenge.get("algorithm", "MD5")
    if algorithm.upper() != "MD5":
        raise ValueError(f"digest algorithm {algorithm} is not supported")
    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    fields = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    qops = [qop.strip() for qop in challenge.get("qop", "").split(",") if qop.strip()]
    if "auth" in qops:
        cnonce = cnonce or secrets.token_hex(8)
        count = f"{nc:08x}"
        response = _md5(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}")
        fields += [f'response="{response}"', "algorithm=MD5"]
        fields += [f'cnonce="{cnonce}"', "qop=auth", f"nc={count}"]
    elif qops:
        raise ValueError(f"digest qop {challenge['qop']!r} is not supported")
    else:
        fields += [f'response="{_md5(f"{ha1}:{nonce}:{ha2}")}"', "algorithm=MD5"]
    if "opaque" in challenge:
        fields.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(fields)


def _answer_challenge(
    response: SipMessage, request: SipMessage, username: str, password: str
) -> tuple[str, str]:
    """The (header name, value) answering a 401/407; ``SipError`` if no MD5 challenge is in it."""
    asked, answer = (
        ("Proxy-Authenticate", "Proxy-Authorization")
        if response.status == 407
        else ("WWW-Authenticate", "Authorization")
    )
    for value in response.get_all(asked):
        with contextlib.suppress(ValueError):
            challenge = parse_challenge(value)
            return answer, digest_authorization(
                challenge,
                method=request.method,
                uri=request.uri,
                username=username,
                password=password,
            )
    raise SipError(
        f"{request.method} {request.uri}: {response.status} with no MD5 digest challenge",
        status=response.status,
    )


def _is_stale(response: SipMessage) -> bool:
    values = response.get_all("WWW-Authenticate") + response.get_all("Proxy-Authenticate")
    return any(
        parse_challenge(value).get("stale", "").lower() == "true"
        for value in values
        if value.lower().startswith("digest")
    )


# --- SDP and RTP ---------------------------------------------------------------------------------


def sdp_audio_address(body: bytes) -> Address | None:
    """Where the far end wants audio: the first audio m= line's port and its c= address."""
    session_host: str | None = None
    media_host: str | None = None
    port: int | None = None
    in_audio = False
    for raw_line in body.decode("utf-8", "replace").splitlines():
        line = raw_line.strip()
        if line.startswith("m="):
            parts = line[2:].split()
            in_audio = port is None and len(parts) > 1 and parts[0] == "audio"
            if in_audio:
                port = int(parts[1])
        elif line.startswith("c="):
            address = line.split()[-1].split("/")[0]
            if port is None and not in_audio:
                session_host = session_host or address
            elif in_audio:
                media_host = address
    host = media_host or session_host
    if host is None or not port:
        return None
    return host, port


DTMF_EVENTS = "0123456789*#ABCD"


class _RtpProtocol(asyncio.DatagramProtocol):
    def __init__(self, media: _Media) -> None:
        self._media = media

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._media.packets_received += 1
        self._media.received.set()
        # RFC 4733 telephone-event (our SDP's payload type 101): a digit, counted at its end
        # packet (sent three times, one timestamp).
        if len(data) >= 16 and data[1] & 0x7F == 101 and data[13] & 0x80:
            timestamp = data[4:8]
            if timestamp not in self._media.digit_stamps and data[12] < len(DTMF_EVENTS):
                self._media.digit_stamps.add(timestamp)
                self._media.digits.append(DTMF_EVENTS[data[12]])

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable: the far end closed its RTP port first; harmless.
        pass


class _Media:
    """One call's RTP socket: 20 ms PCMU silence to the far end; what arrives is counted, dropped.

    The socket is bound at once (its port goes into our SDP); it is read and written only once
    :meth:`start` runs, when the call is up.
    """

    def __init__(self, host: str, received: asyncio.Event) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, 0))
        self._sock.setblocking(False)
        self.port: int = self._sock.getsockname()[1]
        self.remote: Address | None = None
        self.packets_received = 0
        self.packets_sent = 0
        # DTMF digits received as RFC 4733 events, in order.
        self.digits: list[str] = []
        self.digit_stamps: set[bytes] = set()
        self.received = received
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self, remote: Address | None) -> asyncio.Task[None] | None:
        """Start sending to ``remote`` (or just receiving, if ``None``); the task, if new."""
        self.remote = remote
        if self._task is not None or self._closed:
            return None
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _RtpProtocol(self), sock=self._sock
        )
        ssrc = secrets.randbits(32)
        sequence, timestamp = secrets.randbits(16), secrets.randbits(32)
        next_at = loop.time()
        try:
            while True:
                if self.remote is not None:
                    marker = 0x80 if self.packets_sent == 0 else 0
                    header = struct.pack("!BBHII", 0x80, marker, sequence, timestamp, ssrc)
                    transport.sendto(header + PCMU_SILENCE, self.remote)
                    self.packets_sent += 1
                sequence = (sequence + 1) & 0xFFFF
                timestamp = (timestamp + 160) & 0xFFFFFFFF
                # Pacing, not synchronisation: one packet per 20 ms of wall clock.
                next_at += PACKET_INTERVAL
                await asyncio.sleep(max(0.0, next_at - loop.time()))
        finally:
            transport.close()

    def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
        else:
            self._sock.close()


# --- transactions --------------------------------------------------------------------------------


@dataclass(slots=True)
class _ServerTransaction:
    """A request we received, and the last response we sent to it (resent on retransmission)."""

    request: SipMessage
    addr: Address
    last_response: SipMessage | None = None


class _ClientTransaction:
    """A request we sent: retransmitted until answered (timers A/E), timed out after 32 s (B/F).

    Every response goes to ``on_response``; ``final`` resolves with the first final response,
    or fails with :class:`SipError` on timeout. The transaction ACKs an INVITE's error responses
    itself (RFC 3261 17.1.1.3); a 2xx is ACKed by the dialog.
    """

    def __init__(
        self,
        phone: Phone,
        request: SipMessage,
        addr: Address,
        on_response: Callable[[SipMessage], None] | None,
    ) -> None:
        self.request = request
        self.addr = addr
        self.key = (request.branch, request.method)
        self.final: asyncio.Future[SipMessage] = asyncio.get_running_loop().create_future()
        self._phone = phone
        self._on_response = on_response
        self._answered = False
        # Nobody may await a transaction that timed out after its caller gave up.
        self.final.add_done_callback(lambda f: None if f.cancelled() else f.exception())

    def start(self) -> None:
        self._phone._client_transactions[self.key] = self
        self._phone._send(self.request, self.addr)
        self._phone._spawn(self._retransmit())

    async def _retransmit(self) -> None:
        is_invite = self.request.method == "INVITE"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TRANSACTION_TIMEOUT
        interval = T1
        while True:
            await asyncio.sleep(min(interval, max(0.0, deadline - loop.time())))
            # A provisional response stops an INVITE's retransmissions, not the others'.
            if self.final.done() or (is_invite and self._answered):
                return
            if loop.time() >= deadline:
                self.final.set_exception(
                    SipError(f"{self.request.method} {self.request.uri}: no answer in 32 s")
                )
                self._forget_later()
                return
            self._phone._send(self.request, self.addr, again=True)
            # An INVITE's interval doubles without limit (timer A); others' stop at T2 (timer E).
            interval = interval * 2 if is_invite else min(interval * 2, T2)

    def _forget_later(self) -> None:
        # Stay findable a while, so retransmitted final responses are absorbed (and re-ACKed).
        loop = asyncio.get_running_loop()
        loop.call_later(TRANSACTION_TIMEOUT, self._phone._client_transactions.pop, self.key, None)

    def receive(self, response: SipMessage) -> None:
        self._answered = True
        if self.request.method == "INVITE" and response.status >= 300:
            self._phone._send(_ack_for_error(self.request, response), self.addr)
        if self._on_response is not None:
            self._on_response(response)
        if response.status >= 200 and not self.final.done():
            self.final.set_result(response)
            self._forget_later()


def _ack_for_error(invite: SipMessage, response: SipMessage) -> SipMessage:
    """The hop-by-hop ACK of an INVITE's error response (same branch as the INVITE)."""
    ack = SipMessage(f"ACK {invite.uri} SIP/2.0")
    ack.add("Via", invite.get_all("Via")[0])
    ack.add("Max-Forwards", "70")
    for route in invite.get_all("Route"):
        ack.add("Route", route)
    ack.add("From", invite["From"])
    ack.add("To", response["To"])
    ack.add("Call-ID", invite.call_id)
    ack.add("CSeq", f"{invite.cseq[0]} ACK")
    ack.add("User-Agent", USER_AGENT)
    return ack


def _new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


def _new_tag() -> str:
    return secrets.token_hex(6)


# --- calls ---------------------------------------------------------------------------------------


class Call:
    """One call (one dialog): incoming, where we are the UAS, or outgoing (UAC).

    Attributes:
        number: the dialled number (the request-URI user of the INVITE).
        caller, caller_name: who the INVITE is from (the From user and display name).
        headers: the incoming INVITE's headers, or the 200 OK's for an outgoing call.
        status: the final status of the INVITE, once there is one.
        answered: set once the call is answered (our 200 OK sent, or theirs received).
        provisional: the provisional statuses an outgoing INVITE got (100, 180, 183...).
        received: the in-dialog requests the far end sent, in order (``INVITE`` is a re-INVITE).
        media_received: set when the first RTP packet arrives.
    """

    def __init__(
        self, phone: Phone, *, direction: Literal["in", "out"], number: str, call_id: str
    ) -> None:
        self.phone = phone
        self.direction = direction
        self.number = number
        self.call_id = call_id
        self.caller = ""
        self.caller_name = ""
        self.headers: dict[str, str] = {}
        self.status: int | None = None
        self.end_reason: EndReason | None = None
        self.provisional: list[int] = []
        self.received: list[str] = []
        self._requested = asyncio.Event()  # an in-dialog request came (``received`` has it)
        self.answered = asyncio.Event()
        self.media_received = asyncio.Event()
        self.media = _Media(phone.host, self.media_received)
        self._state = CallState.RINGING
        self._ended = asyncio.Event()
        self._settled = asyncio.Event()  # answered or ended: an outgoing INVITE has its outcome
        self._error: SipError | None = None
        self._local_tag = _new_tag()
        self._local_header = ""  # our From (outgoing) or To (incoming) value, with our tag
        self._remote_header = ""  # theirs, with their tag once known
        self._remote_target = ""  # where in-dialog requests go: the far end's Contact
        self._route_set: list[str] = []
        self._local_cseq = 0
        self._remote_media: Address | None = None
        self._sdp_session = secrets.randbits(31)
        self._sdp_version = 1
        self._pending_acks: dict[int, asyncio.Event] = {}  # CSeq of our 2xx/error -> its ACK
        self._no_pending_acks = asyncio.Event()
        self._no_pending_acks.set()
        self._ack_wait_over = asyncio.Event()  # our 200 OK was ACKed (or we gave up waiting)
        # incoming
        self._invite_transaction: _ServerTransaction | None = None
        # outgoing
        self._target: Address = phone.server
        self._invite: SipMessage | None = None
        self._ack: SipMessage | None = None
        self._may_cancel = asyncio.Event()  # a provisional response came (RFC 3261 9.1)
        self._cancelling = False

    def __repr__(self) -> str:
        return f"<Call {self.direction} {self.number} {self._state} {self.call_id}>"

    @property
    def state(self) -> CallState:
        return self._state

    @property
    def is_up(self) -> bool:
        return self._state is CallState.UP

    # --- what tests call ---

    async def answer(self) -> None:
        """Answer an incoming call: 200 OK with our SDP, resent until Asterisk ACKs it."""
        transaction = self._ringing_incoming("answer")
        self._set_up(200)
        self._respond_final(transaction, 200, body=self._sdp(), ack_wait=self._ack_wait_over)

    async def reject(self, code: int = 486) -> None:
        """Refuse an incoming call that is still ringing with ``code`` (486 Busy Here...)."""
        transaction = self._ringing_incoming("reject")
        self._end(EndReason.REJECTED, code)
        self._respond_final(transaction, code)

    async def hangup(self) -> None:
        """End the call: BYE once up; CANCEL while our INVITE rings; 486 to a ringing INVITE."""
        if self._state is CallState.ENDED:
            return
        if self._state is CallState.UP:
            await self._bye(EndReason.BYE_SENT)
        elif self.direction == "in":
            await self.reject(486)
        else:
            await self._cancel()

    async def ended(self, timeout: float = 30) -> str:
        """Wait until the call ends; why it ended (an :class:`EndReason`, e.g. "bye-received")."""
        try:
            async with asyncio.timeout(timeout):
                await self._ended.wait()
        except TimeoutError:
            raise SipError(f"call {self.number}: still {self._state} after {timeout} s") from None
        assert self.end_reason is not None
        return self.end_reason

    async def requests(self, timeout: float = 15) -> list[str]:
        """The methods of the in-dialog requests the far end sent so far, waiting for the first
        if none came yet (whenever it came: before this was called, or after)."""
        try:
            async with asyncio.timeout(timeout):
                await self._requested.wait()
        except TimeoutError:
            raise SipError(f"call {self.number}: no request within {timeout} s") from None
        return list(self.received)

    async def wait_answered(self, timeout: float = 30) -> None:
        """Wait until an outgoing call is answered; ``SipError`` if it fails or takes too long."""
        try:
            async with asyncio.timeout(timeout):
                await self._settled.wait()
        except TimeoutError:
            raise SipError(
                f"INVITE {self.number}: not answered within {timeout} s", status=None
            ) from None
        if not self.answered.is_set():
            raise self._error or SipError(
                f"INVITE {self.number}: call ended ({self.end_reason})", status=self.status
            )

    async def acknowledged(self, timeout: float = 5) -> None:
        """Wait until the far end has ACKed every final response we sent to its INVITEs.

        Asterisk cuts a call whose 200 OK (to its INVITE or re-INVITE) it did not ACK; a test
        that this one was ACKed waits here.
        """
        try:
            async with asyncio.timeout(timeout):
                await self._no_pending_acks.wait()
        except TimeoutError:
            pending = sorted(self._pending_acks)
            raise SipError(
                f"call {self.number}: no ACK within {timeout} s (CSeq {pending})"
            ) from None

    async def reinvite(self, timeout: float = 10) -> SipMessage:
        """Send a re-INVITE with our SDP; the 200 OK (ACKed). ``SipError`` on an error."""
        if self._state is not CallState.UP:
            raise SipError(f"re-INVITE {self.number}: call is {self._state}")
        request, addr = self._request("INVITE", body=self._sdp())
        acks: list[SipMessage] = []

        def on_response(response: SipMessage) -> None:
            if not 200 <= response.status < 300:
                return
            if acks:  # a retransmitted 200 OK: our ACK got lost
                self.phone._send(acks[0], addr, again=True)
                return
            acks.append(self._request("ACK", cseq=response.cseq[0])[0])
            self._learn_media(response.body)
            self.phone._send(acks[0], addr)

        response = await self.phone._transact(request, addr, on_response, timeout=timeout)
        if response.status >= 300:
            raise SipError.from_response(request, response)
        return response

    # --- incoming calls (UAS) ---

    @classmethod
    def _from_invite(
        cls, phone: Phone, invite: SipMessage, transaction: _ServerTransaction
    ) -> Call:
        uri = SipUri.parse(invite.uri)
        call = cls(phone, direction="in", number=uri.user, call_id=invite.call_id)
        caller = NameAddr.parse(invite["From"])
        with contextlib.suppress(ValueError):
            call.caller = SipUri.parse(caller.uri).user
        call.caller_name = caller.display
        call.headers = invite.header_dict()
        call._invite_transaction = transaction
        call._local_header = f"{invite['To']};tag={call._local_tag}"
        call._remote_header = invite["From"]
        contact = invite.get("Contact")
        call._remote_target = NameAddr.parse(contact).uri if contact else caller.uri
        call._route_set = invite.get_all("Record-Route")
        call._remote_media = sdp_audio_address(invite.body)
        return call

    def _ringing_incoming(self, what: str) -> _ServerTransaction:
        if self.direction != "in" or self._invite_transaction is None:
            raise SipError(f"{what} {self.number}: not an incoming call")
        if self._state is not CallState.RINGING:
            raise SipError(f"{what} {self.number}: the call is {self._state} ({self.end_reason})")
        return self._invite_transaction

    def _ring(self) -> None:
        assert self._invite_transaction is not None
        self.phone._respond(self._invite_transaction, 100)
        self.phone._respond(
            self._invite_transaction,
            180,
            to_tag=self._local_tag,
            headers=self._dialog_headers(self._invite_transaction.request),
        )

    def _dialog_headers(self, request: SipMessage) -> list[tuple[str, str]]:
        """What a 18x or 2xx to ``request`` carries besides the usual: Contact, Record-Route."""
        headers = [("Contact", self.phone.contact), ("Allow", self.phone.allow)]
        return headers + [("Record-Route", route) for route in request.raw("Record-Route")]

    def _respond_final(
        self,
        transaction: _ServerTransaction,
        code: int,
        *,
        body: bytes = b"",
        ack_wait: asyncio.Event | None = None,
    ) -> None:
        """Send a final response to an INVITE, and resend it until ACKed (timer G)."""
        headers = self._dialog_headers(transaction.request) if code < 300 else []
        acked = self._pending_acks[transaction.request.cseq[0]] = asyncio.Event()
        self._no_pending_acks.clear()
        self.phone._respond(transaction, code, to_tag=self._local_tag, headers=headers, body=body)
        self.phone._spawn(self._resend_until_ack(transaction, acked, ack_wait))

    async def _resend_until_ack(
        self, transaction: _ServerTransaction, acked: asyncio.Event, ack_wait: asyncio.Event | None
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TRANSACTION_TIMEOUT
        interval = T1
        while loop.time() < deadline:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(interval, deadline - loop.time())):
                    await acked.wait()
            if acked.is_set():
                return
            self.phone._resend(transaction)
            interval = min(interval * 2, T2)
        request = transaction.request
        self._forget_ack(request.cseq[0])
        log.warning("%s: no ACK for our answer to %s", self.phone.user, request.summary)
        if ack_wait is not None:
            ack_wait.set()
            if self._state is CallState.UP:
                await self._bye(EndReason.NO_ACK)

    def _on_ack(self, ack: SipMessage) -> None:
        acked = self._forget_ack(ack.cseq[0])
        if acked is not None:
            acked.set()
        if ack.body:  # the answer to an offer we made in a 2xx
            self._learn_media(ack.body)
        if (
            self._invite_transaction is not None
            and ack.cseq[0] == self._invite_transaction.request.cseq[0]
        ):
            self._ack_wait_over.set()

    def _forget_ack(self, cseq: int) -> asyncio.Event | None:
        acked = self._pending_acks.pop(cseq, None)
        if not self._pending_acks:
            self._no_pending_acks.set()
        return acked

    def _on_cancel(self) -> None:
        if self._state is not CallState.RINGING or self._invite_transaction is None:
            return
        self._end(EndReason.CANCELLED, 487)
        self._respond_final(self._invite_transaction, 487)

    def _on_request(self, request: SipMessage, transaction: _ServerTransaction) -> None:
        """An in-dialog request from the far end."""
        self.received.append(request.method)
        self._requested.set()
        method = request.method
        if method == "BYE":
            self.phone._respond(transaction, 200)
            if self._state is CallState.RINGING and self._invite_transaction is not None:
                self._respond_final(self._invite_transaction, 487)
            self._end(EndReason.BYE_RECEIVED)
        elif self._state is CallState.ENDED:
            self.phone._respond(transaction, 481)
        elif method == "INVITE":
            self._on_reinvite(request, transaction)
        elif method == "UPDATE":
            body = self._sdp() if request.body else b""
            self._learn_media(request.body)
            self._refresh_target(request)
            self.phone._respond(
                transaction, 200, headers=[("Contact", self.phone.contact)], body=body
            )
        elif method in {"OPTIONS", "INFO", "NOTIFY", "MESSAGE"}:
            self.phone._respond(transaction, 200)
        else:
            self.phone._respond(transaction, 501, headers=[("Allow", self.phone.allow)])

    def _on_reinvite(self, request: SipMessage, transaction: _ServerTransaction) -> None:
        if self._state is not CallState.UP:
            self.phone._respond(transaction, 491)
            return
        self._learn_media(request.body)
        self._refresh_target(request)
        # Same SDP as before, same o= version: nothing changed on our side (RFC 3264 8).
        self._respond_final(transaction, 200, body=self._sdp())

    def _refresh_target(self, request: SipMessage) -> None:
        contact = request.get("Contact")
        if contact:
            self._remote_target = NameAddr.parse(contact).uri

    # --- outgoing calls (UAC) ---

    async def _drive(self) -> None:
        """Send the INVITE, answer auth challenges, until the call is answered or fails."""
        authorization: tuple[str, str] | None = None
        challenged = False
        while True:
            request, _ = self._request("INVITE", body=self._sdp())
            if authorization is not None:
                request.add(*authorization)
            self._invite = request
            self._may_cancel.clear()
            transaction = self.phone._client(request, self._target, self._on_invite_response)
            try:
                response = await transaction.final
            except SipError as exc:
                self._fail(exc, EndReason.TIMEOUT, None)
                return
            if response.status < 300:
                return
            stale = _is_stale(response)
            if (
                response.status in (401, 407)
                and self.phone.password
                and not self._cancelling
                and (not challenged or stale)
            ):
                challenged = True
                try:
                    authorization = _answer_challenge(
                        response, request, self.phone.user, self.phone.password
                    )
                except SipError as exc:
                    self._fail(exc, EndReason.FAILED, response.status)
                    return
                continue
            reason = EndReason.CANCEL_SENT if self._cancelling else EndReason.FAILED
            self._fail(SipError.from_response(request, response), reason, response.status)
            return

    def _on_invite_response(self, response: SipMessage) -> None:
        if response.status < 200:
            self.provisional.append(response.status)
            self._may_cancel.set()
            return
        if response.status >= 300:
            return  # ACKed by the transaction; _drive decides what next
        if self._ack is not None:  # a retransmitted 200 OK: our ACK got lost
            self.phone._send(self._ack, self._next_hop(), again=True)
            return
        self._remote_header = response["To"]
        contact = response.get("Contact")
        if contact:
            self._remote_target = NameAddr.parse(contact).uri
        self._route_set = list(reversed(response.get_all("Record-Route")))
        self.headers = response.header_dict()
        self._learn_media(response.body)
        self._ack, addr = self._request("ACK", cseq=response.cseq[0])
        self.phone._send(self._ack, addr)
        self._ack_wait_over.set()
        if self._state is CallState.ENDED:  # answered after we gave up on it
            self.phone._spawn(self._late_bye())
            return
        self._set_up(response.status)

    async def _late_bye(self) -> None:
        request, addr = self._request("BYE")
        with contextlib.suppress(SipError):
            await self.phone._transact(request, addr)

    async def _cancel(self) -> None:
        self._cancelling = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(TRANSACTION_TIMEOUT):
                await self._may_cancel.wait()
        if self._state is CallState.RINGING and self._invite is not None:
            invite = self._invite
            cancel = SipMessage(f"CANCEL {invite.uri} SIP/2.0")
            cancel.add("Via", invite.get_all("Via")[0])
            cancel.add("Max-Forwards", "70")
            for route in invite.get_all("Route"):
                cancel.add("Route", route)
            for name in ("From", "To", "Call-ID"):
                cancel.add(name, invite[name])
            cancel.add("CSeq", f"{invite.cseq[0]} CANCEL")
            cancel.add("User-Agent", USER_AGENT)
            try:
                await self.phone._transact(cancel, self._target)
            except SipError as exc:
                log.warning("%s: %s", self.phone.user, exc)
            # The INVITE now ends with 487, or with 200 if the answer crossed our CANCEL.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TRANSACTION_TIMEOUT):
                    await self._settled.wait()
        if self._state is CallState.UP:
            await self._bye(EndReason.BYE_SENT)
        elif self._state is CallState.RINGING:
            self._end(EndReason.CANCEL_SENT)

    # --- both ---

    def _request(
        self, method: str, *, cseq: int | None = None, body: bytes = b""
    ) -> tuple[SipMessage, Address]:
        """An in-dialog request (or the initial INVITE), and where to send it."""
        if cseq is None:
            self._local_cseq += 1
            cseq = self._local_cseq
        request = SipMessage(f"{method} {self._remote_target} SIP/2.0")
        request.add("Via", self.phone._via())
        request.add("Max-Forwards", "70")
        for route in self._route_set:
            request.add("Route", route)
        request.add("From", self._local_header)
        request.add("To", self._remote_header)
        request.add("Call-ID", self.call_id)
        request.add("CSeq", f"{cseq} {method}")
        if method in {"INVITE", "UPDATE"}:
            request.add("Contact", self.phone.contact)
            request.add("Allow", self.phone.allow)
        request.add("User-Agent", USER_AGENT)
        if body:
            request.add("Content-Type", "application/sdp")
            request.body = body
        return request, self._next_hop()

    def _next_hop(self) -> Address:
        uri = NameAddr.parse(self._route_set[0]).uri if self._route_set else self._remote_target
        return SipUri.parse(uri).address

    async def _bye(self, reason: EndReason) -> None:
        # RFC 3261 15: no BYE before our 200 OK is ACKed (or its retransmissions gave up).
        await self._ack_wait_over.wait()
        if self._state is not CallState.UP:
            return
        request, addr = self._request("BYE")
        self._end(reason)
        try:
            response = await self.phone._transact(request, addr)
        except SipError as exc:
            log.warning("%s: %s", self.phone.user, exc)
            return
        if response.status >= 300:
            log.warning("%s: %s", self.phone.user, SipError.from_response(request, response))

    def _sdp(self) -> bytes:
        host = self.phone.host
        lines = [
            "v=0",
            f"o=sipua {self._sdp_session} {self._sdp_version} IN IP4 {host}",
            "s=sipua",
            f"c=IN IP4 {host}",
            "t=0 0",
            f"m=audio {self.media.port} RTP/AVP 0 101",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-16",
            "a=ptime:20",
            "a=sendrecv",
        ]
        return ("\r\n".join(lines) + "\r\n").encode()

    def _learn_media(self, body: bytes) -> None:
        address = sdp_audio_address(body) if body else None
        if address is not None:
            self._remote_media = address
            self.media.remote = address

    def _set_up(self, status: int) -> None:
        self._state = CallState.UP
        self.status = status
        task = self.media.start(self._remote_media)
        if task is not None:
            self.phone._track(task)
        self.answered.set()
        self._settled.set()
        self._may_cancel.set()
        log.info("%s: call %s %s is up", self.phone.user, self.direction, self.number)

    def _fail(self, error: SipError, reason: EndReason, status: int | None) -> None:
        self._error = error
        self._end(reason, status)

    def _end(self, reason: EndReason, status: int | None = None) -> None:
        if self._state is CallState.ENDED:
            return
        if self._state is CallState.RINGING and status is not None:
            self.status = status
        self._state = CallState.ENDED
        self.end_reason = reason
        self.media.close()
        self._ended.set()
        self._settled.set()
        self._may_cancel.set()
        self._ack_wait_over.set()
        log.info("%s: call %s %s ended: %s", self.phone.user, self.direction, self.number, reason)


# --- the phone -----------------------------------------------------------------------------------


class _SipProtocol(asyncio.DatagramProtocol):
    def __init__(self, phone: Phone) -> None:
        self._phone = phone

    def datagram_received(self, data: bytes, addr: Address) -> None:
        try:
            self._phone._received(data, addr)
        except Exception:  # one bad message must not stop the phone
            log.exception("%s: failed to handle a datagram from %s:%s", self._phone.user, *addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("%s: socket error: %s", self._phone.user, exc)


class Phone:
    """A SIP user agent on one UDP socket: an agent's softphone, or the carrier trunk.

    Open with :meth:`open`, close with :meth:`close` (or ``async with await Phone.open(...)``).

    Attributes:
        port: the bound local SIP port (in our Contact).
        auto_answer: ``None``: incoming calls ring until the test answers them; a number: they
            are answered after that many seconds.
        calls: every call, incoming and outgoing, in order.
        received: how many requests of each method arrived (e.g. ``received["OPTIONS"]``).
        registered: whether our last REGISTER succeeded with a non-zero expiry.
        allow_update: whether our Allow header lists UPDATE (default: yes, as softphones do).
            Asterisk sends a connected-line update as UPDATE to a peer that allows it, as a
            re-INVITE otherwise; set this to ``False`` to be sent re-INVITEs.
    """

    def __init__(self, *, user: str, password: str, server: Address, host: str) -> None:
        self.user = user
        self.password = password
        self.server = server
        self.host = host
        self.port = 0
        self.auto_answer: float | None = None
        self.calls: list[Call] = []
        self.received: Counter[str] = Counter()
        self.registered = False
        self.allow_update = True
        self._transport: asyncio.DatagramTransport | None = None
        self._policy: Callable[[str], Answer] | None = None
        self._incoming: asyncio.Queue[Call] = asyncio.Queue()
        self._dialogs: dict[str, Call] = {}
        self._client_transactions: dict[tuple[str, str], _ClientTransaction] = {}
        self._server_transactions: dict[tuple[str, int, str, str], _ServerTransaction] = {}
        self._waiters: list[tuple[str, asyncio.Future[SipMessage]]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._register_call_id = f"{secrets.token_hex(8)}@{host}"
        self._register_tag = _new_tag()
        self._register_cseq = itertools.count(1)
        self._refresher: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        *,
        user: str,
        password: str = "",
        server: Address,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> Phone:
        """Bind a UDP socket on ``host:port`` (0: any free port) for a phone talking to ``server``."""
        phone = cls(user=user, password=password, server=server, host=host)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _SipProtocol(phone), local_addr=(host, port)
        )
        phone._transport = transport
        phone.port = transport.get_extra_info("sockname")[1]
        log.info("%s: listening on %s:%d", user, host, phone.port)
        return phone

    async def __aenter__(self) -> Phone:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<Phone {self.user} {self.host}:{self.port}>"

    @property
    def allow(self) -> str:
        return f"{ALLOW}, UPDATE" if self.allow_update else ALLOW

    @property
    def contact(self) -> str:
        return f"<sip:{self.user}@{self.host}:{self.port}>"

    # --- registration ---

    async def register(self, expires: int = 300) -> None:
        """REGISTER our Contact with the server, answering its digest challenge.

        Raises:
            SipError: refused (e.g. 401 again: a wrong password; 403), or no answer.
        """
        if self._refresher is not None:
            self._refresher.cancel()
            self._refresher = None
        granted = await self._register(expires)
        self.registered = granted > 0
        if self.registered:
            self._refresher = self._spawn(self._refresh(granted))

    async def unregister(self) -> None:
        """REGISTER with ``Expires: 0``: Asterisk removes our contact."""
        if self._refresher is not None:
            self._refresher.cancel()
            self._refresher = None
        await self._register(0)
        self.registered = False

    async def _refresh(self, granted: int) -> None:
        while True:
            # Timing, not synchronisation: re-register before the registration runs out.
            await asyncio.sleep(max(granted * 0.8, 1.0))
            try:
                granted = await self._register(granted)
            except SipError as exc:
                log.warning("%s: refreshing the registration failed: %s", self.user, exc)

    async def _register(self, expires: int) -> int:
        """One REGISTER exchange (with auth and 423 retries); the expiry the server granted."""
        host, port = self.server
        aor = f"<sip:{self.user}@{host}>"
        authorization: tuple[str, str] | None = None
        challenged = False
        for _ in range(5):
            request = SipMessage(f"REGISTER sip:{host}:{port} SIP/2.0")
            request.add("Via", self._via())
            request.add("Max-Forwards", "70")
            request.add("From", f"{aor};tag={self._register_tag}")
            request.add("To", aor)
            request.add("Call-ID", self._register_call_id)
            request.add("CSeq", f"{next(self._register_cseq)} REGISTER")
            request.add("Contact", f"{self.contact};expires={expires}")
            request.add("Expires", str(expires))
            request.add("Allow", self.allow)
            request.add("User-Agent", USER_AGENT)
            if authorization is not None:
                request.add(*authorization)
            response = await self._transact(request, self.server)
            if 200 <= response.status < 300:
                return self._granted(response, expires)
            if (
                response.status in (401, 407)
                and self.password
                and (not challenged or _is_stale(response))
            ):
                challenged = True
                authorization = _answer_challenge(response, request, self.user, self.password)
                continue
            if response.status == 423 and response.get("Min-Expires"):
                expires = int(response["Min-Expires"])
                continue
            raise SipError.from_response(request, response)
        raise SipError(f"REGISTER sip:{host}:{port}: too many challenges")

    def _granted(self, response: SipMessage, asked: int) -> int:
        for value in response.get_all("Contact"):
            contact = NameAddr.parse(value)
            with contextlib.suppress(ValueError):
                if SipUri.parse(contact.uri).port == self.port and "expires" in contact.params:
                    return int(contact.params["expires"])
        expires = response.get("Expires")
        return int(expires) if expires is not None and expires.isdigit() else asked

    # --- calls ---

    def on_invite(self, policy: Callable[[str], Answer]) -> None:
        """Decide what happens to each incoming INVITE by its dialled number (carrier)."""
        self._policy = policy

    async def incoming(self, timeout: float = 10) -> Call:
        """The next incoming call (already sent 100 Trying and 180 Ringing)."""
        try:
            async with asyncio.timeout(timeout):
                return await self._incoming.get()
        except TimeoutError:
            raise SipError(f"{self.user}: no incoming call within {timeout} s") from None

    async def dial(
        self,
        number: str,
        *,
        caller: str | None = None,
        caller_name: str | None = None,
        target: Address | None = None,
    ) -> Call:
        """Start an outgoing call and return it at once (it rings; see :meth:`Call.wait_answered`)."""
        target = target or self.server
        host, port = target
        call = Call(
            self, direction="out", number=number, call_id=f"{secrets.token_hex(8)}@{self.host}"
        )
        call.caller = caller or self.user
        call.caller_name = caller_name or ""
        call._target = target
        call._remote_target = f"sip:{number}@{host}:{port}"
        call._remote_header = f"<{call._remote_target}>"
        display = '"{}" '.format(call.caller_name.replace('"', '\\"')) if call.caller_name else ""
        call._local_header = f"{display}<sip:{call.caller}@{self.host}>;tag={call._local_tag}"
        self.calls.append(call)
        self._dialogs[call.call_id] = call
        self._spawn(call._drive())
        return call

    async def call(
        self,
        number: str,
        *,
        caller: str | None = None,
        caller_name: str | None = None,
        target: Address | None = None,
        timeout: float = 30,
    ) -> Call:
        """Call ``number`` at the server (or ``target``) and return once answered (ACK sent).

        Raises:
            SipError: a final error response (its code in ``status``), or no answer within
                ``timeout`` (then the call is cancelled).
        """
        call = await self.dial(number, caller=caller, caller_name=caller_name, target=target)
        try:
            await call.wait_answered(timeout)
        except SipError:
            if call.state is CallState.RINGING:
                await call.hangup()
            raise
        return call

    def expect(self, method: str) -> asyncio.Future[SipMessage]:
        """A future for the next request of ``method`` that arrives (e.g. Asterisk's OPTIONS)."""
        future: asyncio.Future[SipMessage] = asyncio.get_running_loop().create_future()
        self._waiters.append((method.upper(), future))
        return future

    async def close(self) -> None:
        """Hang up live calls, unregister if registered, close the sockets."""
        if self._transport is None:
            return
        live = [call for call in self.calls if call.state is not CallState.ENDED]
        if live:
            hangups = [asyncio.create_task(call.hangup()) for call in live]
            _, pending = await asyncio.wait(hangups, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*hangups, return_exceptions=True)
        if self.registered:
            with contextlib.suppress(SipError, TimeoutError):
                async with asyncio.timeout(5):
                    await self.unregister()
        for call in self.calls:
            call._end(EndReason.CLOSED)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._transport.close()
        self._transport = None
        log.info("%s: closed", self.user)

    # --- plumbing ---

    def _via(self) -> str:
        return f"SIP/2.0/UDP {self.host}:{self.port};branch={_new_branch()};rport"

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._track(task)
        return task

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: task failed", self.user, exc_info=task.exception())

    def _send(self, message: SipMessage, addr: Address, *, again: bool = False) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        self._log("->", message, addr, again)
        self._transport.sendto(message.encode(), addr)

    def _resend(self, transaction: _ServerTransaction) -> None:
        if transaction.last_response is not None:
            self._send(transaction.last_response, transaction.addr, again=True)

    def _log(self, arrow: str, message: SipMessage, addr: Address, again: bool = False) -> None:
        note = " (again)" if again else ""
        if log.isEnabledFor(logging.DEBUG):
            text = message.encode().decode("utf-8", "replace")
            log.debug("%s %s %s:%d%s\n%s", self.user, arrow, addr[0], addr[1], note, text)
        else:
            log.info("%s %s %s:%d %s%s", self.user, arrow, addr[0], addr[1], message.summary, note)

    def _client(
        self,
        request: SipMessage,
        addr: Address,
        on_response: Callable[[SipMessage], None] | None = None,
    ) -> _ClientTransaction:
        transaction = _ClientTransaction(self, request, addr, on_response)
        transaction.start()
        return transaction

    async def _transact(
        self,
        request: SipMessage,
        addr: Address,
        on_response: Callable[[SipMessage], None] | None = None,
        *,
        timeout: float = TRANSACTION_TIMEOUT + 1,
    ) -> SipMessage:
        """Send a request, its final response (``SipError`` on timeout)."""
        transaction = self._client(request, addr, on_response)
        try:
            async with asyncio.timeout(timeout):
                return await transaction.final
        except TimeoutError:
            raise SipError(f"{request.method} {request.uri}: no answer in {timeout} s") from None

    def _respond(
        self,
        transaction: _ServerTransaction,
        status: int,
        *,
        to_tag: str = "",
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> None:
        request = transaction.request
        response = SipMessage(f"SIP/2.0 {status} {REASONS.get(status, 'Unknown')}")
        for via in request.raw("Via"):
            response.add("Via", via)
        response.add("From", request["From"])
        to = request["To"]
        if to_tag and not NameAddr.parse(to).tag:
            to = f"{to};tag={to_tag}"
        response.add("To", to)
        response.add("Call-ID", request.call_id)
        response.add("CSeq", request["CSeq"])
        response.add("Server", USER_AGENT)
        for name, value in headers:
            response.add(name, value)
        if body:
            response.add("Content-Type", "application/sdp")
            response.body = body
        transaction.last_response = response
        self._send(response, transaction.addr)

    def _received(self, data: bytes, addr: Address) -> None:
        if not data.strip():
            return  # a CRLF keep-alive
        try:
            message = SipMessage.parse(data)
        except ValueError as exc:
            log.warning("%s: dropped a datagram from %s:%d: %s", self.user, addr[0], addr[1], exc)
            return
        self._log("<-", message, addr)
        if message.is_request:
            self._on_request(message, addr)
            return
        transaction = self._client_transactions.get((message.branch, message.method))
        if transaction is None:
            log.info("%s: no transaction for %s", self.user, message.summary)
            return
        transaction.receive(message)

    def _on_request(self, request: SipMessage, addr: Address) -> None:
        method = request.method
        self.received[method] += 1
        for waiter in [w for w in self._waiters if w[0] == method]:
            self._waiters.remove(waiter)
            if not waiter[1].done():
                waiter[1].set_result(request)
        call = self._dialogs.get(request.call_id)
        if method == "ACK":
            if call is not None:
                call._on_ack(request)
            return
        number, cseq_method = request.cseq
        key = (request.call_id, number, cseq_method, request.branch)
        known = self._server_transactions.get(key)
        if known is not None:  # a retransmission: answer it again, it is not a new request
            self._resend(known)
            return
        transaction = self._server_transactions[key] = _ServerTransaction(request, addr)
        asyncio.get_running_loop().call_later(
            TRANSACTION_TIMEOUT + 5, self._server_transactions.pop, key, None
        )
        in_dialog = bool(NameAddr.parse(request["To"]).tag)
        if method == "INVITE" and not in_dialog:
            self._on_new_call(request, transaction)
        elif method == "CANCEL":
            invite = self._server_transactions.get(
                (request.call_id, number, "INVITE", request.branch)
            )
            if invite is None or call is None:
                self._respond(transaction, 481)
                return
            self._respond(transaction, 200)
            call._on_cancel()
        elif in_dialog or method == "BYE":
            if call is None:
                self._respond(transaction, 481)
            else:
                call._on_request(request, transaction)
        elif method in {"OPTIONS", "NOTIFY", "INFO", "MESSAGE", "UPDATE"}:
            self._respond(
                transaction, 200, headers=[("Allow", self.allow), ("Accept", "application/sdp")]
            )
        else:
            self._respond(transaction, 501, headers=[("Allow", self.allow)])

    def _on_new_call(self, invite: SipMessage, transaction: _ServerTransaction) -> None:
        try:
            call = Call._from_invite(self, invite, transaction)
        except ValueError as exc:
            log.warning("%s: refused %s: %s", self.user, invite.summary, exc)
            self._respond(transaction, 400)
            return
        self.calls.append(call)
        self._dialogs[call.call_id] = call
        call._ring()
        self._incoming.put_nowait(call)
        if self._policy is not None:
            self._spawn(self._follow(call, self._policy(call.number)))
        elif self.auto_answer is not None:
            self._spawn(self._follow(call, Answer("answer", after=self.auto_answer)))

    async def _follow(self, call: Call, answer: Answer) -> None:
        """Do what ``answer`` says with an incoming call (unless the caller gives up first)."""
        if answer.action == "noanswer" or await _ends_within(call, answer.after):
            return
        try:
            if answer.action == "answer":
                await call.answer()
            else:
                await call.reject(_REJECTIONS[answer.action])
        except SipError as exc:  # cancelled in the meantime
            log.info("%s: %s", self.user, exc)
            return
        if (
            answer.action == "answer"
            and answer.hangup_after is not None
            and not await _ends_within(call, answer.hangup_after)
        ):
            await call.hangup()


async def _ends_within(call: Call, seconds: float) -> bool:
    """Wait up to ``seconds`` for the call to end; whether it did."""
    if seconds > 0:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await call._ended.wait()
    return call.state is CallState.ENDED
