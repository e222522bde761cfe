"""A scratch PostgreSQL database for a benchmark's run: made fresh, dropped at the end.

The server is ``CTI_TEST_PG`` (default postgresql://postgres@127.0.0.1:5432/test), as for the tests.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ADMIN_URL = os.environ.get("CTI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


async def scratch_database(prefix: str) -> tuple[str, str]:
    """A new empty database named for ``prefix`` and this process: its name and URL."""
    name = f"{prefix}_{os.getpid()}"
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))


async def drop_database(name: str) -> None:
    """Drop the database, closing whatever still holds it."""
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
