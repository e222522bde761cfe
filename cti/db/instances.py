"""The cti instances alive (``cti_instances``): each notes itself every second; one not seen for
:data:`GONE_AFTER` is gone once PostgreSQL no longer holds its connection (killed: its connections
close at once), or after :data:`cti.db.bus.GRACE` more (cut off from the database, or hung). An instance only
slow to note itself (a busy machine, a slow commit) is still alive."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import InstrumentedAttribute

from cti.db.bus import still_held
from cti.db.engine import Database
from cti.db.models import CtiInstance

GONE_AFTER = timedelta(seconds=3)


def alive(
    name: sa.ColumnElement[str | None] | InstrumentedAttribute[str | None],
) -> sa.ColumnElement[bool]:
    """Whether the instance ``name`` names is alive (a SQL condition): seen within
    :data:`GONE_AFTER`, or within :data:`cti.db.bus.GRACE` more and still connected."""
    return (
        sa.select(CtiInstance.name)
        .where(
            CtiInstance.name == name,
            still_held(CtiInstance.seen_at + sa.literal(GONE_AFTER), CtiInstance.name),
        )
        .exists()
    )


def _seen() -> sa.Insert:
    stmt = pg_insert(CtiInstance).values(seen_at=sa.func.now())
    return stmt.on_conflict_do_update(
        index_elements=[CtiInstance.name], set_={"seen_at": stmt.excluded.seen_at}
    )


# Built once (every instance runs it every second): a statement built anew leaves its
# ``excluded`` columns as garbage in reference cycles, freed only by a full collection.
_SEEN = _seen()


async def seen(db: Database, name: str) -> None:
    """Note the instance alive now."""
    async with db.sessions.begin() as s:
        await s.execute(_SEEN, {"name": name})


async def forget(db: Database, name: str | None = None) -> None:
    """Remove an instance that stopped cleanly (``name``), or those gone for a day."""
    where = (
        CtiInstance.name == name
        if name is not None
        else CtiInstance.seen_at < sa.func.now() - timedelta(days=1)
    )
    async with db.sessions.begin() as s:
        await s.execute(sa.delete(CtiInstance).where(where))
