"""Integrations: the events cti tells other systems (webhooks, the event stream), how a webhook is
signed and retried, and the API keys service accounts use. Pure: no I/O.

An event is ``{"id", "type", "created_at", "data"}``; ``id`` grows with every event and is the
idempotency key of its deliveries and the ``id:`` of its Server-Sent Event. Events of one call
(or one attention) share an ordering ``key``; a webhook endpoint gets the events of one key in
order (a later one waits while an earlier one is being retried).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from cti.domain.notices import (
    AgentCallEnded,
    AgentConnected,
    AgentRinging,
    AnyNotice,
    CallEnded,
    CallerAbandoned,
    DialerConnected,
)
from cti.domain.texts import _
from cti.errors import UserInputError


class EventType(StrEnum):
    """What an integration may subscribe to."""

    CALL_RINGING = "call.ringing"
    CALL_ANSWERED = "call.answered"
    CALL_ENDED = "call.ended"
    CALL_ABANDONED = "call.abandoned"
    ATTENTION_SAVED = "attention.saved"
    ATTENTION_CLOSED = "attention.closed"
    MESSAGE_CREATED = "message.created"
    LEAD_OUTCOME = "lead.outcome"


class Scope(StrEnum):
    """What an API key may do."""

    EVENTS_READ = "events:read"
    CALLS_START = "calls:start"
    CUSTOMERS_READ = "customers:read"


class DeliveryStatus(StrEnum):
    """A webhook delivery: still to deliver (or retry), delivered, or given up (dead letter)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


JsonObject = Mapping[str, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewEvent:
    """An event to write to the outbox."""

    type: EventType
    key: str  # the ordering key: events of one key reach an endpoint in order
    at: datetime
    data: JsonObject
    # What makes it one event whoever writes it: several cti instances see the same PBX and
    # each translates its events; the first written stands, the others are the same event.
    dedupe: str | None = None


# --- the call events, from the AMI notices -------------------------------------------------------


def _call(n: AgentRinging | AgentConnected | AgentCallEnded | CallerAbandoned) -> dict[str, object]:
    return {
        "pbx": n.pbx,
        "linkedid": str(n.linkedid),
        "uniqueid": str(n.uniqueid),
        "direction": "inbound",
        "queue": n.queue,
        "caller": {"number": n.caller_num, "name": n.caller_name},
    }


def call_event(notice: AnyNotice) -> NewEvent | None:
    """The event a notice is, or None (most notices are none)."""
    if isinstance(notice, AgentRinging | AgentConnected | AgentCallEnded):
        data = _call(notice)
        data["agent"] = {"interface": notice.interface, "name": notice.member_name}
        if isinstance(notice, AgentRinging):
            kind = EventType.CALL_RINGING
        elif isinstance(notice, AgentConnected):
            kind = EventType.CALL_ANSWERED
            data |= {"hold_seconds": notice.hold_seconds, "ring_seconds": notice.ring_seconds}
        else:
            kind = EventType.CALL_ENDED
            data |= {
                "talk_seconds": notice.talk_seconds,
                "hold_seconds": notice.hold_seconds,
                "reason": notice.reason,
            }
    elif isinstance(notice, CallerAbandoned):
        kind = EventType.CALL_ABANDONED
        data = _call(notice) | {
            "position": notice.position,
            "waited_seconds": notice.waited_seconds,
        }
    else:
        return None
    return NewEvent(type=kind, key=f"call:{notice.pbx}:{notice.linkedid}", at=notice.at, data=data)


class CallTranslator:
    """Notices to events, remembering the outbound calls put through to an agent (a desk's or a
    CRM's click-to-call, a preview campaign's call) so that their end is told too."""

    def __init__(self) -> None:
        self._outbound: dict[tuple[str, str], str] = {}
        # How many times each call event happened so far (a caller may ring one agent twice):
        # every instance counts the same PBX's events alike, so the n-th is the same event.
        self._seen: dict[tuple[str, str, str], int] = {}

    def event_of(self, notice: AnyNotice) -> NewEvent | None:
        """The event a notice is (marked with what makes it one event on every instance), or
        None."""
        event = self._event_of(notice)
        if event is None:
            return None
        agent = event.data.get("agent")
        who = str(agent.get("interface", "")) if isinstance(agent, dict) else ""
        ident = (event.type.value, f"{event.key}:{event.data.get('uniqueid', '')}", who)
        n = self._seen[ident] = self._seen.get(ident, 0) + 1
        if len(self._seen) > 50_000:  # calls long over: forgotten in bulk, oldest first
            for old in list(self._seen)[:10_000]:
                del self._seen[old]
        return replace(event, dedupe=":".join((*ident, str(n))))

    def _event_of(self, notice: AnyNotice) -> NewEvent | None:
        if isinstance(notice, DialerConnected):
            self._outbound[(notice.pbx, str(notice.linkedid))] = notice.agent
            data: dict[str, object] = {
                "pbx": notice.pbx,
                "linkedid": str(notice.linkedid),
                "uniqueid": str(notice.uniqueid),
                "direction": "outbound",
                "campaign_id": notice.campaign_id,
                "lead_id": notice.lead_id,
                "agent": {"interface": notice.agent},
            }
            kind = EventType.CALL_ANSWERED
        elif isinstance(notice, CallEnded):
            agent = self._outbound.pop((notice.pbx, str(notice.linkedid)), None)
            if agent is None:  # a queue call's end is its agent's AgentCallEnded
                return None
            data = {
                "pbx": notice.pbx,
                "linkedid": str(notice.linkedid),
                "direction": "outbound",
                "agent": {"interface": agent},
                "caller": {"number": notice.caller_num, "name": notice.caller_name},
                "duration_seconds": notice.duration_seconds,
                "reason": "lost" if notice.lost else "hangup",
            }
            kind = EventType.CALL_ENDED
        else:
            return call_event(notice)
        key = f"call:{notice.pbx}:{notice.linkedid}"
        return NewEvent(type=kind, key=key, at=notice.at, data=data)


def envelope(event_id: int, kind: str, at: datetime, data: JsonObject) -> dict[str, object]:
    """An event as webhooks post it and the stream sends it."""
    return {"id": event_id, "type": kind, "created_at": at.isoformat(), "data": dict(data)}


def body_of(event: Mapping[str, object]) -> bytes:
    """The exact bytes posted (and signed)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


# --- signing (as Stripe does: HMAC-SHA256 over "timestamp.body") ----------------------------------

SIGNATURE_HEADER = "Cti-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` with the endpoint's secret."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex>``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``, made within ``tolerance`` seconds."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), sign(secret, timestamp, body))


def new_secret() -> str:
    """A webhook endpoint's signing secret."""
    return "whsec_" + secrets.token_urlsafe(32)


# --- retries -------------------------------------------------------------------------------------


def retry_delay(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next try after ``attempts`` failed ones: base, 2·base, 4·base... capped."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


def after_failure(attempts: int, max_attempts: int) -> DeliveryStatus:
    """A delivery that failed ``attempts`` times is retried, or dead once it reached the limit."""
    return DeliveryStatus.DEAD if attempts >= max_attempts else DeliveryStatus.PENDING


# --- what admins type ----------------------------------------------------------------------------


def webhook_url(text: str) -> str:
    """An endpoint's URL: http(s) with a host."""
    url = text.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserInputError("url", _("expected an http:// or https:// URL with a host"))
    return url


def event_types(names: list[str]) -> tuple[EventType, ...]:
    """The events an endpoint subscribes to (at least one, each known)."""
    if not names:
        raise UserInputError("events", _("choose at least one event"))
    known = {e.value for e in EventType}
    for i, name in enumerate(names):
        if name not in known:
            raise UserInputError(
                f"events[{i}]",
                _("unknown event {name!r}; known: {choices}"),
                name=name[:40],
                choices=", ".join(sorted(known)),
            )
    return tuple(sorted({EventType(n) for n in names}))


def scopes_of(names: list[str]) -> tuple[Scope, ...]:
    """An API key's scopes (at least one, each known)."""
    if not names:
        raise UserInputError("scopes", _("choose at least one scope"))
    known = {s.value for s in Scope}
    for i, name in enumerate(names):
        if name not in known:
            raise UserInputError(
                f"scopes[{i}]",
                _("unknown scope {name!r}; known: {choices}"),
                name=name[:40],
                choices=", ".join(sorted(known)),
            )
    return tuple(sorted({Scope(n) for n in names}))


# --- API keys: "cti_<prefix>_<secret>"; only the prefix and the secret's SHA-256 are stored ------

KEY_START = "cti_"


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key as shown once to the admin who made it, and what is stored of it."""

    token: str
    prefix: str
    hash: str


def key_hash(secret: str) -> str:
    """What is stored of a key's secret (a random 256-bit secret needs no slow hash)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key() -> NewKey:
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    return NewKey(token=f"{KEY_START}{prefix}_{secret}", prefix=prefix, hash=key_hash(secret))


def parse_key(token: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a presented key, or None when it is not shaped like one."""
    if not token.startswith(KEY_START):
        return None
    prefix, sep, secret = token[len(KEY_START) :].partition("_")
    if not sep or len(prefix) != 8 or not secret:
        return None
    return prefix, secret


__all__ = [
    "KEY_START",
    "SIGNATURE_HEADER",
    "CallTranslator",
    "DeliveryStatus",
    "EventType",
    "NewEvent",
    "NewKey",
    "Scope",
    "after_failure",
    "body_of",
    "call_event",
    "envelope",
    "event_types",
    "key_hash",
    "new_key",
    "new_secret",
    "parse_key",
    "retry_delay",
    "scopes_of",
    "sign",
    "signature_header",
    "verify",
    "webhook_url",
]
