"""Two cti instances on one database and one PBX; a scheduled callback across a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from cti.clock import FakeClock
from cti.db.dialer import JOB_TABLE, attempts_of, callbacks_of
from cti.domain.model import CampaignMode
from tests.dialer_service.conftest import (
    Dials,
    add_leads,
    lead_rows,
    make_campaign,
    monday,
    open_stack,
    step,
    traffic,
)


async def test_two_instances_never_dial_a_lead_twice(
    migrated_database: str, sim_factory: Callable[..., Any]
) -> None:
    sim = await sim_factory(
        traffic(p_answer=0.5, p_busy=0.2, p_noanswer=0.3, ring=2.0, handle=8.0, wrapup=1.0)
    )
    dials = Dials(sim)
    clock = FakeClock(monday(15))
    for i in range(8):
        sim.add_simulated_agent("sales", f"Local/33{i}@sim-agent/n", f"T{i}")
    one = await open_stack(migrated_database, sim, clock)
    two = await open_stack(migrated_database, sim, clock)
    stacks = [one, two]
    try:
        # Every retry waits a day: within the test each lead may be dialled once.
        day = 86400
        rules = {"after": {k: day for k in ("busy", "no_answer", "congestion", "abandoned")}}
        cid = await make_campaign(
            one.db, mode=CampaignMode.PREDICTIVE, ring_seconds=15, retry_rules=rules
        )
        phones = [f"+1312555{i:04d}" for i in range(60)]
        await add_leads(one.db, cid, [(p, "America/Chicago") for p in phones])
        for _ in range(40):
            await step(sim, clock, stacks, 1.0)
        assert dials.total >= 20
        assert one.dialer.placed_total > 0 and two.dialer.placed_total > 0
        twice = {n: c for n, c in dials.per_number.items() if c > 1}
        assert twice == {}, f"dialled more than once: {twice}"
        attempts = await attempts_of(one.db, cid)
        assert len(attempts) == dials.total
        assert len({a["lead_id"] for a in attempts}) == len(attempts)
        assert len({a["action_id"] for a in attempts}) == len(attempts)
    finally:
        for st in stacks:
            await st.close()


async def test_two_instances_together_place_one_call_per_free_agent(
    migrated_database: str, sim_factory: Callable[..., Any]
) -> None:
    # Nobody answers for a long while: every call placed stays ringing.
    sim = await sim_factory(traffic(p_answer=0.0, p_noanswer=1.0, ring=60.0))
    dials = Dials(sim)
    clock = FakeClock(monday(15))
    for i in range(2):
        sim.add_simulated_agent("sales", f"Local/35{i}@sim-agent/n", f"F{i}")
    one = await open_stack(migrated_database, sim, clock)
    two = await open_stack(migrated_database, sim, clock)
    stacks = [one, two]
    try:
        cid = await make_campaign(one.db, mode=CampaignMode.PROGRESSIVE, ring_seconds=40)
        await add_leads(one.db, cid, [(f"+1312555{i:04d}", "America/Chicago") for i in range(20)])
        for _ in range(5):
            await step(sim, clock, stacks, 1.0)
        # Two free agents: two calls in all, not two per instance.
        assert dials.total == 2, dials.per_number
    finally:
        for st in stacks:
            await st.close()


async def test_a_scheduled_callback_survives_a_restart(
    migrated_database: str, sim_factory: Callable[..., Any]
) -> None:
    sim = await sim_factory(traffic(ring=1.0, handle=5.0))
    dials = Dials(sim)
    clock = FakeClock(monday(15))
    sim.add_simulated_agent("sales", "Local/340@sim-agent/n", "Carla")
    first = await open_stack(migrated_database, sim, clock)
    phone = "+12025550142"
    try:
        cid = await make_campaign(first.db)
        ids = await add_leads(first.db, cid, [(phone, "America/Chicago")])
        due = clock.now() + timedelta(minutes=10)
        callback = await first.dialer.add_callback(cid, ids[phone], due, owner=None, actor="ana")
        for _ in range(3):
            await step(sim, clock, [first], 60.0)
        assert dials.total == 0, "a lead waiting for its callback is not dialled before it is due"
        assert (await lead_rows(first.db, cid))[phone]["status"] == "callback"
    finally:
        await first.close()

    async with first.db.__class__(migrated_database) as db, db.engine.connect() as conn:
        stored = await conn.execute(sa.text(f"SELECT id FROM {JOB_TABLE}"))
        assert f"callback:{callback}" in {r[0] for r in stored}

    clock.advance(15 * 60)  # the callback falls due while no cti runs
    second = await open_stack(migrated_database, sim, clock)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while dials.total == 0:
            assert loop.time() < deadline, "the callback was not dialled after the restart"
            await step(sim, clock, [second], 0.5)
        assert dials.per_number[phone] == 1
        done = await callbacks_of(second.db, cid)
        assert done[0]["id"] == callback and done[0]["done_at"] is not None
        assert second.dialer.scheduler.leading
    finally:
        await second.close()
