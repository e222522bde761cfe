"""The dialer against the real thing: the PBX simulator over TCP, real PostgreSQL, manual time.

The dialer originates with its real channel template, ``Local/{number}@cti-dialer/n``, so every
call runs the simulator's model of ``[cti-dialer]`` (carrier leg, AMD, queue within the connect
limit, abandon message, UserEvents): the dialplan contract end to end.

A :class:`Stack` is one cti instance's dialer side (database, AMI links, dialer service); two stacks on
one database and one simulator are two cti instances. :class:`Dials` counts the calls the simulated
PBX actually placed, per number, from its own event stream.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cti.ami.service import AmiService
from cti.clock import Clock, FakeClock
from cti.config import Settings
from cti.db.engine import Database
from cti.db.models import Campaign, Lead
from cti.dialer.service import DialerService
from cti.domain.model import CampaignKind, CampaignMode, CampaignStatus
from cti.sim import PbxSimulator, TrafficModel
from cti.sim.traffic import Duration, OutboundCustomers
from tests.web.conftest import service_settings

ALL_DAY = [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59"}]
_DIAL = re.compile(rb"Channel: Local/([^@]+)@cti-dialer-[0-9a-f]+;1\r\n")


def fixed(seconds: float) -> Duration:
    return Duration(mean=seconds, spread=0.0)


def traffic(
    *,
    p_answer: float = 1.0,
    p_busy: float = 0.0,
    p_noanswer: float = 0.0,
    p_machine: float = 0.0,
    ring: float = 2.0,
    customer_talk: float = 300.0,
    handle: float = 30.0,
    wrapup: float = 2.0,
) -> TrafficModel:
    """No inbound calls; customers and simulated agents behave as told, with no randomness in time."""
    return TrafficModel(
        inbound_per_minute={},
        customers=OutboundCustomers(
            p_answer=p_answer,
            p_busy=p_busy,
            p_noanswer=p_noanswer,
            p_congestion=0.0,
            p_machine=p_machine,
            ring=fixed(ring),
            talk=fixed(customer_talk),
        ),
        talk=fixed(handle),
        agent_ring=fixed(0.5),
        agent_wrapup=fixed(wrapup),
        reserved_numbers=False,
    )


class Dials:
    """Originates the simulated PBX carried out, per dialled number (from its Newchannel events)."""

    def __init__(self, sim: PbxSimulator, clock: Callable[[], float] | None = None) -> None:
        self.per_number: Counter[str] = Counter()
        self.times: list[tuple[float, str]] = []
        self._sim = sim
        sim.pbx.listeners.append(self._on)

    def _on(self, cat: int, frame: bytes) -> None:
        if not frame.startswith(b"Event: Newchannel\r\n"):
            return
        m = _DIAL.search(frame)
        if m:
            number = m.group(1).decode()
            self.per_number[number] += 1
            self.times.append((self._sim.scheduler.now(), number))

    @property
    def total(self) -> int:
        return sum(self.per_number.values())


@dataclass
class Stack:
    """One instance's dialer side."""

    db: Database
    ami: AmiService
    dialer: DialerService
    clock: Clock
    closers: list[Any] = field(default_factory=list)

    async def close(self) -> None:
        await self.dialer.stop()
        await self.ami.__aexit__(None, None, None)
        await self.db.close()


def settings_for(sim: PbxSimulator) -> Settings:
    return service_settings(ami_port=sim.port)


async def open_stack(url: str, sim: PbxSimulator, clock: Clock, **dialer: Any) -> Stack:
    settings = settings_for(sim)
    db = Database(url, pool_size=4)
    ami = AmiService(settings.ami, clock=clock)
    await ami.__aenter__()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while ami.status()["pbx1"] != "connected":
        assert loop.time() < deadline, "AMI login"
        await asyncio.sleep(0.01)
    await ami.flush("pbx1")
    options: dict[str, Any] = {
        "tick_seconds": 0.05,
        "refresh_seconds": 0.2,
    }
    options.update(dialer)
    service = DialerService(settings, clock, db, ami, url, **options)
    await service.start()
    return Stack(db=db, ami=ami, dialer=service, clock=clock)


async def settle(stacks: Sequence[Stack], rounds: int = 3) -> None:
    """Let the stacks see what the simulator did and act on it (claims, originates, outcomes)."""
    for st in stacks:
        await st.dialer.refresh()
    for _ in range(rounds):
        for st in stacks:
            await st.ami.flush("pbx1")
            st.dialer.wake()
        await asyncio.sleep(0.03)
        for st in stacks:
            await st.dialer.pace()


async def step(
    sim: PbxSimulator, clock: FakeClock, stacks: Sequence[Stack], seconds: float
) -> None:
    """Move simulated time and cti's clock together, then settle."""
    clock.advance(seconds)
    await sim.advance(seconds)
    await settle(stacks)


async def make_campaign(
    db: Database,
    *,
    mode: CampaignMode = CampaignMode.PROGRESSIVE,
    queue: str = "sales",
    windows: Any = None,
    retry_rules: Any = None,
    status: CampaignStatus = CampaignStatus.RUNNING,
    ring_seconds: int = 20,
    name: str = "Spring",
    amd: bool = False,
) -> int:
    async with db.sessions.begin() as s:
        c = Campaign(
            name=name,
            kind=CampaignKind.TELESALES,
            mode=mode,
            status=status,
            queue=queue,
            caller_id="5550000",
            ring_seconds=ring_seconds,
            windows=ALL_DAY if windows is None else windows,
            retry_rules=retry_rules or {},
            amd=amd,
        )
        s.add(c)
        await s.flush()
        return int(c.id)


async def add_leads(
    db: Database, campaign_id: int, leads: Sequence[tuple[str, str | None]]
) -> dict[str, int]:
    """(phone, timezone) leads; returns their ids by phone."""
    ids: dict[str, int] = {}
    async with db.sessions.begin() as s:
        for phone, zone in leads:
            lead = Lead(campaign_id=campaign_id, phone=phone, timezone=zone)
            s.add(lead)
            await s.flush()
            ids[phone] = int(lead.id)
    return ids


async def lead_rows(db: Database, campaign_id: int) -> dict[str, dict[str, Any]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT * FROM leads WHERE campaign_id = :c ORDER BY id"), {"c": campaign_id}
        )
        return {r.phone: dict(r._mapping) for r in rows}


def monday(hour: int) -> datetime:
    return datetime(2026, 1, 5, hour, 0, tzinfo=UTC)


__all__ = [
    "ALL_DAY",
    "Dials",
    "Stack",
    "add_leads",
    "fixed",
    "lead_rows",
    "make_campaign",
    "monday",
    "open_stack",
    "settle",
    "step",
    "timedelta",
    "traffic",
]


@pytest.fixture
async def sim_factory() -> AsyncIterator[Callable[[TrafficModel], Any]]:
    made: list[PbxSimulator] = []

    async def make(model: TrafficModel) -> PbxSimulator:
        sim = PbxSimulator(manual_time=True, traffic=model, seed=3)
        await sim.start()
        made.append(sim)
        return sim

    yield make
    for sim in made:
        await sim.close()
