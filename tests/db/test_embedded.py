"""The embedded PostgreSQL starts in a directory, serves a ``cti`` database, and stops."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from cti.db import migrate
from cti.db.embedded import EmbeddedPostgres, EmbeddedPostgresError, default_data_dir
from cti.db.engine import Database


async def test_embedded_postgres_starts_serves_cti_and_stops(tmp_path: Path) -> None:
    data = tmp_path / "pg"
    async with EmbeddedPostgres(data) as pg:
        assert pg.running
        conn = await asyncpg.connect(pg.url)
        try:
            assert await conn.fetchval("SELECT current_database()") == "cti"
            await conn.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)")
        finally:
            await conn.close()
        url = pg.url
    assert not pg.running
    with pytest.raises(EmbeddedPostgresError):
        _ = pg.url
    with pytest.raises((OSError, asyncpg.PostgresError)):
        await asyncpg.connect(url, timeout=2)

    # Started again on the same directory, the data is still there, and the unix-socket URL
    # serves SQLAlchemy, cti's own connections and the migrations as any other URL does.
    with EmbeddedPostgres(data) as again:
        conn = await asyncpg.connect(again.url)
        try:
            assert await conn.fetchval("SELECT x FROM kept") == 42
        finally:
            await conn.close()
        await migrate.upgrade_async(again.url)
        async with Database(again.url) as db:
            assert await db.ping()
            # The desk's own connections (cti.db.direct) reach it by the same URL.
            assert await db.direct.fetchval("SELECT x FROM kept") == 42
        assert await migrate.current_async(again.url) == migrate.head()


def test_default_directory_is_the_users_data_dir() -> None:
    path = default_data_dir()
    assert path.name == "postgres"
    assert path.parent.name == "cti"


def test_a_database_name_that_is_not_an_identifier_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedPostgresError):
        EmbeddedPostgres(tmp_path, database="cti; DROP")
