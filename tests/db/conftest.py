"""Database fixtures: a schema migrated once per run, cloned for each test that needs one.

``migrated_database`` is a fresh database at the newest revision, made with PostgreSQL's
``CREATE DATABASE … TEMPLATE`` from one database migrated at the start of the run (much faster than
migrating each time). ``db`` wraps it in a :class:`cti.db.engine.Database`.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Callable, Iterator

import asyncpg
import pytest

from cti.db import migrate
from cti.db.engine import Database
from tests.conftest import ADMIN_URL, drop_database

_clones = itertools.count()


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def migrated_template(database_factory: Callable[[], str]) -> str:
    """The URL of a database migrated to head; never connect to it (it is cloned)."""
    url = database_factory()
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def migrated_database_factory(migrated_template: str) -> Iterator[Callable[[], str]]:
    """Make fresh databases at the newest revision on demand; all dropped at the end of the run."""
    template = migrated_template.rpartition("/")[2]
    made: list[str] = []

    def make() -> str:
        name = f"cti_m_{os.getpid()}_{next(_clones)}"
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}"'))
        asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        url = f"{migrated_template.rpartition('/')[0]}/{name}"
        made.append(url)
        return url

    yield make
    for url in made:
        drop_database(url)


@pytest.fixture
def migrated_database(migrated_database_factory: Callable[[], str]) -> str:
    """A fresh database at the newest revision, for one test."""
    return migrated_database_factory()


@pytest.fixture
async def db(migrated_database: str) -> AsyncIterator[Database]:
    """A :class:`Database` on a fresh migrated database."""
    async with Database(migrated_database, pool_size=2) as database:
        yield database
