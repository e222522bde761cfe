"""Which instance holds a desk (``desk_holders``): a lease that runs out does not move the desk
away from an instance that is only slow (still connected to the database); it does once that
instance is gone, has been silent too long, or gave its desks up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import sqlalchemy as sa

from cti.db.bus import Listener
from cti.db.desk import holders
from cti.db.engine import Database
from cti.db.models import DeskHolder
from cti.db.users import add_user

A, B = "host:101:aaaaaa", "host:202:bbbbbb"


async def _carla(db: Database) -> int:
    return await add_user(
        db,
        username="carla",
        password="a-long-enough-password-1",
        role="operator",
        routines=["telemarketing"],
        extension="PJSIP/agent1",
        full_name="Carla Souza",
    )


async def _late(db: Database, seconds: float) -> None:
    """The holder's renewals are ``seconds`` late: its lease ran out that long ago."""
    async with db.sessions.begin() as s:
        await s.execute(
            sa.update(DeskHolder).values(
                held_until=sa.func.now() - sa.text(f"interval '{seconds} seconds'")
            )
        )


@contextlib.asynccontextmanager
async def _instance_a_holding(url: str, user_id: int) -> AsyncIterator[Database]:
    """Instance a, on a database connection of its own, listening on the bus as every instance
    does, holds the user's desk; its connections close when the block ends."""
    async with Database(url, pool_size=1) as db_a:
        listener = Listener(db_a, lambda _m: None, A)
        listener.start()
        await asyncio.wait_for(listener.listening.wait(), 5)
        assert await holders.claim(db_a, user_id, A, "pbx1", "PJSIP/agent1", force=False)
        try:
            yield db_a
        finally:
            await listener.stop()


async def _holder(db: Database) -> list[tuple[str, str]]:
    return [(s.full_name, s.instance) for s in await holders.seats(db)]


async def test_a_slow_instance_keeps_its_desk_and_a_gone_one_loses_it(
    db: Database, migrated_database: str
) -> None:
    carla = await _carla(db)
    async with _instance_a_holding(migrated_database, carla):
        # Its renewals are late (a busy machine): the desk is still its own.
        await _late(db, 5)
        assert await _holder(db) == [("Carla Souza", A)]
        assert await holders.lapsed(db) == []
        assert not await holders.claim(db, carla, B, "pbx1", "PJSIP/agent1", force=False)
    # Instance a is gone (its connections closed, as a kill -9 closes them): b takes the desk.
    for _ in range(50):
        if await holders.lapsed(db):
            break
        await asyncio.sleep(0.1)
    assert [s.instance for s in await holders.lapsed(db)] == [A]
    assert await _holder(db) == []
    assert await holders.claim(db, carla, B, "pbx1", "PJSIP/agent1", force=False)
    assert await _holder(db) == [("Carla Souza", B)]


async def test_a_connected_instance_silent_too_long_or_stopping_gives_its_desk_up(
    db: Database, migrated_database: str
) -> None:
    carla = await _carla(db)
    async with _instance_a_holding(migrated_database, carla) as db_a:
        # Connected but silent for longer than the grace (it hangs): the desk is taken.
        await _late(db, holders.GRACE.total_seconds() + 1)
        assert [s.instance for s in await holders.lapsed(db)] == [A]
        # Renewed again, then stopped cleanly while still connected: taken at once.
        assert await holders.renew(db_a, A) == {carla}
        assert await _holder(db) == [("Carla Souza", A)]
        await holders.release(db_a, A)
        assert [s.instance for s in await holders.lapsed(db)] == [A]
        assert await holders.claim(db, carla, B, "pbx1", "PJSIP/agent1", force=False)
