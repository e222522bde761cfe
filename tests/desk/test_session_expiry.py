"""A session whose time is up ends as signing out would: the desk closes, the phone leaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest

from cti.app import RunningService, running_service
from cti.clock import FakeClock
from cti.sim import PbxSimulator
from cti.web import session_api
from tests.web.conftest import service_settings

from .conftest import SignedInDesk, until

AtDesk = Callable[..., Awaitable[SignedInDesk]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
async def service(
    migrated_database: str, sim: PbxSimulator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RunningService]:
    """cti on a clock the test moves (sessions last ``server.session_hours`` of it)."""
    monkeypatch.setattr(session_api, "SWEEP_SECONDS", 0.05)
    settings = service_settings(ami_port=sim.port, remote_answer=True)
    async with running_service(
        settings, clock=clock, database_url=migrated_database, migrate=False
    ) as svc:
        await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        await svc.runtime.ami.flush("pbx1")
        yield svc


async def test_an_expired_session_closes_the_desk_and_takes_the_phone_out_of_the_queues(
    service: RunningService, sim: PbxSimulator, clock: FakeClock, at_desk: AtDesk
) -> None:
    hours = service.runtime.settings.server.session_hours
    ana, ws = await at_desk("ana")
    assert "PJSIP/agent1" in sim.pbx.queues["support"].members

    clock.advance(hours * 3600 - 60)  # a minute before the end: nothing happens
    await asyncio.sleep(0.3)
    assert not ws.closed.is_set()
    assert "PJSIP/agent1" in sim.pbx.queues["support"].members
    assert (await ana.get("/api/v1/desk")).status == 200

    # Bruno signs in now; two minutes later ana's session has run out, his has not.
    bruno, bruno_ws = await at_desk("bruno")
    bruno_queues = [name for name, q in sim.pbx.queues.items() if "PJSIP/agent2" in q.members]
    assert bruno_queues
    clock.advance(120)
    await asyncio.wait_for(ws.closed.wait(), 3)
    assert ws.ws.close_code == 4001
    assert (await ana.get("/api/v1/desk")).status == 401
    await until(
        lambda: "PJSIP/agent1" not in sim.pbx.queues["support"].members, what="ana's phone out"
    )
    await asyncio.sleep(0.2)
    assert not bruno_ws.closed.is_set()
    assert (await bruno.get("/api/v1/desk")).status == 200
    assert all("PJSIP/agent2" in sim.pbx.queues[name].members for name in bruno_queues)
