"""Which cti instance holds each operator's desk: a lease in PostgreSQL, on the database's clock.

Every instance sees the whole PBX over its own AMI link, so any of them can hold any desk; one
holds it at a time, so that a call's pop is audited once and its attention opened once. The holder
renews its leases every second; a lease not renewed for :data:`LEASE` is taken over by another
instance once its holder is gone: killed (PostgreSQL closed its connections at once), or silent
for :data:`GRACE` more (it lost the database, or hangs). An instance only slow to renew (a busy
machine, a slow commit) keeps its desks, and its agents are not moved back and forth.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from cti.db.bus import GRACE, still_held
from cti.db.engine import Database
from cti.db.models import DeskHolder, Operator

LEASE = timedelta(seconds=3)


@dataclass(frozen=True, slots=True)
class Seat:
    """An operator at a desk, on whichever instance."""

    user_id: int
    full_name: str
    instance: str
    pbx: str
    interface: str


def _until() -> sa.ColumnElement[datetime]:
    return sa.func.now() + sa.literal(LEASE)


def _held() -> sa.ColumnElement[bool]:
    """The lease still holds: renewed within :data:`LEASE`, or its instance is still there."""
    return still_held(DeskHolder.held_until, DeskHolder.instance)


def _claim(force: bool) -> sa.Insert:
    ins = pg_insert(DeskHolder).values(held_until=_until())
    mine = DeskHolder.instance == ins.excluded.instance
    return ins.on_conflict_do_update(
        index_elements=[DeskHolder.user_id],
        set_={
            "instance": ins.excluded.instance,
            "pbx": ins.excluded.pbx,
            "interface": ins.excluded.interface,
            "held_until": ins.excluded.held_until,
        },
        where=None if force else sa.or_(mine, sa.not_(_held())),
    ).returning(DeskHolder.user_id)


# Built once, their values given as parameters: a statement built anew leaves its ``excluded``
# columns as garbage in reference cycles, freed only by a full collection.
_CLAIM = {force: _claim(force) for force in (False, True)}


async def claim(
    db: Database, user_id: int, instance: str, pbx: str, interface: str, *, force: bool
) -> bool:
    """Hold the operator's desk here. ``force``: whoever held it (the operator's page is here);
    otherwise only if nobody holds it, its lease ran out, or it is already ours. Whether held."""
    values = {"user_id": user_id, "instance": instance, "pbx": pbx, "interface": interface}
    async with db.sessions.begin() as s:
        return (await s.execute(_CLAIM[force], values)).scalar_one_or_none() is not None


async def renew(db: Database, instance: str) -> set[int]:
    """Renew this instance's leases; the operators whose desk it still holds."""
    stmt = (
        sa.update(DeskHolder)
        .where(DeskHolder.instance == instance)
        .values(held_until=_until())
        .returning(DeskHolder.user_id)
    )
    async with db.sessions.begin() as s:
        return set((await s.execute(stmt)).scalars())


async def release(db: Database, instance: str, user_ids: Iterable[int] | None = None) -> None:
    """Give up desks held here: ``user_ids`` (a sign-out: the row goes), or all of them (a clean
    stop: their leases end now, for another instance to take at once, though this one is still
    connected)."""
    async with db.sessions.begin() as s:
        if user_ids is None:
            await s.execute(
                sa.update(DeskHolder)
                .where(DeskHolder.instance == instance)
                .values(held_until=sa.func.now() - sa.literal(GRACE + timedelta(seconds=1)))
            )
            return
        ids = list(user_ids)
        if ids:
            await s.execute(
                sa.delete(DeskHolder).where(
                    DeskHolder.instance == instance, DeskHolder.user_id.in_(ids)
                )
            )


def _select(where: sa.ColumnElement[bool]) -> sa.Select[int, str | None, str, str, str]:
    return (
        sa.select(
            DeskHolder.user_id,
            Operator.full_name,
            DeskHolder.instance,
            DeskHolder.pbx,
            DeskHolder.interface,
        )
        .join(Operator, Operator.id == DeskHolder.user_id)
        .where(where)
        .order_by(DeskHolder.user_id)
    )


# Every instance reads these every second: built once.
_LAPSED = _select(sa.not_(_held()))
_HELD = _select(_held())
_OF = _select(DeskHolder.user_id == sa.bindparam("user_id"))


async def lapsed(db: Database) -> list[Seat]:
    """Desks whose holder is gone (or stopped cleanly), for another instance to take."""
    return await _seats(db, _LAPSED)


async def seats(db: Database) -> list[Seat]:
    """Every desk held by a live instance."""
    return await _seats(db, _HELD)


async def seats_of(db: Database, user_id: int) -> list[Seat]:
    """Where the operator's desk is held, or was last (a lease run out included)."""
    return await _seats(db, _OF, {"user_id": user_id})


async def _seats(
    db: Database,
    stmt: sa.Select[int, str | None, str, str, str],
    params: dict[str, int] | None = None,
) -> list[Seat]:
    # Plain columns, not ORM objects: every instance reads all the seats every second, and
    # 2,000 mapped objects a second cost the event loop tens of milliseconds each time.
    async with db.sessions() as s:
        rows = (await s.execute(stmt, params)).all()
    return [
        Seat(user_id=u, full_name=name or "", instance=i, pbx=p, interface=f)
        for u, name, i, p, f in rows
    ]
