"""The async engine and session factory, built from one PostgreSQL URL.

URLs are accepted in the ordinary ``postgresql://user:pass@host:port/db`` form (and in the unix-socket
form ``postgresql://user:@/db?host=/run/dir`` that the embedded server gives) and turned into
SQLAlchemy's ``postgresql+asyncpg://``. A URL is never logged or put in an error with its password:
use :func:`redact_url`.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util.concurrency import await_

from cti.config import Secret
from cti.db.direct import Direct
from cti.errors import ConfigError

log = logging.getLogger(__name__)

_SCHEMES = ("postgresql", "postgres")


def _reveal(url: str | Secret) -> str:
    return url.reveal() if isinstance(url, Secret) else url


def to_async_url(url: str | Secret) -> str:
    """The same URL with the asyncpg driver: ``postgresql://…`` → ``postgresql+asyncpg://…``.

    Raises:
        ConfigError: not a PostgreSQL URL (the message never shows the password).
    """
    text = _reveal(url).strip()
    scheme, sep, rest = text.partition("://")
    base = scheme.split("+", 1)[0].lower()
    if not sep or base not in _SCHEMES:
        raise ConfigError(f"database.url: expected a postgresql:// URL, got {redact_url(text)!r}")
    return f"postgresql+asyncpg://{rest}"


def redact_url(url: str | Secret) -> str:
    """The URL with its password replaced by ``***`` (safe for logs and errors)."""
    text = _reveal(url)
    try:
        parsed = make_url(text)
    except ArgumentError:
        # Not parseable: hide anything between '://' and '@'.
        scheme, sep, rest = text.partition("://")
        if sep and "@" in rest:
            return f"{scheme}://***@{rest.rpartition('@')[2]}"
        return text
    if parsed.password is None or parsed.password == "":
        return parsed.render_as_string(hide_password=False)
    return parsed.render_as_string(hide_password=True)


def _alive(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Each connection taken from the pool is checked first, in one round trip; a dead one (the
    server restarted, or ended it) is replaced before anything runs on it.

    SQLAlchemy's own check (``pool_pre_ping``) wraps the same empty statement in a BEGIN and a
    ROLLBACK, for PgBouncer's transaction mode, which cti does not use: three round trips on every
    checkout, about a third of a one-statement read's work."""
    try:
        await_(dbapi_connection.driver_connection.fetchrow(";"))
    except Exception as exc:  # closed, reset, or the server going away: take a new connection
        raise DisconnectionError(type(exc).__name__) from exc


class Database:
    """An :class:`AsyncEngine` and a session factory; an async context manager that disposes them.

    Example::

        async with Database(url) as db:
            async with db.sessions() as session:
                ...
    """

    def __init__(self, url: str | Secret, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = redact_url(url)
        self.engine: AsyncEngine = create_async_engine(
            to_async_url(url),
            pool_size=pool_size,
            max_overflow=max(2, pool_size // 2),
            echo=echo,
            # A failing statement's error (and so its log line) never shows its parameters: a
            # password hash, a customer's name or phone.
            hide_parameters=True,
        )
        sa.event.listen(self.engine.sync_engine.pool, "checkout", _alive)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )
        # What runs at every call, as plain SQL outside SQLAlchemy (:mod:`cti.db.direct`).
        self.direct = Direct(url)

    async def ping(self, within: float = 2.0) -> bool:
        """True if ``SELECT 1`` answers within ``within`` seconds."""
        try:
            async with asyncio.timeout(within), self.engine.connect() as conn:
                return (await conn.execute(sa.text("SELECT 1"))).scalar() == 1
        except Exception as exc:  # timeouts, refused connections, SQLAlchemy's and asyncpg's errors
            log.warning("database %s did not answer: %s", self.url, type(exc).__name__)
            return False

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.direct.close()
        await self.engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"Database({self.url!r})"


__all__ = ["Database", "redact_url", "to_async_url"]
