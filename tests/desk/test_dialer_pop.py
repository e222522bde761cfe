"""A dialer call at the desk: the campaign's call reaches a free agent, whose pop shows the lead,
the campaign and the lead's debts (not the campaign's own caller id), and whose attention is an
outbound attention of that campaign and lead."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from cti.app import RunningService
from cti.db.models import Attempt, Attention, Campaign, Customer, Lead, Phone, Receivable
from cti.domain.model import CampaignKind, CampaignMode, CampaignStatus
from cti.domain.no_answer import MISSED_REASON
from cti.sim import PbxSimulator
from tests.desk.conftest import answering_customers, until
from tests.web.conftest import Client

ALL_DAY = [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59"}]


@pytest.fixture
async def sim() -> AsyncIterator[PbxSimulator]:
    """Every dialled customer answers after 2 s and talks for a minute."""
    traffic = answering_customers(ring=2.0, talk=60.0)
    async with PbxSimulator(manual_time=True, traffic=traffic) as simulator:
        yield simulator


@pytest.fixture
async def collection_call(
    service: RunningService,
    sim: PbxSimulator,
    at_desk: Callable[..., Any],
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> tuple[Client, Any, int, int]:
    """A progressive collection campaign started for ana (ready in support), its one lead a
    debtor who answers: the call rings ana's phone. Her client and desk socket, the campaign's
    and the debtor's ids."""
    db = service.runtime.db
    today = service.runtime.clock.now().date()
    async with db.sessions.begin() as s:
        debtor = Customer(code="C900", name="Grey Mill Ltd", region="US")
        s.add(debtor)
        await s.flush()
        s.add(Phone(phone="+12025550190", raw="(202) 555-0190", customer_id=debtor.id))
        s.add(
            Receivable(
                customer_id=debtor.id,
                invoice_number="INV-900",
                due_on=today - timedelta(days=40),
                amount=Decimal("812.40"),
            )
        )
        campaign = Campaign(
            name="Overdue 30+",
            kind=CampaignKind.COLLECTION,
            mode=CampaignMode.PROGRESSIVE,
            status=CampaignStatus.PAUSED,
            queue="support",
            caller_id="5550000",
            ring_seconds=20,
            windows=ALL_DAY,
            retry_rules={},
        )
        s.add(campaign)
        await s.flush()
        s.add(
            Lead(
                campaign_id=campaign.id,
                phone="+12025550190",
                name="Grey Mill Ltd",
                customer_id=debtor.id,
            )
        )
        cid, debtor_id = int(campaign.id), int(debtor.id)

    ana, ana_ws = await at_desk("ana")  # ready in support: the progressive dialer calls for her
    sofia = await client_factory()
    await sofia.login("sofia", users["sofia"])
    assert (await sofia.post(f"/api/v1/campaigns/{cid}/start", json={})).status == 200

    async def attempts() -> int:
        async with db.sessions() as s:
            return int(await s.scalar(sa.select(sa.func.count()).select_from(Attempt)) or 0)

    # The dialer places the call on its own clock; then the customer's leg runs on the PBX's.
    for _ in range(200):
        if await attempts():
            break
        await asyncio.sleep(0.05)
    for _ in range(20):
        await sim.advance(0.25)
        await service.runtime.ami.flush("pbx1")
        # PBX time stands still while the desk works: the connect limit (2 s) does not run out.
        if sim.pbx.queues["support"].members["PJSIP/agent1"].ringing:
            break
    return ana, ana_ws, cid, debtor_id


async def test_a_collection_campaign_call_pops_the_lead_with_its_debts(
    service: RunningService, sim: PbxSimulator, collection_call: tuple[Client, Any, int, int]
) -> None:
    db = service.runtime.db
    ana, ana_ws, cid, debtor_id = collection_call
    pop = (await ana_ws.next("pop"))["pop"]
    assert pop["campaign"]["campaign"]["name"] == "Overdue 30+"
    assert pop["campaign"]["lead"]["phone"] == "+12025550190"
    assert [d["invoice_number"] for d in pop["campaign"]["debts"]] == ["INV-900"]
    assert pop["campaign"]["debts"][0]["days_overdue"] == 40
    # The person is the lead's customer, found by the lead's number, not the campaign's caller id.
    assert pop["customer"]["name"] == "Grey Mill Ltd"
    assert pop["phone"] == "+12025550190"

    assert (await ana.post("/api/v1/desk/answer")).status == 200
    await sim.advance(0.1)
    await service.runtime.ami.flush("pbx1")
    attention = (await ana_ws.next("attention"))["attention"]
    async with db.sessions() as s:
        stored = await s.get(Attention, attention["id"])
        assert stored is not None
        assert (stored.campaign_id, stored.customer_id) == (cid, debtor_id)
        assert stored.lead_id is not None
        assert str(stored.direction) == "outbound" and str(stored.kind) == "collection"
        lead_status = (
            await s.execute(sa.select(Lead.status).where(Lead.campaign_id == cid))
        ).scalar_one()
    assert str(lead_status) != "new"


async def test_a_campaign_call_the_agent_lets_ring_is_abandoned_and_pauses_them(
    service: RunningService, sim: PbxSimulator, collection_call: tuple[Client, Any, int, int]
) -> None:
    """The customer answered and waits for ana, whose phone rings out the connect limit (2 s):
    the customer hears the abandon message, and ana is paused (her group's one missed call): the
    dialer counts no empty desk as a free agent."""
    _, ana_ws, _, _ = collection_call
    await ana_ws.next("pop")
    member = sim.pbx.queues["support"].members["PJSIP/agent1"]
    for _ in range(20):
        await sim.advance(0.25)
        await service.runtime.ami.flush("pbx1")
        if ana_ws.of("missed_pause"):
            break
    assert (await ana_ws.next("missed_pause"))["missed"] == 1
    await until(lambda: member.paused, what="ana paused")
    assert member.paused_reason == MISSED_REASON
    await ana_ws.next("pop_update", lambda m: m["pop"]["status"] == "caller_hung_up")


async def test_a_preview_call_rings_the_agent_who_dialled_and_the_desk_follows_it(
    service: RunningService,
    sim: PbxSimulator,
    at_desk: Callable[..., Any],
    customers: dict[str, int],
) -> None:
    db = service.runtime.db
    async with db.sessions.begin() as s:
        campaign = Campaign(
            name="Service follow-up",
            kind=CampaignKind.TELEMARKETING,
            mode=CampaignMode.PREVIEW,
            status=CampaignStatus.RUNNING,
            queue="support",
            caller_id="5550000",
            ring_seconds=20,
            windows=ALL_DAY,
            retry_rules={},
        )
        s.add(campaign)
        await s.flush()
        s.add(Lead(campaign_id=campaign.id, phone="+12025550101", name="Acme Supplies"))
        cid = int(campaign.id)

    ana, ana_ws = await at_desk("ana")
    lead = (await (await ana.post(f"/api/v1/campaigns/{cid}/preview/next", json={})).json())["lead"]
    assert lead["lead"]["name"] == "Acme Supplies"
    resp = await ana.post(f"/api/v1/campaigns/{cid}/preview/{lead['lead']['id']}/dial", json={})
    assert resp.status == 200, await resp.text()

    # The agent who pressed dial is rung first (their own phone); the customer once they answer.
    for _ in range(40):
        await sim.advance(0.25)
        await service.runtime.ami.flush("pbx1")
        if sim.pbx.queues["support"].members["PJSIP/agent1"].ringing or any(
            "PJSIP/agent1" in name for name in getattr(sim.pbx, "channels", {})
        ):
            break
    assert sim.answer("PJSIP/agent1")
    for _ in range(20):  # the customer answers after 2 s
        await sim.advance(0.25)
        await service.runtime.ami.flush("pbx1")
        if ana_ws.of("connected"):
            break
    connected = await ana_ws.next("connected")
    pop = connected["pop"]
    assert pop["campaign"]["campaign"]["name"] == "Service follow-up"
    assert pop["customer"]["id"] == customers["acme"]
    attention = (await ana_ws.next("attention"))["attention"]
    async with db.sessions() as s:
        stored = await s.get(Attention, attention["id"])
        assert stored is not None and stored.campaign_id == cid
        assert str(stored.direction) == "outbound"

    await sim.advance(61)  # the customer talks a minute, then hangs up
    await service.runtime.ami.flush("pbx1")
    ended = await ana_ws.next("call_ended")
    # (Talk time is measured on cti's clock, which this test does not move: only its end is.)
    assert ended["call"]["ended_at"] is not None
    assert ended["footer"]["last_call"] is not None
