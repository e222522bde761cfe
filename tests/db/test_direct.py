"""The desk's own connections (cti.db.direct): a connection the server dropped is replaced before
the next ring, end or wrap-up is written, and a statement that failed leaves the next one alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from asyncpg.exceptions import ForeignKeyViolationError

from cti.db import desk as repo
from cti.db.direct import args, positional
from cti.db.engine import Database
from cti.db.users import add_user
from cti.domain.model import CallOutcome
from cti.domain.wrapup import WrapupRule
from tests.db.test_ring_audit import _ring

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_named_parameters_become_numbered_once_each_and_casts_stay() -> None:
    sql, names = positional(
        "SELECT :a::int, :b, ':x' || :a -- the party's :y\n, now()::date WHERE :b_2 > 0"
    )
    assert sql == "SELECT $1::int, $2, ':x' || $1 -- the party's :y\n, now()::date WHERE $3 > 0"
    assert names == ("a", "b", "b_2")
    assert args(names, {"b_2": 3, "a": 1, "b": 2}) == [1, 2, 3]


async def _calls(db: Database) -> list[tuple[str, str | None]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT uniqueid, outcome FROM calls ORDER BY id"))
        return [(u, o) for u, o in rows]


async def test_the_desks_writes_go_on_after_the_server_ends_their_connections(
    db: Database,
) -> None:
    operator = await add_user(
        db,
        username="ana",
        password="ana-secret-1",
        role="operator",
        routines=["telemarketing"],
        full_name="Ana Lima",
    )
    await _ring(db, "1.1", operator, "customer:1")

    # The server ends every connection of cti's own (a restart, an administrator's cleanup).
    pids = [conn.get_server_pid() for conn in db.direct._open]
    assert pids
    async with db.engine.connect() as conn:
        await conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"),
            {"pids": pids},
        )

    # The next writes are not lost: the dropped connection is replaced at checkout.
    await _ring(db, "1.2", operator, "customer:1")
    rule = await repo.end_call_and_rule(
        db, repo.CallKey("pbx1", "1.2"), operator, at=AT, outcome=CallOutcome.ANSWERED
    )
    assert rule == WrapupRule()  # no attention group: the defaults
    assert await _calls(db) == [("1.1", None), ("1.2", "answered")]

    # A refused statement (an operator that does not exist) fails alone; the next one is written.
    with pytest.raises(ForeignKeyViolationError):
        await _ring(db, "1.3", operator + 1000, "customer:1")
    await _ring(db, "1.4", operator, "customer:1")
    assert [u for u, _ in await _calls(db)] == ["1.1", "1.2", "1.4"]
