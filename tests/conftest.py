"""Shared fixtures: a real PostgreSQL database per test run, created and dropped here.

The server is the one at ``CTI_TEST_PG`` (default ``postgresql://postgres@127.0.0.1:5432/test``,
trust auth). Each run makes its own databases, named ``cti_t_<pid>_<n>``, and drops them at the end.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

ADMIN_URL = os.environ.get("CTI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
TRANSCRIPTS = SHARED / "ami-transcripts"
_counter = itertools.count()


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database() -> str:
    """A new empty database; returns its URL (``postgresql://…``)."""
    name = f"cti_t_{os.getpid()}_{next(_counter)}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return _with_db(ADMIN_URL, name)


def drop_database(url: str) -> None:
    name = url.rpartition("/")[2]
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A fresh, empty database for one test (no schema)."""
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def database_factory() -> Iterator[Callable[[], str]]:
    """Make empty databases on demand; all are dropped when the run ends."""
    made: list[str] = []

    def make() -> str:
        url = create_database()
        made.append(url)
        return url

    yield make
    for url in made:
        drop_database(url)


@pytest.fixture(scope="session")
def transcripts_dir() -> Path:
    """The real Asterisk 22 captures in ``../shared/ami-transcripts``."""
    assert TRANSCRIPTS.is_dir(), f"captures not found at {TRANSCRIPTS}"
    return TRANSCRIPTS
