"""The dialer's scheduled jobs fall due by cti's clock: the tests move a fake clock, not sleep.
Jobs are kept in PostgreSQL; one instance at a time runs them; a failed job is not lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from cti.clock import FakeClock
from cti.db.engine import Database
from cti.dialer.scheduler import RETRY_FAILED, DialerScheduler
from tests.dialer_service.conftest import monday

WITHIN = 10.0  # seconds of real time a runner may take to notice (it looks every 20 ms here)


class Handler:
    """Records the jobs it runs; refs listed in ``failing`` fail once."""

    def __init__(self, *failing: str) -> None:
        self.ran: list[str] = []
        self.failing = set(failing)

    async def run_job(self, kind: str, ref: str) -> None:
        if ref in self.failing:
            self.failing.discard(ref)
            raise RuntimeError("the database went away")
        self.ran.append(f"{kind}:{ref}")

    def of(self, kind: str) -> list[str]:
        return [job for job in self.ran if job.startswith(f"{kind}:")]


async def until(condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WITHIN
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def looked(jobs: DialerScheduler) -> None:
    """Wait until the leader's runner has looked at the jobs from start to end at least once since
    now: whatever it would run by the clock as it stands, it has run."""
    start = jobs.looks
    await until(lambda: jobs.looks >= start + 2, "a look at the jobs")


@asynccontextmanager
async def scheduler(
    url: str, handler: Handler, clock: FakeClock, *, upkeep: float = 900.0
) -> AsyncIterator[DialerScheduler]:
    async with Database(url, pool_size=2) as db:
        jobs = DialerScheduler(
            db,
            url,
            handler,
            clock=clock,
            upkeep_seconds=upkeep,
            leader_retry_seconds=0.05,
            poll_seconds=0.02,
        )
        await jobs.start()
        try:
            yield jobs
        finally:
            await jobs.stop()


async def test_a_job_runs_when_the_clock_reaches_its_time_and_not_before(
    migrated_database: str,
) -> None:
    clock = FakeClock(monday(15))
    handler = Handler()
    async with scheduler(migrated_database, handler, clock) as jobs:
        await until(lambda: jobs.leading, "the lead")
        await jobs.at("callback", "7", clock.now() + timedelta(minutes=5))
        clock.advance(299)
        await looked(jobs)
        assert handler.of("callback") == []
        clock.advance(1)
        await until(lambda: handler.of("callback") == ["callback:7"], "the callback")
        # A date job runs once, and is gone from the table.
        await looked(jobs)
        assert handler.of("callback") == ["callback:7"]
        assert "callback:7" not in {job for job, _ in await jobs.jobs()}


async def test_missed_runs_of_the_upkeep_count_once_and_the_next_is_after_now(
    migrated_database: str,
) -> None:
    clock = FakeClock(monday(15))
    handler = Handler()
    async with scheduler(migrated_database, handler, clock, upkeep=15.0) as jobs:
        await until(lambda: jobs.leading, "the lead")
        await looked(jobs)
        assert handler.of("upkeep") == []
        clock.advance(10 * 15 + 1)  # ten runs missed (a stopped loop, a long pause)
        await until(lambda: handler.of("upkeep") == ["upkeep:"], "the upkeep")
        await looked(jobs)
        assert handler.of("upkeep") == ["upkeep:"]
        (upkeep_next,) = [at for job, at in await jobs.jobs() if job == "upkeep"]
        assert upkeep_next is not None and upkeep_next > clock.now()
        assert upkeep_next - clock.now() <= timedelta(seconds=15)


async def test_a_job_that_fails_is_tried_again_later(migrated_database: str) -> None:
    clock = FakeClock(monday(15))
    handler = Handler("9")
    async with scheduler(migrated_database, handler, clock) as jobs:
        await until(lambda: jobs.leading, "the lead")
        await jobs.at("callback", "9", clock.now() + timedelta(seconds=30))
        clock.advance(30)
        await until(lambda: not handler.failing, "the first try")
        assert "callback:9" in {job for job, _ in await jobs.jobs()}, "a failed job stays"
        await looked(jobs)
        assert handler.of("callback") == []
        clock.advance(RETRY_FAILED.total_seconds())
        await until(lambda: handler.of("callback") == ["callback:9"], "the second try")


async def test_only_the_leader_runs_jobs_and_another_instance_takes_over_when_it_stops(
    migrated_database: str,
) -> None:
    clock = FakeClock(monday(15))
    first, second = Handler(), Handler()
    async with scheduler(migrated_database, first, clock) as leader:
        await until(lambda: leader.leading, "the lead")
        async with scheduler(migrated_database, second, clock) as follower:
            await looked(leader)
            assert not follower.leading
            # A job added by the follower is run by the leader, once.
            await follower.at("wake", "3", clock.now() + timedelta(seconds=5))
            clock.advance(5)
            await until(lambda: first.of("wake") == ["wake:3"], "the wake on the leader")
            await follower.at("callback", "4", clock.now() + timedelta(seconds=60))
            await leader.stop()  # the leader's instance stops before the callback is due
            clock.advance(120)
            await until(lambda: follower.leading, "the take-over")
            await until(lambda: second.of("callback") == ["callback:4"], "the callback")
            assert second.of("wake") == [] and first.of("callback") == []
