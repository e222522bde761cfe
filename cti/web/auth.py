"""Sign-in, sessions, CSRF, throttling and the one-desk-per-operator rule.

Sessions are random tokens kept in memory, sent as an HttpOnly, SameSite=Strict cookie; a
restart signs everyone out. Every state-changing request must carry the session's CSRF token in
the ``X-CSRF-Token`` header. Failed sign-ins are counted per user name and per address; past a few,
further tries are refused for a time that doubles with each failure (HTTP 429 with Retry-After).

The seeds' rule: an operator signed in at one desk who signs in at another is told so and
chooses to take over (the old desk is told and closed) or to stay.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web

from cti.clock import Clock

COOKIE = "cti_session"
CSRF_HEADER = "X-CSRF-Token"


class StoredUser(Protocol):
    """What sign-in needs of a user record."""

    id: int
    username: str
    password_hash: str
    role: str
    active: bool


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The user behind a request (kept on the session; refreshed at each sign-in)."""

    id: int
    username: str
    full_name: str
    role: str
    routines: tuple[str, ...]
    group: str | None
    ideal_talk_seconds: int | None
    extension: str | None
    personal_data: bool


@dataclass(slots=True)
class Session:
    """One signed-in browser."""

    token: str
    csrf: str
    user: SignedIn
    expires: float
    desk_open: bool = False  # an agent desk WebSocket is attached to this session

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def role(self) -> str:
        return self.user.role

    def csrf_ok(self, request: web.Request) -> bool:
        sent = request.headers.get(CSRF_HEADER, "")
        return bool(sent) and hmac.compare_digest(sent, self.csrf)


@dataclass(slots=True)
class _Failures:
    count: int = 0
    locked_until: float = 0.0
    last: float = 0.0


@dataclass
class Throttle:
    """Slows down guessing: after ``free`` failures, a lock that doubles each time (capped)."""

    clock: Clock
    free: int = 3
    base_seconds: float = 2.0
    max_seconds: float = 300.0
    forget_after: float = 900.0
    _by_key: dict[str, _Failures] = field(default_factory=dict)

    def wait_needed(self, *keys: str) -> float:
        """Seconds until another try is allowed for any of ``keys`` (0: go ahead)."""
        now = self.clock.monotonic()
        waits = [self._by_key[k].locked_until - now for k in keys if k in self._by_key]
        return max([0.0, *waits])

    def failed(self, *keys: str) -> None:
        now = self.clock.monotonic()
        for key in keys:
            f = self._by_key.get(key)
            if f is None or now - f.last > self.forget_after:
                f = self._by_key[key] = _Failures()
            f.count += 1
            f.last = now
            if f.count > self.free:
                lock = min(self.base_seconds * 2 ** (f.count - self.free - 1), self.max_seconds)
                f.locked_until = now + lock
        if len(self._by_key) > 100_000:  # bounded memory under a spray of names
            stale = [k for k, f in self._by_key.items() if now - f.last > self.forget_after]
            for k in stale:
                del self._by_key[k]

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._by_key.pop(key, None)


class SessionStore:
    """Sessions by token, and which session holds each operator's desk."""

    def __init__(self, clock: Clock, *, hours: float) -> None:
        self._clock = clock
        self._ttl = hours * 3600
        self._by_token: dict[str, Session] = {}

    def create(self, user: SignedIn) -> Session:
        session = Session(
            token=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(24),
            user=user,
            expires=self._clock.monotonic() + self._ttl,
        )
        self._by_token[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        session = self._by_token.get(token)
        if session is None:
            return None
        if session.expires < self._clock.monotonic():
            return None  # gone for requests; ``pop_expired`` takes it out and cleans up after it
        return session

    def pop_expired(self) -> list[Session]:
        """Take the sessions whose time is up out of the store, and return them."""
        now = self._clock.monotonic()
        expired = [s for s in self._by_token.values() if s.expires < now]
        for session in expired:
            del self._by_token[session.token]
        return expired

    def end(self, session: Session) -> None:
        self._by_token.pop(session.token, None)

    def others_of(self, user_id: int, keep: Session | None = None) -> list[Session]:
        """The user's other live sessions."""
        now = self._clock.monotonic()
        return [
            s
            for s in self._by_token.values()
            if s.user.id == user_id and s is not keep and s.expires >= now
        ]

    def open_desk_of(self, user_id: int) -> Session | None:
        """The session whose desk is open for this operator, if any."""
        for s in self.others_of(user_id):
            if s.desk_open:
                return s
        return None


def session_of(request: web.Request, store: SessionStore) -> Session | None:
    """The session behind a request, from its cookie."""
    return store.get(request.cookies.get(COOKIE))


def set_session_cookie(
    response: web.StreamResponse, session: Session, *, secure: bool, hours: float
) -> None:
    response.set_cookie(
        COOKIE,
        session.token,
        httponly=True,
        samesite="Strict",
        secure=secure,
        path="/",
        max_age=int(hours * 3600),
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")


def origin_allowed(request: web.Request, allowed: tuple[str, ...]) -> bool:
    """A WebSocket may be opened only from the server's own pages (or a configured origin)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    own = f"{request.scheme}://{request.host}"
    forwarded_proto = request.headers.get("X-Forwarded-Proto")
    candidates = {own}
    if forwarded_proto:
        candidates.add(f"{forwarded_proto}://{request.host}")
    return origin in candidates or origin in allowed


LoadUser = Callable[[str], Awaitable[tuple[StoredUser, SignedIn] | None]]
