"""The pauses report: every pause of an agent at a desk (a break, lunch, cti's pause for missed
calls), its reason, how long it lasted, in the supervisor's language; a pause still going on
counts until now, a sign-out ends it. cti over TCP to the PBX simulator, real PostgreSQL.

A pause across a restart of cti stays one pause (tests/desk/test_desk_restart.py); the pause for
missed calls is written from a real Asterisk's events in tests/pbx/test_missed_calls.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from cti.app import RunningService
from cti.sim import PbxSimulator
from cti.web.desk_service import DESK_SERVICE

from .conftest import Client, DeskSocket, open_desk, until
from .test_missed_calls import ring_out
from .test_transfer_instances import other

__all__ = ["other"]

AtDesk = Callable[..., Awaitable[tuple[Client, DeskSocket]]]


async def pause_rows(sofia: Client, **query: str) -> list[dict[str, Any]]:
    resp = await sofia.get("/api/v1/reports/pauses", params=query)
    assert resp.status == 200, await resp.text()
    rows: list[dict[str, Any]] = (await resp.json())["rows"]
    return rows


async def test_the_pauses_report_says_who_paused_why_and_for_how_long(
    service: RunningService,
    sim: PbxSimulator,
    at_desk: AtDesk,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    ana, ws = await at_desk("ana")
    bruno, _ = await at_desk("bruno")
    sofia = await client_factory()
    assert (await sofia.login("sofia", users["sofia"])).status == 200
    assert await pause_rows(sofia) == []

    # Ana goes to lunch for a little over a second, and back; later a call rings her out.
    assert (await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
    await until(lambda: ws.state() == "paused", what="ana paused")
    await asyncio.sleep(1.2)
    assert (await ana.post("/api/v1/desk/resume")).status == 200
    await until(lambda: ws.state() == "ready", what="ana ready")
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=30)
    await sim.advance(0.2)
    await ring_out(sim, ws, 0)
    await until(lambda: ws.state() == "paused", what="ana paused for the missed call")
    assert (await ana.post("/api/v1/desk/resume")).status == 200
    await until(lambda: ws.state() == "ready", what="ana ready again")
    # Bruno is on a break, still.
    assert (await bruno.post("/api/v1/desk/pause", json={"reason": "break"})).status == 200

    def ana_done(rows: list[dict[str, Any]]) -> bool:
        return len([r for r in rows if r["operator"] == "Ana Lima"]) == 2 and any(
            r["operator"] == "Bruno Dias" for r in rows
        )

    rows: list[dict[str, Any]] = []
    for _ in range(50):  # the desk writes pauses behind its work: they land within moments
        rows = await pause_rows(sofia)
        if ana_done(rows):
            break
        await asyncio.sleep(0.1)
    by = {(r["operator"], r["reason"]): r for r in rows}
    assert set(by) == {
        ("Ana Lima", "lunch"),
        ("Ana Lima", "missed calls"),
        ("Bruno Dias", "break"),
    }
    lunch = by["Ana Lima", "lunch"]
    assert lunch["pauses"] == 1
    assert 1 <= lunch["paused_seconds"] <= 5
    assert lunch["longest_seconds"] == lunch["avg_pause_seconds"] == lunch["paused_seconds"]
    assert by["Ana Lima", "missed calls"]["pauses"] == 1
    # Bruno's break goes on: it counts until now, and grows.
    await asyncio.sleep(1.1)
    again = {(r["operator"], r["reason"]): r for r in await pause_rows(sofia)}
    assert again["Bruno Dias", "break"]["paused_seconds"] >= 1
    assert again["Ana Lima", "lunch"] == lunch  # ended: it stays as it was

    # In the supervisor's language: cti's own reason translated, the chart one series per reason.
    body = await (
        await sofia.get("/api/v1/reports/pauses", headers={"Accept-Language": "es"})
    ).json()
    assert body["title"] == "Pausas por operador y motivo"
    reasons = {r["reason"] for r in body["rows"]}
    assert "llamadas perdidas" in reasons and "lunch" in reasons
    series = {s["label"]: s for s in body["chart"]["series"]}
    assert series["llamadas perdidas"]["tone"] == "bad"
    assert series["lunch"]["data"] == [lunch["paused_seconds"], 0]  # a reason as named
    assert body["chart"]["labels"] == ["Ana Lima", "Bruno Dias"]

    # Bruno signs out of his phone: his break ends there.
    assert (await bruno.post("/api/v1/desk/signout", json={})).status == 200

    async def bruno_ended() -> bool:
        first = {(r["operator"], r["reason"]): r for r in await pause_rows(sofia)}
        await asyncio.sleep(1.1)
        later = {(r["operator"], r["reason"]): r for r in await pause_rows(sofia)}
        return first["Bruno Dias", "break"] == later["Bruno Dias", "break"]

    assert await bruno_ended()
    # A period before today holds none of them.
    assert await pause_rows(sofia, **{"from": "2026-01-01", "to": "2026-01-02"}) == []


async def test_a_desk_served_by_another_instance_keeps_its_pause(
    service: RunningService, other: RunningService, sim: PbxSimulator, at_desk: AtDesk
) -> None:
    """Ana's page moves to a second instance while she is at lunch (as a reverse proxy moves it):
    the first lets her desk go, her lunch stays one pause, going on."""
    ana, ws = await at_desk("ana")
    assert (await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
    await until(lambda: ws.state() == "paused", what="ana paused")
    await ws.close()
    there = Client(http=ana.http, base=other.url, csrf=ana.csrf)
    moved = await open_desk(there)
    try:
        await moved.next("snapshot", lambda m: m["desk"]["state"] == "paused")
        here = service.app[DESK_SERVICE]
        await until(lambda: here.agent_of(ana.user["id"]) is None, what="the desk let go here")
        await asyncio.sleep(0.3)  # what the first instance writes as it lets go
        async with service.runtime.db.direct.connection() as conn:
            rows = await conn.fetch(
                "SELECT reason, ended_at FROM agent_pauses WHERE operator_id = $1", ana.user["id"]
            )
        assert [(r["reason"], r["ended_at"]) for r in rows] == [("lunch", None)]
    finally:
        await moved.close()


async def test_an_agent_sees_her_time_paused_today_as_the_report_counts_it(
    service: RunningService,
    at_desk: AtDesk,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    ana, ws = await at_desk("ana")
    sofia = await client_factory()
    assert (await sofia.login("sofia", users["sofia"])).status == 200
    first = await ws.next("paused_today")
    assert (first["paused_today"]["seconds"], first["paused_today"]["since_ms"]) == (0, None)

    # A lunch: on her desk it runs from its start; once over it is what the report says.
    mark = len(ws.messages)
    assert (await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
    going = (await ws.next("paused_today", lambda m: m["paused_today"]["since_ms"], mark))[
        "paused_today"
    ]
    paused_since = (await ws.next("state", lambda m: m["state"] == "paused", mark))["since"]
    assert abs(going["since_ms"] - _ms(paused_since)) <= 1
    assert going["seconds"] == 0 and going["day_ends_ms"] > going["since_ms"]
    await asyncio.sleep(1.2)
    mark = len(ws.messages)
    assert (await ana.post("/api/v1/desk/resume")).status == 200
    ended = (await ws.next("paused_today", lambda m: m["paused_today"]["since_ms"] is None, mark))[
        "paused_today"
    ]
    (lunch,) = [r for r in await pause_rows(sofia) if r["operator"] == "Ana Lima"]
    assert ended["seconds"] == lunch["paused_seconds"] >= 1
    # Signed in again later (a reload, another day's sign-in), the desk shows it from the start.
    snapshot = (await open_desk(ana)).of("snapshot")[0]
    assert snapshot["desk"]["paused_today"]["seconds"] == lunch["paused_seconds"]


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)
