"""The desk's softphone (WebRTC): what its SIP endpoint is made of.

A user whose phone is the softphone gets a PJSIP endpoint named as their extension, written by cti
in Asterisk's realtime tables (``cti.db.tables.pbx``). The password is issued for one signed-in
desk and never stored: Asterisk keeps only its digest hash (``auth_type = md5``), which is what
:func:`md5_credential` computes.

Behind NAT the browser also needs STUN and TURN servers (:func:`ice_servers_for`): each TURN server
comes with a user that expires, derived from the TURN server's shared secret
(:func:`turn_rest_credential`), and :func:`ice_url_problem` names what would keep a browser from
using a server at all. :func:`media_ports_warning` says what a PBX's RTP port range does to them
when it holds a port browsers refuse.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

from cti.domain.texts import _
from cti.errors import Refused

# Asterisk's default realm for the digest challenges it sends (pjsip.conf [global] default_realm).
REALM = "asterisk"


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """The realtime rows of one softphone (endpoint, auth and aor share the id)."""

    id: str
    context: str
    caller_name: str
    # G.711, which every browser speaks: this Asterisk has no Opus transcoder (codec_opus is a
    # binary module it is not built with), and an Opus leg could not be bridged to the carrier's.
    codecs: str = "ulaw,alaw"
    # One call at a time: with queues.conf ringinuse = no, a busy agent is not rung.
    busy_at: int = 1
    # OPTIONS every 10 s, as the agents' SIP phones: a closed desk is unavailable within seconds.
    qualify_seconds: int = 10


def endpoint_for(
    *, extension: str | None, softphone: bool, full_name: str | None, context: str
) -> Endpoint:
    """The softphone endpoint of a user, or :class:`Refused` when their phone is not one."""
    if not softphone:
        raise Refused(_("your phone is a SIP phone, not the desk's softphone"), "softphone")
    if not extension:
        raise Refused(_("you have no extension: an admin gives you one"), "extension")
    return Endpoint(id=extension, context=context, caller_name=full_name or extension)


def md5_credential(username: str, password: str, realm: str = REALM) -> str:
    """The digest hash Asterisk checks a REGISTER against (RFC 2617 HA1)."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


# --- the browser's way through NAT: STUN and TURN servers ---------------------------------------

# The ports a browser refuses to reach (the Fetch standard's "bad ports"). Chromium applies them
# to ICE as well: a media candidate on one is discarded (Asterisk's RTP range must avoid them).
BROWSER_BLOCKED_PORTS = frozenset(
    {1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101}
    | {102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179}
    | {389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587}
    | {601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061}
    | {6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080}
)
# Chromium reaches a TURN server only on these ports or above 1024.
_TURN_LOW_PORTS = frozenset({53, 80, 443})
_DEFAULT_PORTS = {"stun": 3478, "turn": 3478, "stuns": 5349, "turns": 5349}
_ICE_URL = re.compile(
    r"(?P<scheme>stuns?|turns?):(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)"
    r"(?::(?P<port>\d{1,5}))?(?:\?transport=(?P<transport>udp|tcp))?"
)


@dataclass(frozen=True, slots=True)
class IceServer:
    """One entry of the browser's ``RTCConfiguration.iceServers``."""

    urls: str
    username: str | None = None
    credential: str | None = None


def is_turn(url: str) -> bool:
    return url.startswith(("turn:", "turns:"))


def ice_url_problem(url: str) -> str | None:
    """What keeps a browser from using this STUN/TURN URL (RFC 7064, RFC 7065), or ``None``."""
    match = _ICE_URL.fullmatch(url)
    if match is None:
        return (
            "not a STUN/TURN URL: write stun:HOST[:PORT], turn:HOST[:PORT][?transport=udp|tcp]"
            " or turns:HOST[:PORT]"
        )
    scheme = match["scheme"]
    if match["transport"] and scheme.startswith("stun"):
        return "a STUN URL takes no ?transport="
    if match["transport"] == "udp" and scheme == "turns":
        return "turns: runs over TLS, which is TCP: ?transport=udp does not go with it"
    port = int(match["port"]) if match["port"] else _DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        return f"port {port} is not a port"
    if scheme.startswith("turn") and port <= 1024 and port not in _TURN_LOW_PORTS:
        return f"browsers reach a TURN server only on ports 53, 80, 443 or above 1024, not {port}"
    if port in BROWSER_BLOCKED_PORTS and port not in _TURN_LOW_PORTS:
        return f"browsers refuse to reach port {port}"
    return None


def turn_rest_credential(secret: str, user: str, *, expires: float) -> tuple[str, str]:
    """A TURN user that lasts until ``expires`` (seconds since the epoch), by the TURN REST API
    scheme coturn checks with ``use-auth-secret``: the user name is ``<expiry>:<user>`` and the
    password base64(HMAC-SHA1(shared secret, user name)). The secret never leaves cti."""
    username = f"{int(expires)}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_servers_for(
    urls: tuple[str, ...],
    *,
    user: str,
    expires: float,
    turn_secret: str = "",
    turn_username: str = "",
    turn_password: str = "",
) -> list[IceServer]:
    """What one desk's browser is given: the STUN servers as they are, each TURN server with a
    user of its own that lasts until ``expires``, when the desk's sign-in does (``turn_secret``),
    or the fixed one (``turn_username``)."""
    if turn_secret:
        username, password = turn_rest_credential(turn_secret, user, expires=expires)
    else:
        username, password = turn_username, turn_password
    return [
        IceServer(url, username, password) if is_turn(url) and username else IceServer(url)
        for url in urls
    ]


_PORT_START = re.compile(r"^\s*Port start:\s*(\d+)\s*$", re.M)
_PORT_END = re.compile(r"^\s*Port end:\s*(\d+)\s*$", re.M)


def media_ports(rtp_settings: str) -> tuple[int, int] | None:
    """The RTP port range in Asterisk's ``rtp show settings`` output, if it says one."""
    start, end = _PORT_START.search(rtp_settings), _PORT_END.search(rtp_settings)
    if start is None or end is None:
        return None
    return int(start[1]), int(end[1])


# The range config/asterisk/rtp.conf gives Asterisk: clear of every port browsers refuse, and the
# one a warning proposes instead.
CLEAR_MEDIA_PORTS = (10100, 10199)


@dataclass(frozen=True, slots=True, kw_only=True)
class RtpPortsBrowserRefused:
    """A PBX's RTP port range, ``first``-``last`` (rtp.conf's rtpstart, rtpend), holds ports
    browsers refuse (``refused``, ascending): a browser phone's call that Asterisk gives one has no
    audio at all, as Chromium discards the candidate. Said in English by :attr:`text` (cti's log,
    ``/healthz``); the back office says it in the reader's language from the fields."""

    code: Literal["rtp_ports_browser_refused"] = "rtp_ports_browser_refused"
    first: int
    last: int
    refused: tuple[int, ...]

    @property
    def one_in(self) -> int | None:
        """About one browser-phone call in this many is silent; ``None`` when no call can be given
        a refused port. Asterisk draws each call's RTP port at random among the even ports from
        ``first`` to ``last - 1`` (res_rtp_asterisk's rtp_allocate_transport; RTCP rides on the
        same port, rtcp-mux), so an odd refused port is never given and an even one as often as
        any other."""
        drawn = range(self.first + self.first % 2, self.last, 2)
        silent = sum(1 for port in self.refused if port in drawn)
        return round(len(drawn) / silent) if silent else None

    @property
    def text(self) -> str:
        """The warning in English, as cti's log and ``/healthz`` say it."""
        ports = ", ".join(str(p) for p in self.refused)
        first, last = CLEAR_MEDIA_PORTS
        return (
            f"its RTP ports {self.first}-{self.last} include {ports}, which browsers refuse: a"
            " browser phone's call given one has no audio (move rtpstart/rtpend in rtp.conf past"
            f" them, e.g. {first}-{last})"
        )


# What cti finds wrong in a PBX's own configuration (one kind so far).
PbxWarning: TypeAlias = RtpPortsBrowserRefused


def media_ports_warning(start: int, end: int) -> RtpPortsBrowserRefused | None:
    """What is wrong with a PBX's RTP port range for browser phones, or ``None``: the ports
    browsers refuse that it holds."""
    refused = tuple(sorted(p for p in BROWSER_BLOCKED_PORTS if start <= p <= end))
    if not refused:
        return None
    return RtpPortsBrowserRefused(first=start, last=end, refused=refused)
