"""What the dialplan reports decides the outcome: machines, abandons after the connect limit, and a
preview call put through to the agent who pressed dial; the desk's pop by linkedid."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from cti.clock import FakeClock
from cti.db.dialer import attempts_of
from cti.domain.model import CampaignMode
from cti.errors import UserInputError
from cti.sim import PbxSimulator
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


def count_events(sim: PbxSimulator, name: str) -> list[int]:
    seen = [0]
    prefix = f"Event: {name}\r\n".encode()

    def on(cat: int, frame: bytes) -> None:
        if frame.startswith(prefix):
            seen[0] += 1

    sim.pbx.listeners.append(on)
    return seen


async def test_a_machine_is_outcome_machine_and_no_live_answer(
    migrated_database: str, sim_factory: Callable[..., Any]
) -> None:
    sim = await sim_factory(traffic(p_machine=1.0, ring=2.0))
    rung = count_events(sim, "AgentCalled")
    clock = FakeClock(monday(15))
    sim.add_simulated_agent("sales", "Local/350@sim-agent/n", "Rosa")
    st = await open_stack(migrated_database, sim, clock)
    try:
        cid = await make_campaign(st.db, amd=True)
        await add_leads(st.db, cid, [("+12025550170", "America/New_York")])
        for _ in range(8):
            await step(sim, clock, [st], 1.0)
        (attempt,) = await attempts_of(st.db, cid)
        assert attempt["outcome"] == "machine" and attempt["answered_at"] is not None
        assert rung[0] == 0, "a machine never reaches an agent"
        figures = st.dialer.figures_of(cid)
        assert figures is not None
        assert (figures["live_answers"], figures["abandoned"]) == (0, 0)
        lead = (await lead_rows(st.db, cid))["+12025550170"]
        assert (lead["status"], lead["last_outcome"]) == ("retry", "machine")
    finally:
        await st.close()


async def test_no_agent_within_the_limit_is_the_dialplans_abandon(
    migrated_database: str, sim_factory: Callable[..., Any]
) -> None:
    sim = await sim_factory(traffic(ring=2.0))
    clock = FakeClock(monday(15))
    # The agent's phone rings 5 s: longer than the 2 s the law (and the dialplan) allows.
    sim.add_simulated_agent("sales", "Local/351@sim-agent/n", "Rosa", ring_seconds=5.0)
    st = await open_stack(migrated_database, sim, clock)
    try:
        cid = await make_campaign(st.db)
        await add_leads(st.db, cid, [("+12025550171", "America/New_York")])
        for _ in range(3):
            await step(sim, clock, [st], 1.0)
        assert (await attempts_of(st.db, cid))[0]["outcome"] is None, "still within the limit"
        for _ in range(3):
            await step(sim, clock, [st], 1.0)
        (attempt,) = await attempts_of(st.db, cid)
        assert attempt["outcome"] == "abandoned" and attempt["connected_at"] is None
        figures = st.dialer.figures_of(cid)
        assert figures is not None
        assert (figures["live_answers"], figures["abandoned"], figures["abandon_rate"]) == (
            1,
            1,
            1.0,
        )
    finally:
        await st.close()


async def test_preview_call_reaches_the_agent_who_pressed_dial_and_pops_by_linkedid(
    migrated_database: str, sim_factory: Callable[..., Any]
) -> None:
    sim = await sim_factory(traffic(ring=2.0, handle=20.0))
    rung = count_events(sim, "AgentCalled")
    dials = Dials(sim)
    clock = FakeClock(monday(15))
    mine, other = "Local/352@sim-agent/n", "Local/353@sim-agent/n"
    sim.add_simulated_agent("sales", other, "Otto")
    sim.add_simulated_agent("sales", mine, "Ana")
    st = await open_stack(migrated_database, sim, clock)
    two = await open_stack(migrated_database, sim, clock)
    try:
        cid = await make_campaign(st.db, mode=CampaignMode.PREVIEW)
        await add_leads(st.db, cid, [("+12025550172", "America/New_York")])
        pop = await st.dialer.preview_next(cid, "ana")
        assert pop is not None
        lead = pop["lead"]["id"]
        with pytest.raises(UserInputError) as caught:
            await st.dialer.preview_dial(cid, lead, "ana")  # no phone known for ana
        assert caught.value.field == "interface"
        await st.dialer.preview_dial(cid, lead, "ana", interface=mine)
        for _ in range(6):
            await step(sim, clock, [st], 1.0)
        # Ana's own phone rang first; the customer was dialled once she answered, straight
        # from her channel (no Local/…@cti-dialer customer leg, no queue).
        assert dials.total == 0
        (attempt,) = await attempts_of(st.db, cid)
        assert attempt["outcome"] == "answered" and attempt["connected_at"] is not None
        assert rung[0] == 0, "the queue was not used"
        assert not sim.pbx.queues["sales"].members[other].in_call

        async with st.db.engine.connect() as conn:
            linkedid = (
                await conn.execute(
                    sa.text("SELECT linkedid FROM attempts WHERE id = :a"), {"a": attempt["id"]}
                )
            ).scalar()
        assert linkedid
        for dialer in (st.dialer, two.dialer):  # the instance that placed it, and another one
            found = await dialer.pop_for_call(linkedid)
            assert found is not None
            assert found["lead"]["phone"] == "+12025550172"
            assert found["campaign"]["id"] == cid and found["debts"] == []
        assert await st.dialer.pop_for_call("1767625200.999") is None
    finally:
        await two.close()
        await st.close()
