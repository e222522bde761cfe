"""The dialer's timed work: jobs kept in PostgreSQL by APScheduler 3, fired on cti's clock.

Jobs (id → what runs):

* ``callback:<id>`` at a callback's due time: its lead becomes dialable, first in line;
* ``wake:<campaign>`` at a postponed call's time or a calling window's opening: the campaign is
  paced at once instead of at its next tick;
* ``upkeep`` every ``upkeep_seconds``: leads left ``dialing`` by a stopped instance return, the
  abandon ledgers are re-read from the attempts of every instance;
* ``break_overdue`` daily at 00:05 in the default zone: the back office's
  :func:`cti.db.backoffice.collection.break_overdue` (``actor="scheduler"``).

APScheduler keeps the jobs: its SQLAlchemy job store (one table, shared by every instance), its
triggers and its add / replace / remove. It never fires them itself: cti's scheduler class has
no thread and no loop of its own (:class:`JobKeeper`), and cti's runner fires what is due by the injected
:class:`cti.clock.Clock` (``now()``), as the pacing loop does. So time in tests is the fake
clock's, and a test moves it instead of sleeping. The job store is synchronous SQL: every call
to it goes through ``asyncio.to_thread`` and never blocks the event loop that drains AMI.

Every instance opens the same job table, but only the one holding a PostgreSQL advisory lock
(:class:`cti.db.dialer.Leadership`) runs jobs; the others only add jobs, which the leader picks
up at its next look (every ``poll_seconds``; at once for its own). When the leader stops,
another takes over within ``leader_retry_seconds``; a job that fell due meanwhile runs then
(no misfire limit, one run however many times it was missed), so a restart loses none. A job
that fails is tried again ``RETRY_FAILED`` later. Job handlers are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Protocol

from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from cti.clock import Clock
from cti.db import dialer as repo
from cti.db.engine import Database

log = logging.getLogger(__name__)

JOB_FUNCTION = f"{__name__}:run_job"

# How long a job that failed waits before it is tried again.
RETRY_FAILED = timedelta(seconds=30)


class JobHandler(Protocol):
    """What a scheduled job calls: the dialer service of the instance that runs it."""

    async def run_job(self, kind: str, ref: str) -> None:
        """Do the work of one job (``callback``/``wake``/``upkeep``/``break_overdue``)."""
        ...


# The handler of the runner's task (set once by the runner, in its own context).
_HANDLER: ContextVar[JobHandler | None] = ContextVar("cti_dialer_job_handler", default=None)


async def run_job(kind: str, ref: str) -> None:
    """The function every stored job names; runs it on the instance whose runner fired it."""
    handler = _HANDLER.get()
    if handler is None:
        log.error("dialer job %s:%s fired with no dialer to run it", kind, ref)
        return
    await handler.run_job(kind, ref)


class JobKeeper(BaseScheduler):  # type: ignore[misc]
    """APScheduler's scheduler used only to keep jobs (add, replace, change, list, remove in its
    job store). It has no thread or loop that fires jobs: :class:`DialerScheduler`'s runner does,
    on cti's clock. (A ``BackgroundScheduler``, even paused, fires everything due by the wall
    clock once as it shuts down.)"""

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        """APScheduler calls this when a job is added or changed so that its loop looks again;
        there is no such loop here (the runner looks every ``poll_seconds``, and at once for the
        jobs its own instance adds), so there is nothing to wake."""
        return


def next_after(job: Job, now: datetime) -> datetime | None:
    """When ``job`` runs next once it has run at ``now`` (None: never again). Runs missed while
    nobody led are not made up: one run stands for all of them."""
    previous: datetime = job.next_run_time
    following: datetime | None = job.trigger.get_next_fire_time(previous, now)
    while following is not None and following <= now:
        following = job.trigger.get_next_fire_time(following, now)
    return following


class DialerScheduler:
    """The dialer's jobs: stored by APScheduler in PostgreSQL, fired by this instance's runner on
    ``clock`` while it leads.

    Args:
        db: the database (leader lock).
        database_url: the same database's URL, for the synchronous job store.
        handler: runs the jobs.
        clock: the time jobs fall due by.
        zone: the zone of the daily jobs.
        upkeep_seconds: how often ``upkeep`` runs.
        leader_retry_seconds: how often a follower tries to take the lead.
        poll_seconds: how often the leader looks for due jobs (jobs it adds itself are looked
            at once).
    """

    def __init__(
        self,
        db: Database,
        database_url: str,
        handler: JobHandler,
        *,
        clock: Clock,
        zone: tzinfo = UTC,
        upkeep_seconds: float = 15.0,
        leader_retry_seconds: float = 2.0,
        poll_seconds: float = 1.0,
    ) -> None:
        self._db = db
        self._url = database_url
        self._handler = handler
        self._clock = clock
        self._zone = zone
        self._upkeep = upkeep_seconds
        self._retry = leader_retry_seconds
        self._poll = poll_seconds
        self._lead = repo.Leadership(db)
        self._store: SQLAlchemyJobStore | None = None
        self._scheduler: JobKeeper | None = None
        self._task: asyncio.Task[None] | None = None
        self._nudge = asyncio.Event()
        self.looks = 0  # passes of the leader's runner over the due jobs, done so far

    @property
    def leading(self) -> bool:
        """Whether this instance runs the jobs."""
        return self._lead.held

    async def start(self) -> None:
        """Open the job store (its table comes from the migrations), add the standing jobs, and
        start trying to lead."""
        self._store = repo.job_store(self._url)
        scheduler = JobKeeper(
            jobstores={"default": self._store},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=UTC,
        )
        await asyncio.to_thread(scheduler.start, paused=True)
        self._scheduler = scheduler
        now = self._clock.now()
        await asyncio.to_thread(
            self._standing,
            "upkeep",
            IntervalTrigger(
                seconds=self._upkeep,
                start_date=now + timedelta(seconds=self._upkeep),
                timezone=UTC,
            ),
        )
        await asyncio.to_thread(
            self._standing, "break_overdue", CronTrigger(hour=0, minute=5, timezone=self._zone)
        )
        self._task = asyncio.get_running_loop().create_task(
            self._lead_and_run(), name="dialer-scheduler"
        )

    def _standing(self, job_id: str, trigger: IntervalTrigger | CronTrigger) -> None:
        assert self._scheduler is not None
        if self._scheduler.get_job(job_id) is not None:
            return
        first = trigger.get_next_fire_time(None, self._clock.now())
        with contextlib.suppress(ConflictingIdError):
            self._scheduler.add_job(
                JOB_FUNCTION, trigger, args=[job_id, ""], id=job_id, next_run_time=first
            )

    async def _lead_and_run(self) -> None:
        _HANDLER.set(self._handler)  # this task's own context
        while True:
            if await self._try_lead():
                break
            await asyncio.sleep(self._retry)
        log.info("dialer scheduler: this instance runs the scheduled jobs")
        while True:
            self._nudge.clear()
            try:
                await self.run_due()
            except Exception as exc:
                log.warning("dialer scheduler: could not read the jobs (%s)", type(exc).__name__)
            self.looks += 1
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._nudge.wait()

    async def _try_lead(self) -> bool:
        try:
            return await self._lead.try_acquire()
        except Exception as exc:
            log.warning("dialer scheduler: could not check the lead (%s)", type(exc).__name__)
            return False

    async def run_due(self) -> int:
        """Run every job due by the clock, oldest first, and set each one's next run (or drop
        it); the number run. Only the leader calls this."""
        store, scheduler = self._store, self._scheduler
        assert store is not None and scheduler is not None
        now = self._clock.now()
        due: list[Job] = await asyncio.to_thread(store.get_due_jobs, now)
        for job in due:
            try:
                await job.func(*job.args, **job.kwargs)
            except Exception:
                log.exception("dialer job %s failed; it is tried again later", job.id)
                following: datetime | None = now + RETRY_FAILED
            else:
                following = next_after(job, now)
            await asyncio.to_thread(self._after_run, job, following)
        return len(due)

    def _after_run(self, ran: Job, following: datetime | None) -> None:
        """Set the next run of a job that ran, unless it was replaced meanwhile (another instance
        moved a ``wake:`` or a callback while it ran: the new time stands)."""
        assert self._scheduler is not None
        current = self._scheduler.get_job(ran.id)
        if current is None or current.next_run_time != ran.next_run_time:
            return
        with contextlib.suppress(JobLookupError):
            if following is None:
                self._scheduler.remove_job(ran.id)
            else:
                self._scheduler.modify_job(ran.id, next_run_time=following)

    async def at(self, kind: str, ref: str, when: datetime) -> None:
        """Run job ``kind:ref`` at ``when`` (replacing one of the same id)."""
        scheduler = self._scheduler
        assert scheduler is not None
        await asyncio.to_thread(
            scheduler.add_job,
            JOB_FUNCTION,
            "date",
            run_date=when,
            next_run_time=when,
            args=[kind, ref],
            id=f"{kind}:{ref}",
            replace_existing=True,
        )
        self._nudge.set()

    async def cancel(self, kind: str, ref: str) -> None:
        """Drop job ``kind:ref`` if it is still waiting."""
        scheduler = self._scheduler
        assert scheduler is not None

        def remove() -> None:
            with contextlib.suppress(JobLookupError):
                scheduler.remove_job(f"{kind}:{ref}")

        await asyncio.to_thread(remove)

    async def jobs(self) -> list[tuple[str, datetime | None]]:
        """The stored jobs: (id, next run time)."""
        scheduler = self._scheduler
        assert scheduler is not None
        found = await asyncio.to_thread(scheduler.get_jobs)
        return [(j.id, j.next_run_time) for j in found]

    async def stop(self) -> None:
        """Stop running jobs and give the lead up; stored jobs stay for the next leader."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._scheduler is not None:
            await asyncio.to_thread(self._scheduler.shutdown, wait=False)
            self._scheduler = None
        await self._lead.release()
        if self._store is not None:
            await asyncio.to_thread(repo.dispose_job_store, self._store)
            self._store = None


__all__ = ["JOB_FUNCTION", "DialerScheduler", "JobHandler", "JobKeeper", "next_after", "run_job"]
