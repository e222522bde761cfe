"""Which cti instances are alive (``cti_instances``), as the dialer asks when it counts the calls
another instance placed and that still ring: one only late noting itself (a busy machine) still
counts while it is connected to the database; one killed, or silent too long, does not."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from cti.db import instances
from cti.db.bus import GRACE, Listener
from cti.db.engine import Database
from cti.db.models import CtiInstance

A = "host:101:aaaaaa"


async def _late(db: Database, seconds: float) -> None:
    """Instance a last noted itself ``seconds`` ago."""
    async with db.sessions.begin() as s:
        await s.execute(
            sa.update(CtiInstance).values(
                seen_at=sa.func.now() - sa.text(f"interval '{seconds} seconds'")
            )
        )


async def _alive(db: Database) -> bool:
    async with db.sessions() as s:
        return bool(await s.scalar(sa.select(instances.alive(sa.literal(A)))))


async def test_a_late_instance_is_alive_while_connected_and_gone_once_it_is_not(
    db: Database, migrated_database: str
) -> None:
    async with Database(migrated_database, pool_size=1) as db_a:
        listener = Listener(db_a, lambda _m: None, A)
        listener.start()
        await asyncio.wait_for(listener.listening.wait(), 5)
        try:
            await instances.seen(db_a, A)
            assert await _alive(db)
            # Its beat is 5 s late: it is still there.
            await _late(db, 5)
            assert await _alive(db)
            # Connected, but silent for longer than the grace (it hangs): gone.
            await _late(db, (instances.GONE_AFTER + GRACE).total_seconds() + 1)
            assert not await _alive(db)
            await instances.seen(db_a, A)
            await _late(db, 5)
        finally:
            await listener.stop()
    # Its connections closed (as a kill -9 closes them): late by the same 5 s, it is gone.
    for _ in range(50):
        if not await _alive(db):
            break
        await asyncio.sleep(0.1)
    assert not await _alive(db)


async def test_an_instance_never_seen_is_not_alive(db: Database) -> None:
    assert not await _alive(db)
