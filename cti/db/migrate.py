"""Run the Alembic migrations from code, with no ``alembic.ini`` (works from an installed package).

The functions here are synchronous and run their own event loop; from async code call the
``*_async`` variants, which run them in a worker thread.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine

from cti.config import Secret
from cti.db.engine import to_async_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Alembic keeps its running context in module globals: one command at a time per process. Between
# processes, env.py takes a PostgreSQL advisory lock.
_ALEMBIC = threading.Lock()


def alembic_config(url: str | Secret | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations; the URL rides in ``attributes``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.attributes["url"] = url.reveal() if isinstance(url, Secret) else url
    return cfg


def head() -> str:
    """The newest revision shipped with this version of cti."""
    rev = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert rev is not None
    return rev


def upgrade(url: str | Secret, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (all pending ones by default)."""
    with _ALEMBIC:
        command.upgrade(alembic_config(url), revision)


def downgrade(url: str | Secret, revision: str) -> None:
    """Undo migrations down to ``revision``; ``"base"`` leaves the database with none of our objects.

    At ``base`` the ``alembic_version`` table is dropped too, so the database is left empty.
    """
    with _ALEMBIC:
        command.downgrade(alembic_config(url), revision)
        if revision == "base":
            asyncio.run(_drop_version_table(url))


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def _with_connection(url: str | Secret, fn: str) -> str | None:
    raw = url.reveal() if isinstance(url, Secret) else url
    engine = create_async_engine(to_async_url(raw), poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:
            if fn == "current":
                return await conn.run_sync(_current)
            await conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
            return None
    finally:
        await engine.dispose()


async def _drop_version_table(url: str | Secret) -> None:
    await _with_connection(url, "drop")


def current(url: str | Secret) -> str | None:
    """The revision the database is at, or None when it has no migration applied."""
    return asyncio.run(_with_connection(url, "current"))


async def upgrade_async(url: str | Secret, revision: str = "head") -> None:
    """:func:`upgrade` for async callers (runs in a thread; Alembic needs its own loop)."""
    await asyncio.to_thread(upgrade, url, revision)


async def downgrade_async(url: str | Secret, revision: str) -> None:
    """:func:`downgrade` for async callers."""
    await asyncio.to_thread(downgrade, url, revision)


async def current_async(url: str | Secret) -> str | None:
    """:func:`current` for async callers."""
    return await asyncio.to_thread(current, url)


__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current",
    "current_async",
    "downgrade",
    "downgrade_async",
    "head",
    "upgrade",
    "upgrade_async",
]
