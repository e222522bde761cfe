"""One batch of the call log holds several calls: each ends as it did (answered, abandoned, lost),
what another writer stored first is kept, and a call that has not ended stays open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from cti.db.calllog import CallLog
from cti.db.engine import Database
from cti.db.models import Call
from cti.domain.events import LinkedId, UniqueId
from cti.domain.notices import AgentConnected, CallEnded, CallerJoined

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _joined(n: int, at: datetime) -> CallerJoined:
    return CallerJoined(
        pbx="pbx1",
        at=at,
        queue="support",
        uniqueid=UniqueId(f"17.{n}"),
        linkedid=LinkedId(f"17.{n}"),
        caller_num=f"+1202555010{n}",
        caller_name=f"Caller {n}",
        position=1,
    )


def _connected(n: int, at: datetime) -> AgentConnected:
    return AgentConnected(
        pbx="pbx1",
        at=at,
        queue="support",
        interface="PJSIP/agent1",
        member_name="Ana Lima",
        caller_num=f"+1202555010{n}",
        caller_name=f"Caller {n}",
        uniqueid=UniqueId(f"17.{n}"),
        linkedid=LinkedId(f"17.{n}"),
        hold_seconds=2,
        ring_seconds=2,
    )


def _ended(n: int, at: datetime, *, lost: bool = False) -> CallEnded:
    return CallEnded(
        pbx="pbx1",
        at=at,
        linkedid=LinkedId(f"17.{n}"),
        caller_num=f"+1202555010{n}",
        caller_name=f"Caller {n}",
        queue="support",
        agent=None,
        duration_seconds=30,
        cause=16,
        lost=lost,
    )


async def test_one_batch_ends_each_call_as_it_ended_and_keeps_what_was_stored(
    db: Database,
) -> None:
    log = CallLog(db, phone_of=lambda num: num or None, is_outbound=lambda _pbx, _id: False)
    # The desk stored call 1's answer first, a second earlier than the log will see it.
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.insert(Call),
            {
                "pbx": "pbx1",
                "uniqueid": "17.1",
                "direction": "inbound",
                "answered_at": T0 + timedelta(seconds=4),
                "operator_id": None,
            },
        )
    for n in (1, 2, 3, 4):
        log.on_notice(_joined(n, T0))
    log.on_notice(_connected(1, T0 + timedelta(seconds=5)))  # answered, then hung up
    log.on_notice(_connected(3, T0 + timedelta(seconds=5)))  # answered, then lost by the PBX
    log.on_notice(_ended(1, T0 + timedelta(seconds=40)))
    log.on_notice(_ended(2, T0 + timedelta(seconds=20)))  # nobody answered: abandoned
    log.on_notice(_ended(3, T0 + timedelta(seconds=50), lost=True))
    await log.flush()  # call 4 is still waiting

    async with db.sessions() as s:
        rows = {c.uniqueid: c for c in (await s.execute(sa.select(Call))).scalars()}
    assert sorted(rows) == ["17.1", "17.2", "17.3", "17.4"]
    outcomes = {u: (str(c.outcome) if c.outcome else None, c.ended_at) for u, c in rows.items()}
    assert outcomes == {
        "17.1": ("answered", T0 + timedelta(seconds=40)),
        "17.2": ("abandoned", T0 + timedelta(seconds=20)),
        "17.3": ("lost", T0 + timedelta(seconds=50)),
        "17.4": (None, None),
    }
    # What the desk stored first is kept; the log filled in the rest.
    assert rows["17.1"].answered_at == T0 + timedelta(seconds=4)
    assert rows["17.1"].ring_at == T0 and rows["17.1"].queue == "support"
    assert rows["17.2"].caller_id_name == "Caller 2" and rows["17.2"].answered_at is None

    log.on_notice(_ended(4, T0 + timedelta(seconds=90)))
    await log.flush()
    async with db.sessions() as s:
        last = (await s.execute(sa.select(Call).where(Call.uniqueid == "17.4"))).scalar_one()
    assert (str(last.outcome), last.ended_at) == ("abandoned", T0 + timedelta(seconds=90))
