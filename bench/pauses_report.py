"""The pauses report after a year of use: the old overlap condition against today's.

A scratch database, migrated, is filled with ``--days`` days of pauses at a desk for
``--operators`` operators, ``--per-day`` pauses each a day (by default 300 × 20 × 365 ≈ 2.2 M
rows, in one ``INSERT … SELECT`` over ``generate_series``), the ones going on now left open, and a
few forgotten ones open since their day. Then the supervisor's ``pauses`` report and the
``productivity`` report (whose paused time is the same query, summed per operator) run for today
and for yesterday through :func:`cti.db.reports.run_report`, each ``--repeat`` times, with:

``old``  the overlap condition as it was, ``started_at < end AND coalesce(ended_at, now) > start``
         (a copy of the old ``_paused``, below): only ``ix_agent_pauses_started`` serves it, so
         PostgreSQL reads every pause begun before the period's end;
``new``  :func:`cti.db.reports._paused` as it is: ``ended_at > start OR ended_at IS NULL``, by
         ``ix_agent_pauses_ended`` (open pauses, NULL, included).

The two run in turn, so a busy machine slows both alike. Printed: each one's plan for today
(``EXPLAIN ANALYZE`` of the statement the report sends), the median and best times, old/new, and
whether both gave the same rows.

Run: .venv/bin/python bench/pauses_report.py [--operators 300] [--days 365] [--per-day 20]
    [--repeat 7]
PostgreSQL: ``CTI_TEST_PG`` (default postgresql://postgres@127.0.0.1:5432/test); a scratch
database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import sqlalchemy as sa
from scratch import drop_database, scratch_database

from cti.db import migrate
from cti.db import reports as repo
from cti.db.engine import Database
from cti.db.models import AgentPause
from cti.domain.reporting import Period

REPORTS = ("pauses", "productivity")
VARIANTS = ("old", "new")


def old_paused(p: Period, now: datetime) -> tuple[Any, Any]:
    """The baseline: ``reports._paused`` as it was before ``ix_agent_pauses_ended``."""
    until = sa.func.coalesce(AgentPause.ended_at, sa.literal(now, sa.DateTime(timezone=True)))
    start = sa.func.greatest(AgentPause.started_at, sa.literal(p.start, sa.DateTime(timezone=True)))
    end = sa.func.least(until, sa.literal(p.end, sa.DateTime(timezone=True)))
    seconds = sa.func.greatest(sa.func.round(sa.func.extract("epoch", end - start)), 0)
    return seconds, sa.and_(AgentPause.started_at < p.end, until > p.start)


NEW_PAUSED = repo._paused


@contextlib.contextmanager
def variant(name: str) -> Iterator[None]:
    """The reports read the pauses with the old condition, or with today's."""
    repo._paused = old_paused if name == "old" else NEW_PAUSED
    try:
        yield
    finally:
        repo._paused = NEW_PAUSED


# --- the year of pauses ---------------------------------------------------------------------------

OPERATORS_SQL = """
INSERT INTO operators (username, full_name, password_hash, role)
SELECT 'agent' || lpad(i::text, 4, '0'), 'Agent ' || lpad(i::text, 4, '0'), 'x', 'operator'
FROM generate_series(1, $1) AS i
"""

# Each operator's pauses of a day start every (10 h / per_day) from 08:00 UTC, a few minutes late
# (by operator), and last 1 to 15 minutes (by operator, day and pause): never two at once. Rows
# go in in the order they began, as they would have. One going on at $3 (now) stays open.
PAUSES_SQL = """
INSERT INTO agent_pauses (operator_id, reason, started_at, ended_at)
SELECT operator_id, reason, started_at,
       CASE WHEN ended_at > $3 THEN NULL ELSE ended_at END
FROM (
    SELECT o.id AS operator_id,
           (ARRAY['break', 'lunch', 'meeting', 'missed calls'])[1 + (k + o.id) % 4] AS reason,
           t.at AS started_at,
           t.at + make_interval(secs => 60 + (o.id * 7919 + d * 104729 + k * 31) % 840) AS ended_at
    FROM generate_series(0, $1 - 1) AS d
    CROSS JOIN generate_series(0, $2 - 1) AS k
    CROSS JOIN operators AS o
    CROSS JOIN LATERAL (
        SELECT date_trunc('day', $3::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
               - d * interval '1 day' + interval '8 hours'
               + k * (interval '10 hours' / $2) + (o.id * 13 % 300) * interval '1 second' AS at
    ) AS t
) AS planned
WHERE started_at < $3
ORDER BY started_at
"""

# Every tenth operator forgot to come back from their last pause: open since then.
FORGOTTEN_SQL = """
UPDATE agent_pauses SET ended_at = NULL
WHERE id IN (
    SELECT (SELECT p.id FROM agent_pauses AS p WHERE p.operator_id = o.id
            ORDER BY p.started_at DESC LIMIT 1)
    FROM operators AS o WHERE o.id % 10 = 0
)
"""


async def fill(url: str, operators: int, days: int, per_day: int, now: datetime) -> int:
    """The operators and their pauses; how many pauses."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(OPERATORS_SQL, operators)
        await conn.execute(PAUSES_SQL, days, per_day, now)
        await conn.execute(FORGOTTEN_SQL)
        # As autovacuum would have left a year-old table: statistics and the visibility map.
        await conn.execute("VACUUM ANALYZE agent_pauses")
        await conn.execute("ANALYZE operators")
        return int(await conn.fetchval("SELECT count(*) FROM agent_pauses"))
    finally:
        await conn.close()


# --- timing ---------------------------------------------------------------------------------------


class Statements:
    """The statements sent on the engine's connections (with their parameters), while on."""

    def __init__(self, db: Database) -> None:
        self.on = False
        self.seen: list[tuple[str, Any]] = []
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", self._note)

    def _note(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.on:
            self.seen.append((statement, parameters))


async def plan(
    url: str, db: Database, statements: Statements, name: str, p: Period, now: datetime
) -> list[str]:
    """``EXPLAIN ANALYZE`` of the statement on agent_pauses that report ``name`` sends."""
    statements.seen.clear()
    statements.on = True
    try:
        await repo.run_report(db, name, p, now)
    finally:
        statements.on = False
    sql, params = next((s, a) for s, a in statements.seen if "agent_pauses" in s)
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, BUFFERS) {sql}", *(params or ())
        )
    finally:
        await conn.close()
    return [r[0] for r in rows]


async def timed(
    db: Database, name: str, p: Period, now: datetime
) -> tuple[float, list[dict[str, Any]]]:
    t0 = time.perf_counter()
    report = await repo.run_report(db, name, p, now)
    return time.perf_counter() - t0, report.rows


async def main(args: argparse.Namespace) -> None:
    name, url = await scratch_database("cti_bench_pauses")
    try:
        t0 = time.perf_counter()
        await migrate.upgrade_async(url)
        now = datetime.now(UTC)
        count = await fill(url, args.operators, args.days, args.per_day, now)
        print(
            f"{count:,} pauses of {args.operators} operators over {args.days} days"
            f" ({args.per_day} a day) written in {time.perf_counter() - t0:.1f} s"
        )
        # Every run is at the same instant (an open pause grows with now): the same rows from both.
        now = datetime.now(UTC)
        today = now.date()
        days = {"today": today, "yesterday": today - timedelta(days=1)}
        async with Database(url) as db:
            statements = Statements(db)
            for v in VARIANTS:
                with variant(v):
                    lines = await plan(url, db, statements, "pauses", Period.of(today, today), now)
                print(f"\nplan of the pauses report for today, {v}:")
                for line in lines:
                    print(f"  {line}")
            times: dict[tuple[str, str, str], list[float]] = {}
            rows: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
            for report in REPORTS:
                for label, day in days.items():
                    period = Period.of(day, day)
                    for v in VARIANTS:  # once each first: connections, caches
                        with variant(v):
                            await timed(db, report, period, now)
                    for _ in range(args.repeat):
                        for v in VARIANTS:
                            with variant(v):
                                took, got = await timed(db, report, period, now)
                            times.setdefault((report, label, v), []).append(took)
                            rows[report, label, v] = got
            print(
                f"\n{'report':<13}{'period':<11}{'old median':>11}{'new median':>11}"
                f"{'old best':>10}{'new best':>10}{'old/new':>9}  same rows"
            )
            for report in REPORTS:
                for label in days:
                    old, new = times[report, label, "old"], times[report, label, "new"]
                    same = rows[report, label, "old"] == rows[report, label, "new"]
                    print(
                        f"{report:<13}{label:<11}{1000 * statistics.median(old):>9.1f}ms"
                        f"{1000 * statistics.median(new):>9.1f}ms{1000 * min(old):>8.1f}ms"
                        f"{1000 * min(new):>8.1f}ms"
                        f"{statistics.median(old) / statistics.median(new):>8.1f}x"
                        f"  {'yes' if same else 'NO'}"
                    )
            print(f"({args.repeat} runs of each, old and new in turn)")
    finally:
        await drop_database(name)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--operators", type=int, default=300)
    p.add_argument("--days", type=int, default=365, help="days of pauses, up to today")
    p.add_argument("--per-day", type=int, default=20, help="pauses of each operator a day")
    p.add_argument("--repeat", type=int, default=7, help="timed runs of each report and variant")
    return p.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
