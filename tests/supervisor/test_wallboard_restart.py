"""The wallboard's figures for today come from the call log at start: a restart of cti zeroes
nothing, and they equal what the reports say for the same day."""

from __future__ import annotations

import asyncio
import dataclasses
from contextlib import AsyncExitStack
from datetime import timedelta
from decimal import Decimal
from typing import Any

import aiohttp

from cti.app import RunningService, running_service
from cti.db.models import Attempt, Campaign, Lead
from cti.db.users import add_user
from cti.domain.model import CallOutcome, CampaignKind, CampaignMode, LeadStatus
from cti.sim import PbxSimulator
from tests.web.conftest import Client, service_settings

from .conftest import SimClock, agent_of, open_wallboard, queue_of, until

AGENT = "Local/101@sim-agent/n"


class Cti:
    """cti on the simulator's clock, stopped and started again on the same database."""

    def __init__(self, database_url: str, sim: PbxSimulator) -> None:
        settings = service_settings(ami_port=sim.port, remote_answer=True)
        supervisor = dataclasses.replace(settings.supervisor, timezone="UTC")
        self.settings = dataclasses.replace(settings, supervisor=supervisor)
        self.sim = sim
        self.database_url = database_url
        self._stack: AsyncExitStack | None = None

    async def start(self) -> RunningService:
        self._stack = AsyncExitStack()
        svc = await self._stack.enter_async_context(
            running_service(
                self.settings,
                clock=SimClock(self.sim),
                database_url=self.database_url,
                migrate=False,
            )
        )
        await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        await svc.runtime.ami.flush("pbx1")
        return svc

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None


async def _run(svc: RunningService, sim: PbxSimulator, seconds: int) -> None:
    """Let ``seconds`` pass on the simulator, cti reading each second's events before the next
    (cti stamps events when it receives them)."""
    for _ in range(seconds):
        await sim.advance(1)
        await svc.runtime.ami.flush("pbx1")


async def _dialled_today(svc: RunningService) -> int:
    """A campaign that dialled three leads a minute ago (all answered: two put through to an
    agent, one abandoned), as the dialer (on this instance or another) logged them."""
    now = svc.runtime.clock.now()
    async with svc.runtime.db.sessions.begin() as s:
        winter = Campaign(
            name="Winter",
            kind=CampaignKind.TELESALES,
            mode=CampaignMode.PREDICTIVE,
            queue="sales",
            abandon_cap=Decimal("0.03"),
        )
        s.add(winter)
        await s.flush()
        for i, outcome in enumerate(
            (CallOutcome.ANSWERED, CallOutcome.ANSWERED, CallOutcome.ABANDONED)
        ):
            lead = Lead(campaign_id=winter.id, phone=f"+1555100{i}", status=LeadStatus.DONE)
            s.add(lead)
            await s.flush()
            start = now - timedelta(seconds=60 - i)
            s.add(
                Attempt(
                    lead_id=lead.id,
                    campaign_id=winter.id,
                    action_id=f"orig-{i}",
                    started_at=start,
                    answered_at=start + timedelta(seconds=8),
                    connected_at=start + timedelta(seconds=9)
                    if outcome is CallOutcome.ANSWERED
                    else None,
                    ended_at=start + timedelta(seconds=30),
                    outcome=outcome,
                )
            )
        return winter.id


def _figures(frame: dict[str, Any]) -> dict[str, Any]:
    q = queue_of(frame, "support")
    a = agent_of(frame, AGENT)
    assert a is not None
    return {
        "queue": {k: q[k] for k in ("answered", "abandoned", "answered_within", "talk_seconds")},
        "queue_avg": (q["avg_wait_seconds"], q["avg_talk_seconds"], q["service_level"]),
        "agent": (a["calls_taken"], a["talk_seconds"]),
        "hourly": frame["hourly"],
        "totals": (frame["totals"]["answered"], frame["totals"]["abandoned"]),
    }


async def _add_vera_and_carlos(svc: RunningService) -> None:
    """Vera, a supervisor, and Carlos, an operator whose phone is ``AGENT``."""
    await add_user(
        svc.runtime.db,
        username="vera",
        password="vera-secret-1",
        role="supervisor",
        full_name="Vera Supervisor",
    )
    await add_user(
        svc.runtime.db,
        username="carlos",
        password="carlos-secret-1",
        role="operator",
        routines=["telemarketing"],
        interface=AGENT,
        full_name="Carlos Mota",
    )


async def _desk_restored(carlos: Client) -> None:
    """Wait for Carlos's desk to be back after a restart (restored from his phone's membership)."""
    for _ in range(250):
        desk = (await (await carlos.get("/api/v1/desk")).json())["desk"]
        if desk["signed_in"]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("Carlos's desk was not restored after the restart")


async def _report(client: Client, name: str, day: str) -> list[dict[str, Any]]:
    resp = await client.get(f"/api/v1/reports/{name}?from={day}&to={day}&tz=UTC")
    assert resp.status == 200, await resp.text()
    rows: list[dict[str, Any]] = (await resp.json())["rows"]
    return rows


async def test_a_restart_keeps_todays_figures_and_they_equal_the_reports(
    migrated_database: str, sim: PbxSimulator
) -> None:
    cti = Cti(migrated_database, sim)
    svc = await cti.start()
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    try:
        await _add_vera_and_carlos(svc)
        # Carlos's phone answers by itself; he sits at the desk (the call log names him).
        sim.add_simulated_agent("support", AGENT, "Carlos Mota")
        carlos = Client(
            http=aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)), base=svc.url
        )
        assert (await carlos.login("carlos", "carlos-secret-1")).status == 200
        assert (await carlos.post("/api/v1/desk/signin", json={})).status == 200
        vera = Client(http=http, base=svc.url)
        assert (await vera.login("vera", "vera-secret-1")).status == 200
        winter = await _dialled_today(svc)

        # C1 answered at once, talks 30 s; C2 waits while the agent talks and gives up at 10 s.
        sim.inbound_call("support", "+15550001", "C1", talk_seconds=30)
        await svc.runtime.ami.flush("pbx1")
        await _run(svc, sim, 1)
        sim.inbound_call("support", "+15550002", "C2", talk_seconds=40, patience=10)
        await svc.runtime.ami.flush("pbx1")
        await _run(svc, sim, 40)
        wb = await open_wallboard(vera)
        before = await wb.next(
            lambda f: (
                queue_of(f, "support")["answered"] == 1
                and queue_of(f, "support")["abandoned"] == 1
                and queue_of(f, "support")["talk_seconds"] == 30
            )
        )
        await wb.close()
        # Carlos closes C1's attention: his wrap-up ends and he takes calls again.
        desk = (await (await carlos.get("/api/v1/desk")).json())["desk"]
        closed = await carlos.patch(
            f"/api/v1/desk/attentions/{desk['attention']['id']}", json={"status": "closed"}
        )
        assert closed.status == 200, await closed.text()
        await _run(svc, sim, 1)
        await carlos.http.close()
        # His wrap-up (from C1's end to the attention's close) is on the board before the restart.
        wb = await open_wallboard(vera)
        wrapped = agent_of(await wb.next(lambda f: agent_of(f, AGENT)["wrapups"] == 1), AGENT)
        assert wrapped is not None  # its seconds depend on when the close lands: compared below
        await wb.close()

        # cti stopped (as SIGTERM stops it) and started again: the board shows the same day.
        await cti.stop()
        svc = await cti.start()
        vera = Client(http=http, base=svc.url)  # the same cookie: still signed in
        wb = await open_wallboard(vera)
        after = wb.frames[0]
        assert after["snapshot"] is True and after["day"] == before["day"]
        assert _figures(after) == _figures(before)
        assert _figures(after)["agent"] == (1, 30)
        seeded = agent_of(after, AGENT)
        assert seeded is not None
        assert (seeded["wrapups"], seeded["wrapup_seconds"]) == (1, wrapped["wrapup_seconds"])
        # The campaign's attempts of the day, read from the database at start.
        (day_row,) = [c for c in after["campaign_day"] if c["id"] == winter]
        assert (day_row["attempts"], day_row["connected"], day_row["abandoned"]) == (3, 2, 1)

        # A call after the restart adds to them (and nothing is counted twice). It comes once
        # Carlos's desk is back (restored from his phone's queue membership); a call answered
        # while cti is still restoring it is another case than this test's.
        carlos = Client(
            http=aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)), base=svc.url
        )
        assert (await carlos.login("carlos", "carlos-secret-1")).status == 200
        await _desk_restored(carlos)
        await carlos.http.close()
        sim.inbound_call("support", "+15550003", "C3", talk_seconds=15)
        await svc.runtime.ami.flush("pbx1")
        await _run(svc, sim, 20)
        later = await wb.next(lambda f: queue_of(f, "support")["talk_seconds"] == 45)
        q = queue_of(later, "support")
        assert (q["answered"], q["abandoned"]) == (2, 1)
        assert _figures(later)["agent"] == (2, 45)
        await wb.close()

        # What the reports say for the same day. The board counts a call from the PBX's events
        # as they come; the reports read what the desk and the call log wrote for it, which
        # lands a moment later (the simulated call took milliseconds): read once it has landed.
        day = later["day"]
        for _ in range(100):
            (queue_row,) = [
                r for r in await _report(vera, "queues", day) if r["queue"] == "support"
            ]
            (carlos_row,) = [
                r
                for r in await _report(vera, "productivity", day)
                if r["operator"] == "Carlos Mota"
            ]
            if (queue_row["answered"], carlos_row["calls"]) == (2, 2):
                break
            await asyncio.sleep(0.05)
        assert queue_row["answered"] == q["answered"]
        assert queue_row["abandoned"] == q["abandoned"]
        assert queue_row["talk_seconds"] == q["talk_seconds"]
        assert (carlos_row["calls"], carlos_row["talk_seconds"]) == _figures(later)["agent"]
        board = agent_of(later, AGENT)
        assert board is not None
        assert (carlos_row["wrapups"], carlos_row["wrapup_seconds"]) == (
            board["wrapups"],
            board["wrapup_seconds"],
        )
        (campaign_row,) = await _report(vera, "campaigns", day)
        assert {k: campaign_row[k] for k in ("attempts", "answered", "connected", "abandoned")} == {
            k: day_row[k] for k in ("attempts", "answered", "connected", "abandoned")
        }
    finally:
        await http.close()
        await cti.stop()


async def test_time_paused_today_survives_a_restart_and_equals_the_productivity_report(
    migrated_database: str, sim: PbxSimulator
) -> None:
    cti = Cti(migrated_database, sim)
    svc = await cti.start()
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    carlos = Client(
        http=aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)), base=svc.url
    )
    try:
        await _add_vera_and_carlos(svc)
        sim.add_simulated_agent("support", AGENT, "Carlos Mota")
        assert (await carlos.login("carlos", "carlos-secret-1")).status == 200
        assert (await carlos.post("/api/v1/desk/signin", json={})).status == 200
        vera = Client(http=http, base=svc.url)
        assert (await vera.login("vera", "vera-secret-1")).status == 200
        wb = await open_wallboard(vera)
        fresh = agent_of(await wb.next(lambda f: agent_of(f, AGENT) is not None), AGENT)
        assert fresh is not None
        assert (fresh["pause_seconds"], fresh["paused_since_ms"]) == (0, None)

        # Lunch for 60 s, back at the desk, then a break going on for 30 s.
        assert (await carlos.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
        await _run(svc, sim, 60)
        assert (await carlos.post("/api/v1/desk/resume", json={})).status == 200
        await _run(svc, sim, 5)
        assert (await carlos.post("/api/v1/desk/pause", json={"reason": "break"})).status == 200
        await _run(svc, sim, 30)
        break_began = int(svc.runtime.clock.now().timestamp() * 1000) - 30_000
        paused = agent_of(
            await wb.next(lambda f: (agent_of(f, AGENT) or {}).get("paused_since_ms") is not None),
            AGENT,
        )
        assert paused is not None and paused["state"] == "paused"
        assert paused["pause_seconds"] == 60
        assert abs(paused["paused_since_ms"] - break_began) <= 1000
        await wb.close()

        # cti restarts during the break: the lunch comes back from the database, the break goes on
        # from its start (the PBX holds Carlos paused).
        await cti.stop()
        svc = await cti.start()
        vera = Client(http=http, base=svc.url)
        carlos = Client(http=carlos.http, base=svc.url)
        assert (await carlos.login("carlos", "carlos-secret-1")).status == 200
        await _desk_restored(carlos)
        wb = await open_wallboard(vera)
        after = agent_of(wb.frames[0], AGENT)
        assert after is not None and after["state"] == "paused"
        assert after["pause_seconds"] == 60
        assert after["paused_since_ms"] is not None
        assert abs(after["paused_since_ms"] - break_began) <= 1000

        # Back from the break after 30 s more: 60 + 60 s paused today, as the report says.
        await _run(svc, sim, 30)
        assert (await carlos.post("/api/v1/desk/resume", json={})).status == 200
        await _run(svc, sim, 1)
        ready = agent_of(
            await wb.next(lambda f: (agent_of(f, AGENT) or {}).get("paused_since_ms") is None),
            AGENT,
        )
        assert ready is not None and ready["state"] == "ready"
        assert abs(ready["pause_seconds"] - 120) <= 1
        await wb.close()
        day = wb.frames[-1]["day"]
        for _ in range(100):
            (row,) = [
                r
                for r in await _report(vera, "productivity", day)
                if r["operator"] == "Carlos Mota"
            ]
            if row["paused_seconds"] >= 119:
                break
            await asyncio.sleep(0.05)
        assert row["paused_seconds"] == ready["pause_seconds"]
    finally:
        await carlos.http.close()
        await http.close()
        await cti.stop()
