"""Every queue call is in the call log, whoever answered it or nobody: answered by an agent (with
its times and outcome) or abandoned by a caller who hung up waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from cti.app import RunningService, running_service
from cti.db.models import Call
from cti.sim import PbxSimulator

from .web.conftest import service_settings


@pytest.fixture
async def sim() -> AsyncIterator[PbxSimulator]:
    async with PbxSimulator(manual_time=True) as simulator:
        yield simulator


@pytest.fixture
async def service(migrated_database: str, sim: PbxSimulator) -> AsyncIterator[RunningService]:
    settings = service_settings(ami_port=sim.port)
    async with running_service(settings, database_url=migrated_database, migrate=False) as svc:
        for _ in range(200):
            if svc.runtime.ami.status()["pbx1"] == "connected":
                break
            await asyncio.sleep(0.02)
        await svc.runtime.ami.flush("pbx1")
        yield svc


async def _calls(service: RunningService, want: int) -> list[Call]:
    for _ in range(200):
        async with service.runtime.db.sessions() as s:
            rows = list((await s.execute(sa.select(Call).order_by(Call.id))).scalars())
        if len(rows) >= want and all(r.ended_at is not None for r in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"call log: {[(r.queue, r.outcome, r.ended_at) for r in rows]}")


async def test_answered_and_abandoned_queue_calls_are_logged(
    service: RunningService, sim: PbxSimulator
) -> None:
    ami = service.runtime.ami
    sim.add_simulated_agent("support", "Local/201@sim-agent/n", "Sim Agent 201")
    await ami.flush("pbx1")
    sim.inbound_call("support", "+12025550150", "Answered Caller", talk_seconds=20)
    # Nobody serves sales: this caller gives up after 12 s.
    sim.inbound_call("sales", "+12025550151", "Patient Caller", talk_seconds=20, patience=12)
    for _ in range(60):
        await sim.advance(1)
        await ami.flush("pbx1")
    answered, abandoned = sorted(await _calls(service, 2), key=lambda c: c.queue or "")[::-1]
    assert (answered.queue, str(answered.outcome), answered.phone) == (
        "support",
        "answered",
        "+12025550150",
    )
    assert answered.agent_interface == "Local/201@sim-agent/n"
    assert answered.ring_at is not None and answered.answered_at is not None
    assert answered.ring_at <= answered.answered_at <= answered.ended_at  # type: ignore[operator]
    assert str(answered.direction) == "inbound"
    assert (abandoned.queue, str(abandoned.outcome), abandoned.answered_at) == (
        "sales",
        "abandoned",
        None,
    )
    assert abandoned.caller_id_name == "Patient Caller"
