"""The dialer's timed work on APScheduler 3 (``AsyncIOScheduler``), its jobs kept in PostgreSQL.

Jobs (id → what runs):

* ``callback:<id>`` at a callback's due time: its lead becomes dialable, first in line;
* ``wake:<campaign>`` at a postponed call's time or a calling window's opening: the campaign is
  paced at once instead of at its next tick;
* ``upkeep`` every ``upkeep_seconds``: leads left ``dialing`` by a stopped instance return, the
  abandon ledgers are re-read from the attempts of every instance;
* ``break_overdue`` daily at 00:05 in the default zone: the back office's
  :func:`cti.db.backoffice.collection.break_overdue` (``actor="scheduler"``).

Every instance runs a scheduler on the same job table, but only the one holding a PostgreSQL
advisory lock (:class:`cti.db.dialer.Leadership`) runs jobs; the others stay paused and only add
jobs, which the leader picks up at its next wake (``upkeep`` bounds the delay). When the leader
stops, another takes over within ``leader_retry_seconds``; a job that fell due meanwhile runs then
(no misfire limit), so a restart loses none. Job handlers are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from cti.db import dialer as repo
from cti.db.engine import Database

log = logging.getLogger(__name__)

JOB_FUNCTION = f"{__name__}:run_job"


class JobHandler(Protocol):
    """What a scheduled job calls: the dialer service of the instance that runs it."""

    async def run_job(self, kind: str, ref: str) -> None:
        """Do the work of one job (``callback``/``wake``/``upkeep``/``break_overdue``)."""
        ...


_HANDLER: ContextVar[JobHandler | None] = ContextVar("cti_dialer_job_handler", default=None)


async def run_job(kind: str, ref: str) -> None:
    """The function every stored job names; runs it on the instance whose scheduler fired it."""
    handler = _HANDLER.get()
    if handler is None:
        log.error("dialer job %s:%s fired with no dialer to run it", kind, ref)
        return
    await handler.run_job(kind, ref)


class _Executor(AsyncIOExecutor):  # type: ignore[misc]
    """APScheduler's asyncio executor, handing its jobs this instance's handler."""

    def __init__(self, handler: JobHandler) -> None:
        super().__init__()
        self._handler = handler

    def _do_submit_job(self, job: Any, run_times: Any) -> None:
        token = _HANDLER.set(self._handler)
        try:
            super()._do_submit_job(job, run_times)
        finally:
            _HANDLER.reset(token)


class DialerScheduler:
    """APScheduler with a PostgreSQL job store, running jobs only while it leads.

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
        self._store: Any = None
        self._scheduler: AsyncIOScheduler | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        """Whether this instance runs the jobs."""
        return self._lead.held

    async def start(self) -> None:
        """Open the job store (its table comes from the migrations), add the standing jobs, and
        start trying to lead."""
        self._store = repo.job_store(self._url)
        scheduler = AsyncIOScheduler(
            jobstores={"default": self._store},
            executors={"default": _Executor(self._handler)},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=UTC,
            event_loop=asyncio.get_running_loop(),
        )
        scheduler.start(paused=True)
        self._scheduler = scheduler
        self._standing("upkeep", "interval", seconds=self._upkeep)
        self._standing("break_overdue", CronTrigger(hour=0, minute=5, timezone=self._zone))
        self._task = asyncio.get_running_loop().create_task(self._lead_when_free())

    def _standing(self, job_id: str, trigger: Any, **kw: Any) -> None:
        assert self._scheduler is not None
        if self._scheduler.get_job(job_id) is not None:
            return
        with contextlib.suppress(ConflictingIdError):
            self._scheduler.add_job(JOB_FUNCTION, trigger, args=[job_id, ""], id=job_id, **kw)

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

    def at(self, kind: str, ref: str, when: datetime) -> None:
        """Run job ``kind:ref`` at ``when`` (replacing one of the same id)."""
        assert self._scheduler is not None
        self._scheduler.add_job(
            JOB_FUNCTION,
            "date",
            run_date=when,
            args=[kind, ref],
            id=f"{kind}:{ref}",
            replace_existing=True,
        )

    def cancel(self, kind: str, ref: str) -> None:
        """Drop job ``kind:ref`` if it is still waiting."""
        assert self._scheduler is not None
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(f"{kind}:{ref}")

    def jobs(self) -> list[tuple[str, datetime | None]]:
        """The stored jobs: (id, next run time)."""
        assert self._scheduler is not None
        return [(j.id, j.next_run_time) for j in self._scheduler.get_jobs()]

    async def stop(self) -> None:
        """Stop running jobs and give the lead up; stored jobs stay for the next leader."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        await self._lead.release()
        if self._store is not None:
            repo.dispose_job_store(self._store)
            self._store = None


__all__ = ["JOB_FUNCTION", "DialerScheduler", "JobHandler", "run_job"]
