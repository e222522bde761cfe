"""Scheduling support: the leader's advisory lock and APScheduler's job store.

APScheduler's jobs live in the table :data:`JOB_TABLE` (``cti.db.models.DialerJob``, made by the
migrations), reached through a synchronous psycopg engine (APScheduler 3's job stores are
synchronous): :func:`job_store`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cti.db.engine import Database, to_async_url
from cti.db.models import DialerJob

if TYPE_CHECKING:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

JOB_TABLE = DialerJob.__tablename__

# Session advisory lock held by the one instance that runs the scheduled jobs ("cti" "dlr").
LEADER_LOCK = 0x637469_646C72


class Leadership:
    """A session advisory lock on its own connection: held by the one instance running the jobs."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    async def try_acquire(self) -> bool:
        """Take the lock if free; True while this instance holds it."""
        if self._conn is not None:
            return True
        conn = await self._db.engine.connect()
        try:
            got = bool(
                (
                    await conn.execute(
                        sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK}
                    )
                ).scalar()
            )
            await conn.commit()
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def release(self) -> None:
        """Give the lock up (closing the connection would too)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK})
            await conn.commit()
        finally:
            await conn.close()


def job_store(database_url: str) -> SQLAlchemyJobStore:
    """APScheduler's SQLAlchemy job store on :data:`JOB_TABLE`, through a small psycopg pool."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    rest = to_async_url(database_url).partition("://")[2]
    engine = sa.create_engine(
        f"postgresql+psycopg://{rest}", pool_size=1, max_overflow=1, pool_pre_ping=True
    )
    return SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)


def dispose_job_store(store: SQLAlchemyJobStore) -> None:
    """Close the job store's connections."""
    store.engine.dispose()


__all__ = ["JOB_TABLE", "LEADER_LOCK", "Leadership", "dispose_job_store", "job_store"]
