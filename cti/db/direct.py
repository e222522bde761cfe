"""A few connections of cti's own to PostgreSQL, outside SQLAlchemy, for what runs at every call.

A ring, a call's end, a wrap-up and a screen-pop each run one statement per call, several thousand a
minute in a big call center. Through a pooled SQLAlchemy session such a statement cost about 1 ms of
the event loop's CPU (the session, the ORM's compile state, cache keys, a ping at checkout, BEGIN and
COMMIT, each a round trip); the same statement sent by asyncpg on a connection in autocommit costs
about a tenth of that, in one round trip (``bench/screenpop.py`` prints the CPU per call). So these
statements are plain SQL (PostgreSQL runs each one atomically), sent here.

The connections are opened when first needed and kept. One the server closed (a restart, a
terminated backend) is seen closed at checkout and opened again; one that failed while in use, or was
cancelled, is closed and replaced at the next use. Statements and their plans are prepared once per
connection (asyncpg's cache); plans are generic (``plan_cache_mode``): index lookups, for which a
plan made for each caller's values took longer to make than to run.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql.compiler import SQLCompiler

from cti.config import Secret
from cti.errors import ConfigError


def _dsn(url: str | Secret) -> str:
    """asyncpg's DSN for a ``postgresql://`` (or ``postgresql+driver://``) URL."""
    text = (url.reveal() if isinstance(url, Secret) else url).strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.split("+", 1)[0].lower() not in ("postgresql", "postgres"):
        raise ConfigError("database.url: expected a postgresql:// URL")
    return f"postgresql://{rest}"


# A comment or a quoted literal (left alone), or a ``:name`` that is not a ``::type`` cast.
_NAMED = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|(?<![:\w]):([A-Za-z_]\w*)", re.S)


def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` with its ``:name`` parameters (SQLAlchemy's ``text()`` style) turned into asyncpg's
    ``$1``, ``$2``…, and the names in that order: ``args(names, values)`` gives the arguments.
    A name used twice is one parameter; ``::type`` casts, quoted text and comments are left alone."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


def args(names: tuple[str, ...], values: Mapping[str, Any]) -> list[Any]:
    """The arguments of a :func:`positional` statement, from its parameters by name."""
    return [values[name] for name in names]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A SQLAlchemy statement as asyncpg runs it: its SQL, its parameters' names in order and the
    values it holds itself (literals the statement was built with)."""

    sql: str
    names: tuple[str, ...]
    held: Mapping[str, Any]

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        """The arguments, ``values`` by name and the statement's own for the rest."""
        return [values[name] if name in values else self.held[name] for name in self.names]


def compiled(statement: sa.ClauseElement) -> Compiled:
    """``statement`` compiled once for asyncpg (a statement defined with SQLAlchemy, run here)."""
    done = statement.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
    assert isinstance(done, SQLCompiler)
    return Compiled(sql=done.string, names=tuple(done.positiontup or ()), held=dict(done.params))


class Direct:
    """Up to ``size`` asyncpg connections in autocommit; each call checks one out for one use.

    Example::

        await db.direct.execute("UPDATE t SET x = $1 WHERE id = $2", 1, 7)
        async with db.direct.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", key)
            ...
    """

    def __init__(self, url: str | Secret, *, size: int = 4) -> None:
        self._dsn = _dsn(url)
        self._size = size
        self._free: asyncio.Queue[asyncpg.Connection | None] = asyncio.Queue()
        self._open: set[asyncpg.Connection] = set()
        for _ in range(size):
            self._free.put_nowait(None)

    def another(self, size: int) -> Direct:
        """Connections of their own to the same database (for work that must not wait on these)."""
        other = Direct("postgresql://", size=size)
        other._dsn = self._dsn
        return other

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self._dsn, server_settings={"plan_cache_mode": "force_generic_plan"}
        )

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection for one use (in autocommit: each statement its own transaction)."""
        conn = await self._free.get()
        try:
            if conn is None or conn.is_closed():
                if conn is not None:
                    self._open.discard(conn)
                    conn = None  # closed already: nothing to end if opening fails
                conn = await self._connect()
                self._open.add(conn)
            yield conn
        except BaseException:
            # Failed or cancelled in use: its state is unknown, so the next use opens another.
            if conn is not None:
                self._open.discard(conn)
                conn.terminate()
            self._free.put_nowait(None)
            raise
        self._free.put_nowait(conn)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection in a transaction, committed at the end of the block (rolled back on error)."""
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def execute(self, sql: str, *arguments: Any) -> str:
        async with self.connection() as conn:
            return str(await conn.execute(sql, *arguments))

    async def fetchrow(self, sql: str, *arguments: Any) -> asyncpg.Record | None:
        async with self.connection() as conn:
            return await conn.fetchrow(sql, *arguments)

    async def fetchval(self, sql: str, *arguments: Any) -> Any:
        async with self.connection() as conn:
            return await conn.fetchval(sql, *arguments)

    async def warm(self, sql: str, *arguments: Any) -> None:
        """Open every connection and run ``sql`` once on each, so that none is opened, nor the
        statement prepared and planned, while a caller waits (the first screen-pops after a start
        took 15-30 ms for that, against 3 ms)."""
        async with contextlib.AsyncExitStack() as stack:
            held = [await stack.enter_async_context(self.connection()) for _ in range(self._size)]
            await asyncio.gather(*(conn.fetchval(sql, *arguments) for conn in held))

    async def close(self) -> None:
        """Close every connection (one still in use fails; the next use opens another)."""
        for conn in list(self._open):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2.0)
        self._open.clear()


__all__ = ["Compiled", "Direct", "args", "compiled", "positional"]
