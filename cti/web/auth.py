"""Sign-in, sessions, CSRF, throttling and the one-desk-per-operator rule.

Sessions are random tokens sent as an HttpOnly, SameSite=Strict cookie and kept in PostgreSQL as
the SHA-256 of the token (never the token): a restart signs nobody out, and every instance sees
them. Every state-changing request must carry the session's CSRF token (derived from the cookie's
token, stored nowhere) in the ``X-CSRF-Token`` header. Sign-in itself takes only JSON and no foreign ``Origin`` (login CSRF).
Failed sign-ins are counted per account and address, and per address; past a few, further tries
are refused for a time that doubles with each failure (HTTP 429 with Retry-After). A success
clears only its own account-and-address count: the address's count (sprays over many accounts)
runs out with time, not with a valid sign-in slipped in between guesses.

The seeds' rule: an operator signed in at one desk who signs in at another is told so and
chooses to take over (the old desk is told and closed) or to stay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from aiohttp import web

from cti.clock import Clock
from cti.db import sessions as sessions_repo
from cti.db.accounts import Account
from cti.db.engine import Database
from cti.db.sessions import SessionRow

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
    """The user behind a request (read with the session, as the database has them now)."""

    id: int
    username: str
    full_name: str
    role: str
    routines: tuple[str, ...]
    group: str | None
    ideal_talk_seconds: int | None
    extension: str | None
    personal_data: bool
    # Their phone is the desk's softphone (WebRTC): the desk registers it.
    softphone: bool = False
    # Their own language (cti.i18n), else None: their browser's.
    language: str | None = None


@dataclass(slots=True)
class Session:
    """One signed-in browser, as read from the database for a request or a socket."""

    key: str  # the SHA-256 of the token: what the database and the hub know the session by
    user: SignedIn
    expires: datetime
    desk_open: bool = False  # an agent desk WebSocket is attached to this session
    # Known only when the session was read from its cookie (never logged, never stored).
    token: str = field(default="", repr=False)
    csrf: str = field(default="", repr=False)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def role(self) -> str:
        return self.user.role

    def csrf_ok(self, request: web.Request) -> bool:
        sent = request.headers.get(CSRF_HEADER, "")
        return bool(sent) and bool(self.csrf) and hmac.compare_digest(sent, self.csrf)


def token_key(token: str) -> str:
    """What a session is stored and known by: the SHA-256 of its token, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_of(token: str) -> str:
    """The session's CSRF token, derived from its cookie's token (so it is stored nowhere, and
    the stored hash does not give it)."""
    digest = hashlib.sha256(b"cti-csrf\0" + token.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signed_in_of(account: Account) -> SignedIn:
    """The user behind a session, from their account as the database has it now."""
    return SignedIn(
        id=account.id,
        username=account.username,
        full_name=account.full_name,
        role=account.role,
        routines=account.routines,
        group=account.group,
        ideal_talk_seconds=account.ideal_talk_seconds,
        extension=account.interface or account.extension,
        personal_data=account.personal_data,
        softphone=account.softphone,
        language=account.language,
    )


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
    # Failures allowed before a lock, by key prefix (``ip:``: an address, shared by a whole
    # call center behind one NAT); other keys get ``free``.
    limits: dict[str, int] = field(default_factory=lambda: {"ip": 20})
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
            free = self.limits.get(key.partition(":")[0], self.free)
            if f.count > free:
                lock = min(self.base_seconds * 2 ** (f.count - free - 1), self.max_seconds)
                f.locked_until = now + lock
        if len(self._by_key) > 100_000:  # bounded memory under a spray of names
            stale = [k for k, f in self._by_key.items() if now - f.last > self.forget_after]
            for k in stale:
                del self._by_key[k]

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._by_key.pop(key, None)


class SessionStore:
    """Sessions in PostgreSQL, shared by every instance and kept across restarts.

    Every lookup reads the database, so a session ended on one instance (signed out, taken over,
    ended by an admin) is ended on all, and the user is read as they are now (role, routines,
    group, permission). An inactive user's sessions are not live.
    """

    # A cookie longer than this is no token of ours: not even hashed.
    MAX_TOKEN = 100
    # Ended sessions are kept this long (a page asking is told why), then deleted.
    KEEP_ENDED = timedelta(days=7)

    def __init__(self, db: Database, clock: Clock, *, hours: float) -> None:
        self._db = db
        self._clock = clock
        self._ttl = timedelta(hours=hours)

    @staticmethod
    def _session(row: SessionRow, token: str = "") -> Session:
        return Session(
            key=row.key,
            user=signed_in_of(row.account),
            expires=row.expires_at,
            desk_open=row.desk_open,
            token=token,
            csrf=csrf_of(token) if token else "",
        )

    async def create(self, account: Account) -> Session:
        """A new session for a user who just signed in (its token only in the returned object)."""
        token = secrets.token_urlsafe(32)
        key = token_key(token)
        expires = self._clock.now() + self._ttl
        await sessions_repo.create_session(self._db, key, account.id, expires)
        return Session(
            key=key,
            user=signed_in_of(account),
            expires=expires,
            token=token,
            csrf=csrf_of(token),
        )

    async def get(self, token: str | None) -> Session | None:
        """The live session of a cookie's token, or None."""
        if not token or len(token) > self.MAX_TOKEN:
            return None
        row = await sessions_repo.live_session(self._db, token_key(token), self._clock.now())
        return self._session(row, token) if row is not None else None

    async def by_key(self, key: str) -> Session | None:
        """The live session known by ``key`` (a socket's), or None; it has no CSRF token."""
        row = await sessions_repo.live_session(self._db, key, self._clock.now())
        return self._session(row) if row is not None else None

    async def end(self, session: Session, reason: str = "signed_out") -> None:
        await sessions_repo.end_sessions(self._db, [session.key], reason, self._clock.now())

    async def end_user(
        self, user_id: int, reason: str, *, keep: Session | None = None
    ) -> list[str]:
        """End a user's sessions, all but ``keep``; the keys of those ended."""
        return await sessions_repo.end_sessions_of(
            self._db, user_id, reason, self._clock.now(), keep=keep.key if keep else None
        )

    async def pop_expired(self) -> list[tuple[str, int]]:
        """End the sessions whose time is up; (key, user id) of each (each to one instance)."""
        now = self._clock.now()
        expired = await sessions_repo.end_expired(self._db, now)
        await sessions_repo.purge_ended(self._db, now - self.KEEP_ENDED)
        return expired

    async def ended_among(self, keys: Iterable[str]) -> dict[str, str]:
        """Of these sessions, the ones no longer live, with why."""
        return await sessions_repo.ended_among(self._db, keys, self._clock.now())

    async def others_of(self, user_id: int, keep: Session | None = None) -> list[Session]:
        """The user's live sessions, but ``keep``."""
        rows = await sessions_repo.live_sessions_of(self._db, user_id, self._clock.now())
        return [self._session(row) for row in rows if keep is None or row.key != keep.key]

    async def signed_in(self, user_ids: Iterable[int]) -> set[int]:
        """Which of these users have a live session."""
        return await sessions_repo.users_signed_in(self._db, user_ids, self._clock.now())

    async def open_desk_of(self, user_id: int) -> Session | None:
        """The session whose desk is open for this operator, if any."""
        for s in await self.others_of(user_id):
            if s.desk_open:
                return s
        return None

    async def set_desk_open(self, session: Session, is_open: bool) -> None:
        session.desk_open = is_open
        await sessions_repo.set_desk_open(self._db, session.key, is_open)


async def session_of(request: web.Request, store: SessionStore) -> Session | None:
    """The session behind a request, from its cookie."""
    return await store.get(request.cookies.get(COOKIE))


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


def login_keys(username: str, address: str | None) -> tuple[str, str]:
    """The throttle's keys of a sign-in: the account at this address, and the address."""
    where = address or "?"
    return f"login:{username.lower()}@{where}", f"ip:{where}"


def origin_foreign(request: web.Request, allowed: tuple[str, ...]) -> bool:
    """True when the request says it comes from another site's page (an ``Origin`` that is not
    ours nor configured). No ``Origin`` at all is a script or an older browser: not foreign."""
    if request.headers.get("Origin") is None:
        return False
    return not origin_allowed(request, allowed)


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
