"""The dialer's REST endpoints over real HTTP: supervisors run campaigns, agents work previews."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import sqlalchemy as sa

from cti.app import RunningService
from cti.domain.model import CampaignMode, CampaignStatus
from tests.dialer_service.conftest import add_leads, lead_rows, make_campaign
from tests.web.conftest import Client, client_factory, service, users

__all__ = ["client_factory", "service", "users"]


async def test_supervisor_runs_a_campaign_and_changes_its_pacing_audited(
    service: RunningService,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    db = service.runtime.db
    cid = await make_campaign(db, mode=CampaignMode.PROGRESSIVE, status=CampaignStatus.DRAFT)
    ana = await client_factory()
    await ana.login("ana", users["ana"])
    assert (await ana.post(f"api/v1/campaigns/{cid}/start")).status == 403

    sofia = await client_factory()
    await sofia.login("sofia", users["sofia"])
    resp = await sofia.post(f"api/v1/campaigns/{cid}/start")
    assert resp.status == 200 and (await resp.json())["status"] == "running"
    resp = await sofia.patch(
        f"api/v1/campaigns/{cid}/pacing",
        json={"mode": "predictive", "max_dial_ratio": 2.5, "abandon_cap": 0.02},
    )
    live = await resp.json()
    assert resp.status == 200, live
    assert live["mode"] == "predictive"
    assert live["abandon_cap"] == 0.02 and live["pacing"]["max_dial_ratio"] == 2.5
    bad = await sofia.patch(f"api/v1/campaigns/{cid}/pacing", json={"max_dial_ratio": 0.5})
    assert bad.status == 400 and (await bad.json())["field"] == "max_dial_ratio"
    assert (await sofia.post(f"api/v1/campaigns/{cid}/pause")).status == 200
    listed = await (await sofia.get("api/v1/campaigns")).json()
    assert listed["campaigns"][0]["status"] == "paused"
    assert (await sofia.post("api/v1/campaigns/999/start")).status == 404

    async with db.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT actor, action FROM audit_log WHERE subject = :s ORDER BY id"),
            {"s": f"campaign:{cid}"},
        )
        assert [tuple(r) for r in rows] == [
            ("sofia", "campaign.running"),
            ("sofia", "campaign.pacing"),
            ("sofia", "campaign.paused"),
        ]


async def test_the_campaign_list_answers_while_a_campaign_that_just_started_is_being_counted(
    service: RunningService,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    db = service.runtime.db
    cid = await make_campaign(db, mode=CampaignMode.PROGRESSIVE, status=CampaignStatus.DRAFT)
    await add_leads(db, cid, [(f"+1202555017{i}", None) for i in range(3)])
    sofia = await client_factory()
    await sofia.login("sofia", users["sofia"])
    # Hold the dialer in the middle of taking the campaign on: counting its leads waits for this.
    holder = await asyncpg.connect(service.database_url)
    try:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("LOCK TABLE leads IN ACCESS EXCLUSIVE MODE")
        start = asyncio.ensure_future(sofia.post(f"api/v1/campaigns/{cid}/start"))
        await asyncio.sleep(0.5)
        assert not start.done()
        resp = await sofia.get("api/v1/campaigns")
        listed = await resp.json()
        assert resp.status == 200, listed
        assert listed["campaigns"][0]["status"] == "running"
        assert listed["campaigns"][0]["live"] is None, "shown before its leads were counted"
        resp = await sofia.get(f"api/v1/campaigns/{cid}")
        assert resp.status == 200, await resp.text()
        await tx.rollback()
    finally:
        await holder.close()
    started = await asyncio.wait_for(start, 10)
    assert started.status == 200
    assert (await started.json())["live"]["leads_left"] == 3
    listed = await (await sofia.get("api/v1/campaigns")).json()
    assert listed["campaigns"][0]["live"]["leads_left"] == 3


async def test_agent_previews_skips_and_schedules_a_callback(
    service: RunningService,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    db = service.runtime.db
    # ana (telemarketing) works the support queue's campaigns
    cid = await make_campaign(db, mode=CampaignMode.PREVIEW, queue="support")
    await add_leads(db, cid, [("+12025550161", None), ("+12025550162", None)])
    ana = await client_factory()
    await ana.login("ana", users["ana"])
    first = (await (await ana.post(f"api/v1/campaigns/{cid}/preview/next")).json())["lead"]
    assert first["lead"]["phone"] == "+12025550161" and first["campaign"]["mode"] == "preview"
    assert first["debts"] == []
    lead = first["lead"]["id"]
    resp = await ana.post(f"api/v1/campaigns/{cid}/preview/{lead}/skip")
    assert resp.status == 200
    second = (await (await ana.post(f"api/v1/campaigns/{cid}/preview/next")).json())["lead"]
    assert second["lead"]["phone"] == "+12025550162", "a skipped lead waits for a later turn"
    assert (await (await ana.post(f"api/v1/campaigns/{cid}/preview/next")).json())["lead"] is None

    due = datetime.now(UTC) + timedelta(hours=2)
    resp = await ana.post(
        f"api/v1/campaigns/{cid}/leads/{second['lead']['id']}/callback",
        json={"due_at": due.isoformat(), "owner": "me"},
    )
    assert resp.status == 200, await resp.text()
    rows = await lead_rows(db, cid)
    assert rows["+12025550162"]["status"] == "callback"
    jobs = service.runtime.db
    async with jobs.engine.connect() as conn:
        ids = {r[0] for r in await conn.execute(sa.text("SELECT id FROM cti_dialer_jobs"))}
    assert f"callback:{(await resp.json())['callback_id']}" in ids
    bad = await ana.post(
        f"api/v1/campaigns/{cid}/leads/{lead}/postpone", json={"until": "tomorrow"}
    )
    assert bad.status == 400 and (await bad.json())["field"] == "until"
