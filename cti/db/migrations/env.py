"""Alembic environment for cti: no ini file, the URL or an open connection comes from the caller.

:mod:`cti.db.migrate` puts either ``connection`` (a sync-facing connection obtained with
``AsyncConnection.run_sync``) or ``url`` into ``config.attributes``; the URL is never written into the
config options, so it can neither be interpolated nor logged.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from cti.db.engine import to_async_url
from cti.db.models import Base

config = context.config
target_metadata = Base.metadata


# Two cti processes migrating the same database at once (``cti serve`` on several hosts, or beside
# ``cti db upgrade``) take turns on this session-level advisory lock instead of racing.
MIGRATION_LOCK = 0x637469_6D6967  # "cti" "mig"


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        transaction_per_migration=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _lock(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})


def _unlock(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})


async def _run_with_url(url: str) -> None:
    """Migrate under the lock, released only once every migration is committed: the next process
    to take it reads the revision this one reached (unlocking first let it start the same
    migrations over, and fail on the tables already there)."""
    engine = create_async_engine(to_async_url(url), poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_lock)
            await conn.commit()  # the lock is the session's; the SELECT's transaction ends here
            try:
                await conn.run_sync(_migrate)
                await conn.commit()
            finally:
                await conn.rollback()  # after a failure, the aborted transaction; else nothing
                await conn.run_sync(_unlock)
                await conn.commit()
    finally:
        await engine.dispose()


def _main() -> None:
    if context.is_offline_mode():
        context.configure(
            url="postgresql://",
            target_metadata=target_metadata,
            literal_binds=True,
            dialect_name="postgresql",
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        # A caller's own connection: its transaction and any locking are the caller's.
        _migrate(connection)
        return
    asyncio.run(_run_with_url(config.attributes["url"]))


_main()
