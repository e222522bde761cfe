"""Messages between the cti instances serving one call center: PostgreSQL ``NOTIFY`` on one
channel, heard by every instance over a ``LISTEN`` connection of its own.

A message is a small JSON object (PostgreSQL caps a payload at 8000 bytes); it reaches the
instances listening when it is sent, at most once each, and none that is down: what must not be
lost is in the tables, a message only says "look now" or "do this for the desk you hold".
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol, cast

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

from cti.db.engine import Database

log = logging.getLogger("cti.db")

CHANNEL = "cti_bus"
MAX_PAYLOAD = 7900
# How often the listening connection is checked (a dead one is opened again).
CHECK_SECONDS = 5.0

Heard = Callable[[dict[str, object]], None]

_ACTIVITY = sa.table("pg_stat_activity", sa.column("application_name"), sa.column("datname"))


def connection_name(instance: str) -> str:
    """The ``application_name`` of the instance's listening connection (PostgreSQL keeps 63
    bytes of it; an instance's name can be longer)."""
    return "cti " + hashlib.md5(instance.encode(), usedforsecurity=False).hexdigest()[:16]


def listening(instance: sa.ColumnExpressionArgument[str]) -> sa.ColumnElement[bool]:
    """Whether the instance named ``instance`` has a connection open to this database.

    PostgreSQL ends a connection as soon as its process dies (``kill -9`` included), whatever the
    process's event loop was doing: an instance slow to renew something (a busy machine, a slow
    commit) is still there; one killed is not."""
    name = "cti " + sa.func.left(sa.func.md5(instance), 16)
    return sa.exists().where(
        _ACTIVITY.c.application_name == name,
        _ACTIVITY.c.datname == sa.func.current_database(),
    )


# How long an instance's mark (a desk lease, its beat) still holds once it has run out, while the
# instance is still connected: it may be only slow; a killed one's connections close at once.
GRACE = timedelta(seconds=30)


def still_held(
    until: sa.ColumnElement[datetime] | QueryableAttribute[datetime],
    instance: sa.ColumnExpressionArgument[str],
) -> sa.ColumnElement[bool]:
    """Whether a mark an instance keeps renewing, good ``until`` then, still holds (a SQL
    condition): not yet run out, or run out less than :data:`GRACE` ago and the instance is
    still connected (:func:`listening`)."""
    now = sa.func.now()
    return sa.or_(until >= now, sa.and_(until >= now - sa.literal(GRACE), listening(instance)))


class _Notified(Protocol):
    """The asyncpg connection's side of LISTEN (asyncpg ships no types)."""

    async def add_listener(
        self, channel: str, callback: Callable[[object, int, str, str], None]
    ) -> None: ...

    async def remove_listener(
        self, channel: str, callback: Callable[[object, int, str, str], None]
    ) -> None: ...

    async def fetchval(self, query: str, *args: object) -> object: ...


async def publish(db: Database, message: Mapping[str, object]) -> None:
    """Send ``message`` to every instance listening (this one included).

    Raises:
        ValueError: the message is too big for a NOTIFY payload.
    """
    payload = json.dumps(message, separators=(",", ":"), default=str)
    if len(payload.encode()) > MAX_PAYLOAD:
        raise ValueError(f"bus message of {len(payload.encode())} bytes: too big")
    async with db.engine.connect() as conn:
        await conn.execute(sa.select(sa.func.pg_notify(CHANNEL, payload)))
        await conn.commit()


class Listener:
    """Hears the channel on a connection of its own, opened again when it breaks."""

    def __init__(self, db: Database, heard: Heard, instance: str) -> None:
        self._db = db
        self._heard = heard
        self._name = connection_name(instance)
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="bus-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("bus: a message that is not JSON, ignored")
            return
        if isinstance(message, dict):
            self._heard(message)

    async def _run(self) -> None:
        while True:
            try:
                async with self._db.engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    pg = cast(_Notified, raw.driver_connection)
                    # Named for the others to see this instance alive (:func:`listening`).
                    await pg.fetchval(
                        "SELECT set_config('application_name', $1, false)", self._name
                    )
                    await pg.add_listener(CHANNEL, self._on_notify)
                    self.listening.set()
                    try:
                        while True:
                            await asyncio.sleep(CHECK_SECONDS)
                            await pg.fetchval("SELECT 1")
                    finally:
                        self.listening.clear()
                        with contextlib.suppress(Exception):
                            await pg.remove_listener(CHANNEL, self._on_notify)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("bus: listening connection lost (%s); opened again in 1 s", exc)
                await asyncio.sleep(1.0)
