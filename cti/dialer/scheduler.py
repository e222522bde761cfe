"""The dialer's timed work on APScheduler 3, its jobs kept in PostgreSQL.

Jobs (id → what runs):

* ``callback:<id>`` at a callback's due time: its lead becomes dialable, first in line;
* ``wake:<campaign>`` at a postponed call's time or a calling window's opening: the campaign is
  paced at once instead of at its next tick;
* ``upkeep`` every ``upkeep_seconds``: leads left ``dialing`` by a stopped instance return, the
  abandon ledgers are re-read from the attempts of every instance;
* ``break_overdue`` daily at 00:05 in the default zone: the back office's
  :func:`cti.db.backoffice.collection.break_overdue` (``actor="scheduler"``).

The job store is synchronous SQL, so APScheduler runs on its own thread (``BackgroundScheduler``)
and never on the event loop that drains AMI: adding, cancelling and listing jobs go through
``asyncio.to_thread``, and a job that falls due is handed to the loop
(``asyncio.run_coroutine_threadsafe``), where the dialer's ``run_job`` does the work.

Every instance runs a scheduler on the same job table, but only the one holding a PostgreSQL
advisory lock (:class:`cti.db.dialer.Leadership`) runs jobs; the others stay paused and only add
jobs, which the leader picks up at its next wake (``upkeep`` bounds the delay). When the leader
stops, another takes over within ``leader_retry_seconds``; a job that fell due meanwhile runs then
(no misfire limit), so a restart loses none. Job handlers are idempotent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Protocol

from apscheduler.events import JobExecutionEvent
from apscheduler.executors.base import BaseExecutor, run_coroutine_job
from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from cti.db import dialer as repo
from cti.db.engine import Database

log = logging.getLogger(__name__)

JOB_FUNCTION = f"{__name__}:run_job"


class JobHandler(Protocol):
    """What a scheduled job calls: the dialer service of the instance that runs it."""

    async def run_job(self, kind: str, ref: str) -> None:
        """Do the work of one job (``callback``/``wake``/``upkeep``/``break_overdue``)."""
        ...


# The handler of the job running in this task (set by the executor, on the loop).
_HANDLER: ContextVar[JobHandler | None] = ContextVar("cti_dialer_job_handler", default=None)


async def run_job(kind: str, ref: str) -> None:
    """The function every stored job names; runs it on the instance whose scheduler fired it."""
    handler = _HANDLER.get()
    if handler is None:
        log.error("dialer job %s:%s fired with no dialer to run it", kind, ref)
        return
    await handler.run_job(kind, ref)


class _LoopExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs each job on the service's event loop; the scheduler's thread only hands it over.

    ``_do_submit_job`` is the hook APScheduler 3's ``BaseExecutor`` asks executors to implement.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, handler: JobHandler) -> None:
        super().__init__()
        self._loop = loop
        self._handler = handler
        self._pending: set[concurrent.futures.Future[list[JobExecutionEvent]]] = set()

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        async def run() -> list[JobExecutionEvent]:
            _HANDLER.set(self._handler)  # this task's own context
            events: list[JobExecutionEvent] = await run_coroutine_job(
                job, job._jobstore_alias, run_times, self._logger.name
            )
            return events

        def done(future: concurrent.futures.Future[list[JobExecutionEvent]]) -> None:
            self._pending.discard(future)
            try:
                events = future.result()
            except BaseException as exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, events)

        future = asyncio.run_coroutine_threadsafe(run(), self._loop)
        self._pending.add(future)
        future.add_done_callback(done)

    def shutdown(self, wait: bool = True) -> None:
        for future in list(self._pending):
            future.cancel()
        self._pending.clear()


class DialerScheduler:
    """APScheduler on its own thread with a PostgreSQL job store, running jobs only while it
    leads.

    Args:
        db: the database (leader lock).
        database_url: the same database's URL, for the synchronous job store.
        handler: runs the jobs.
        zone: the zone of the daily jobs.
        upkeep_seconds: how often ``upkeep`` runs.
        leader_retry_seconds: how often a follower tries to take the lead.
    """

    def __init__(
        self,
        db: Database,
        database_url: str,
        handler: JobHandler,
        *,
        zone: tzinfo = UTC,
        upkeep_seconds: float = 15.0,
        leader_retry_seconds: float = 2.0,
    ) -> None:
        self._db = db
        self._url = database_url
        self._handler = handler
        self._zone = zone
        self._upkeep = upkeep_seconds
        self._retry = leader_retry_seconds
        self._lead = repo.Leadership(db)
        self._store: SQLAlchemyJobStore | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        """Whether this instance runs the jobs."""
        return self._lead.held

    async def start(self) -> None:
        """Open the job store (its table comes from the migrations), add the standing jobs, and
        start trying to lead."""
        loop = asyncio.get_running_loop()
        self._store = repo.job_store(self._url)
        scheduler = BackgroundScheduler(
            jobstores={"default": self._store},
            executors={"default": _LoopExecutor(loop, self._handler)},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=UTC,
            daemon=True,
        )
        await asyncio.to_thread(scheduler.start, paused=True)
        self._scheduler = scheduler
        await asyncio.to_thread(
            self._standing, "upkeep", IntervalTrigger(seconds=self._upkeep, timezone=UTC)
        )
        await asyncio.to_thread(
            self._standing, "break_overdue", CronTrigger(hour=0, minute=5, timezone=self._zone)
        )
        self._task = loop.create_task(self._lead_when_free(), name="dialer-scheduler-lead")

    def _standing(self, job_id: str, trigger: IntervalTrigger | CronTrigger) -> None:
        assert self._scheduler is not None
        if self._scheduler.get_job(job_id) is not None:
            return
        with contextlib.suppress(ConflictingIdError):
            self._scheduler.add_job(JOB_FUNCTION, trigger, args=[job_id, ""], id=job_id)

    async def _lead_when_free(self) -> None:
        while True:
            try:
                if await self._lead.try_acquire():
                    assert self._scheduler is not None
                    log.info("dialer scheduler: this instance runs the scheduled jobs")
                    self._scheduler.resume()
                    return
            except Exception as exc:
                log.warning("dialer scheduler: could not check the lead (%s)", type(exc).__name__)
            await asyncio.sleep(self._retry)

    async def at(self, kind: str, ref: str, when: datetime) -> None:
        """Run job ``kind:ref`` at ``when`` (replacing one of the same id)."""
        scheduler = self._scheduler
        assert scheduler is not None
        await asyncio.to_thread(
            scheduler.add_job,
            JOB_FUNCTION,
            "date",
            run_date=when,
            args=[kind, ref],
            id=f"{kind}:{ref}",
            replace_existing=True,
        )

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


__all__ = ["JOB_FUNCTION", "DialerScheduler", "JobHandler", "run_job"]
