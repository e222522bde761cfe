"""Database fixtures: ``db`` wraps a fresh migrated database (see tests/conftest.py) in a Database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cti.db.engine import Database


@pytest.fixture
async def db(migrated_database: str) -> AsyncIterator[Database]:
    """A :class:`Database` on a fresh migrated database."""
    async with Database(migrated_database, pool_size=2) as database:
        yield database
