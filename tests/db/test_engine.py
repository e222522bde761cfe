"""URLs, redaction and the health ping."""

from __future__ import annotations

import asyncio
import socket

import asyncpg
import pytest
import sqlalchemy as sa

from cti.config import Secret
from cti.db.engine import Database, redact_url, to_async_url
from cti.errors import ConfigError


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+asyncpg://u@h/db"),
        (
            "postgresql://postgres:@/postgres?host=/tmp/pg dir",
            "postgresql+asyncpg://postgres:@/postgres?host=/tmp/pg dir",
        ),
    ],
)
def test_to_async_url(given: str, expected: str) -> None:
    assert to_async_url(given) == expected
    assert to_async_url(Secret(given)) == expected


def test_a_non_postgres_url_is_refused_without_showing_the_password() -> None:
    with pytest.raises(ConfigError) as info:
        to_async_url("mysql://root:hunter2@db/x")
    assert "hunter2" not in str(info.value)
    assert "database.url" in str(info.value)


def test_redact_url_hides_only_the_password() -> None:
    assert redact_url("postgresql://cti:hunter2@db:5432/cti") == "postgresql://cti:***@db:5432/cti"
    assert redact_url(Secret("postgresql://cti@db/cti")) == "postgresql://cti@db/cti"
    assert "hunter2" not in redact_url("postgres ql://cti:hunter2@db/cti")


async def test_ping_answers_true_on_a_live_database(migrated_database: str) -> None:
    async with Database(migrated_database) as db:
        assert await db.ping() is True
        assert "***" not in repr(db)


async def test_ping_answers_false_when_nobody_listens() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with Database(f"postgresql://cti:hunter2@127.0.0.1:{port}/cti") as db:
        assert await db.ping(within=2.0) is False
        assert "hunter2" not in repr(db)


async def test_a_failing_insert_shows_and_logs_no_parameter(
    migrated_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError

    from cti.db.models import Lead

    caplog.set_level(logging.DEBUG)
    async with Database(migrated_database) as db:
        with pytest.raises(IntegrityError) as info:  # no such campaign: a foreign key fails
            async with db.sessions.begin() as s:
                await s.execute(
                    sa.insert(Lead).values(
                        campaign_id=424242, phone="+5511912345678", name="Maria Secreta"
                    )
                )
        logging.getLogger("cti.test").exception("storing failed", exc_info=info.value)
    shown = str(info.value) + caplog.text
    assert "parameters hidden" in str(info.value)
    assert "Maria Secreta" not in shown and "912345678" not in shown


async def test_connections_the_server_ended_are_replaced_before_anything_runs_on_them(
    migrated_database: str,
) -> None:
    """PostgreSQL restarted, or an administrator ended cti's connections: the pool's connections
    are dead, and the next reads and writes run on new ones; none fails, nothing is lost."""
    async with Database(migrated_database, pool_size=2) as db:
        async with db.engine.connect() as a, db.engine.connect() as b:
            pids = [
                await a.scalar(sa.text("SELECT pg_backend_pid()")),
                await b.scalar(sa.text("SELECT pg_backend_pid()")),
            ]
        admin = await asyncpg.connect(migrated_database)
        try:
            await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid", pids)
            for _ in range(100):
                left = await admin.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", pids
                )
                if left == 0:
                    break
                await asyncio.sleep(0.05)
            assert left == 0
        finally:
            await admin.close()

        for n in range(3):
            async with db.sessions.begin() as s:
                await s.execute(
                    sa.text(
                        "INSERT INTO audit_log (actor, action, subject, details)"
                        " VALUES ('test', 'ping', :n, '{}')"
                    ),
                    {"n": str(n)},
                )
        async with db.sessions() as s:
            written = (
                await s.execute(
                    sa.text("SELECT subject FROM audit_log WHERE action = 'ping' ORDER BY id")
                )
            ).scalars()
            assert list(written) == ["0", "1", "2"]
        assert await db.ping()
