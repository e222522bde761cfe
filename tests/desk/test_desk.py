"""The agent desk end to end: cti over TCP to the PBX simulator, real PostgreSQL, real WebSockets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from cti.app import RunningService
from cti.db.users import add_user
from cti.sim import PbxSimulator
from cti.web.desk_service import DESK_SERVICE

from .conftest import Client, DeskSocket, calls_rows, open_desk, until

AtDesk = Callable[..., Awaitable[tuple[Client, DeskSocket]]]


async def test_support_call_pops_at_one_agent_only_and_the_attention_keeps_the_call_times(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    await add_user(
        service.runtime.db,
        username="carol",
        password="carol-secret-1",
        role="operator",
        routines=["telemarketing"],
        extension="PJSIP/agent3",
        full_name="Carol Nunes",
    )
    desks = {
        "ana": await at_desk("ana"),
        "carol": await at_desk("carol", password="carol-secret-1"),
        "bruno": await at_desk("bruno"),
    }
    assert sim.pbx.queues["support"].members["PJSIP/agent1"].name == "Ana Lima"
    assert "PJSIP/agent3" in sim.pbx.queues["support"].members
    assert "PJSIP/agent2" in sim.pbx.queues["sales"].members  # bruno: telesales

    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=30)
    await sim.advance(0.2)
    # The queue rings one of the two support agents: that one is A, the other is B.
    a_name = await until(
        lambda: next((n for n, (_, ws) in desks.items() if ws.of("pop")), None), what="a pop"
    )
    ana, ana_ws = desks[a_name]
    others = [ws for n, (_, ws) in desks.items() if n != a_name]
    pop = (await ana_ws.next("pop"))["pop"]
    assert pop["status"] == "ringing"
    assert pop["customer"]["name"] == "Acme Supplies"
    assert pop["match"]["kind"] == "customer"
    assert pop["queue"] == "support"

    assert (await ana.post("/api/v1/desk/answer")).status == 200
    connected = await ana_ws.next("connected")
    assert connected["timer"]["ideal_seconds"] == (5 if a_name == "ana" else None)
    assert abs(connected["timer"]["started_ms"] - connected["now"]) < 5000
    attention = (await ana_ws.next("attention"))["attention"]
    assert attention["status"] == "pending"
    assert attention["customer_id"] == customers["acme"]
    assert attention["call"]["answered_at"] is not None
    assert attention["call"]["ended_at"] is None

    await sim.advance(30.5)  # the caller talks 30 s, then hangs up
    await ana_ws.next("call_ended")
    stored = await ana_ws.next(
        "attention", lambda m: m["attention"]["call"]["ended_at"] is not None
    )
    call = stored["attention"]["call"]
    assert call["outcome"] == "answered"
    assert datetime.fromisoformat(call["ring_at"]) <= datetime.fromisoformat(call["answered_at"])
    assert datetime.fromisoformat(call["answered_at"]) <= datetime.fromisoformat(call["ended_at"])
    resp = await ana.get(f"/api/v1/desk/attentions/{attention['id']}")
    assert (await resp.json())["call"]["ended_at"] == call["ended_at"]

    for ws in others:
        assert ws.of("pop") == [] and ws.of("connected") == [] and ws.of("attention") == []
    rows = await calls_rows(service.runtime.db)
    assert len(rows) == 1 and rows[0]["queue"] == "support"
    assert rows[0]["attention_id"] == attention["id"]
    assert rows[0]["operator_id"] == ana.user["id"]


async def test_the_attention_after_the_call_holds_when_it_rang_however_busy_the_database(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    """The desk writes a call's ring behind its pop (never making the pop wait); when the database
    is slow the call may be answered and ended before that write is done: the attention shown
    after the call holds when it rang all the same."""
    ana, ws = await at_desk("ana")
    desk = service.app[DESK_SERVICE]
    desk._writes.put("a slow write", partial(asyncio.sleep, 1.5))  # a busy database
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=5)
    await sim.advance(0.2)
    await ws.next("pop")
    assert (await ana.post("/api/v1/desk/answer")).status == 200
    await ws.next("connected")
    await sim.advance(5.5)
    stored = await ws.next("attention", lambda m: m["attention"]["call"]["ended_at"] is not None)
    call = stored["attention"]["call"]
    assert call["ring_at"] is not None
    assert datetime.fromisoformat(call["ring_at"]) <= datetime.fromisoformat(call["answered_at"])


async def test_caller_hanging_up_before_answer_updates_the_pop_and_logs_an_abandoned_call(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    sim.inbound_call("support", "2025550111", "Laura", patience=3.0)  # the contact, local format
    await sim.advance(0.2)
    pop = (await ws.next("pop"))["pop"]
    assert pop["match"] == {
        "kind": "contact",
        "id": customers["laura"],
        "name": "Laura Smith",
        "position": "Purchasing",
        "email": None,
        "label": None,
    }
    assert pop["customer"]["name"] == "Acme Supplies"
    await sim.advance(4.0)
    update = await ws.next("pop_update", lambda m: m["pop"]["status"] == "caller_hung_up")
    assert update["pop"]["id"] == pop["id"]
    found = await _abandoned_row(service)
    assert found["queue"] == "support" and found["operator_id"] == ana.user["id"]
    assert found["answered_at"] is None and found["ring_at"] <= found["ended_at"]
    assert ws.of("connected") == []


async def _abandoned_row(service: RunningService) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while loop.time() < deadline:
        rows = await calls_rows(service.runtime.db)
        if rows and rows[0]["outcome"] == "abandoned" and rows[0]["ring_at"] is not None:
            return rows[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no abandoned call logged: {rows}")


async def test_an_operator_cannot_read_anothers_pop_nor_call_supervisor_endpoints(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    at_desk: AtDesk,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    ana, ana_ws = await at_desk("ana")
    bruno, bruno_ws = await at_desk("bruno")
    sim.inbound_call("support", "+12025550101", "ACME")
    await sim.advance(0.2)
    pop = (await ana_ws.next("pop"))["pop"]

    mine = await ana.get(f"/api/v1/desk/pops/{pop['id']}")
    assert mine.status == 200 and (await mine.json())["pop"]["customer"]["name"] == "Acme Supplies"
    theirs = await bruno.get(f"/api/v1/desk/pops/{pop['id']}")
    assert theirs.status == 403
    assert "Acme" not in await theirs.text()
    assert bruno_ws.of("pop") == []

    for path in ("/api/v1/live", "/api/v1/desk/agents"):
        refused = await bruno.get(path)
        assert refused.status == 403, path
        assert (await refused.json())["error"] == "this needs the role supervisor"
    sofia = await client_factory()
    assert (await sofia.login("sofia", users["sofia"])).status == 200
    agents = await (await sofia.get("/api/v1/desk/agents")).json()
    assert {a["interface"] for a in agents["agents"]} == {"PJSIP/agent1", "PJSIP/agent2"}
    assert (await sofia.get(f"/api/v1/desk/pops/{pop['id']}")).status == 403


async def test_pause_with_a_reason_reaches_the_pbx_and_the_desk_sees_its_state(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    wrong = await ana.post("/api/v1/desk/pause", json={"reason": "nap"})
    assert wrong.status == 400
    assert (await wrong.json())["field"] == "reason"

    assert (await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
    member = sim.pbx.queues["support"].members["PJSIP/agent1"]
    assert member.paused and member.paused_reason == "lunch"
    state = await ws.next("state", lambda m: m["state"] == "paused")
    assert state["reason"] == "lunch"

    assert (await ana.post("/api/v1/desk/resume")).status == 200
    assert not member.paused
    await ws.next("state", lambda m: m["state"] == "ready")

    assert (await ana.post("/api/v1/desk/signout")).status == 200
    assert "PJSIP/agent1" not in sim.pbx.queues["support"].members
    assert (await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 409


async def test_take_over_closes_the_old_desk_takes_the_phone_out_of_the_queues(
    service: RunningService,
    sim: PbxSimulator,
    at_desk: AtDesk,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    old, old_ws = await at_desk("ana")
    assert "PJSIP/agent1" in sim.pbx.queues["support"].members
    other = await client_factory()
    told = await other.login("ana", users["ana"])
    assert told.status == 409
    assert "another desk" in (await told.json())["error"]
    assert (await other.login("ana", users["ana"], takeover=True)).status == 200
    await old_ws.next("taken_over")
    await asyncio.wait_for(old_ws.closed.wait(), 3)
    assert old_ws.ws.close_code == 4009
    assert (await old.get("/api/v1/desk")).status == 401

    # The old desk's phone left the queues: no call rings a desk nobody sits at.
    assert "PJSIP/agent1" not in sim.pbx.queues["support"].members
    new_ws = await open_desk(other)
    snap = new_ws.of("snapshot")[0]["desk"]
    assert not snap["signed_in"] and snap["queues"] == ["support"]
    assert (await other.post("/api/v1/desk/signin", json={})).status == 200
    assert "PJSIP/agent1" in sim.pbx.queues["support"].members
    await new_ws.close()


async def test_signing_out_of_cti_takes_the_phone_out_of_the_queues(
    service: RunningService, sim: PbxSimulator, at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    assert "PJSIP/agent1" in sim.pbx.queues["support"].members
    assert (await ana.post("/api/v1/logout")).status == 200
    await asyncio.wait_for(ws.closed.wait(), 3)
    assert "PJSIP/agent1" not in sim.pbx.queues["support"].members


async def test_reconnect_gets_a_snapshot_with_the_pop_and_the_running_timer(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await ws.next("pop")
    assert sim.answer("PJSIP/agent1")
    connected = await ws.next("connected")
    await ws.next("attention")
    await ws.close()

    again = await open_desk(ana)
    desk = again.of("snapshot")[0]["desk"]
    assert desk["pop"]["customer"]["name"] == "Acme Supplies"
    assert desk["state"] == "in_call"
    assert desk["timer"] == connected["timer"]
    assert desk["attention"]["status"] == "pending"
    await again.send({"type": "resync"})
    await again.next("snapshot", after=1)

    # Hang up from the desk: the agent's channel goes, the timer stops.
    assert (await ana.post("/api/v1/desk/hangup")).status == 200
    ended = await again.next("call_ended")
    assert ended["call"]["ended_ms"] >= connected["timer"]["started_ms"]
    # The call's end starts the wrap-up at once: the screen is not cleared before the
    # attention is disposed (whenever the Clear arrives).
    refused = await ana.post("/api/v1/desk/clear")
    assert refused.status == 409 and "after-call work" in (await refused.json())["error"]
    attention_id, seen = desk["attention"]["id"], len(again.messages)
    disposed = await ana.patch(f"/api/v1/desk/attentions/{attention_id}", json={"status": "closed"})
    assert disposed.status == 200
    await again.next("wrapup", lambda m: m["wrapup"] is None, after=seen)
    assert (await ana.post("/api/v1/desk/clear")).status == 200
    await again.next("cleared")
    snap = await (await ana.get("/api/v1/desk")).json()
    assert snap["desk"]["timer"] is None and snap["desk"]["pop"] is None
    assert snap["remote_answer"] is True
    assert snap["desk"]["footer"]["last_call"]["ended_by"] == "agent"
    await again.close()


async def test_desk_socket_needs_a_session_and_the_servers_origin(
    service: RunningService, users: dict[str, str], client_factory: Callable[[], Awaitable[Client]]
) -> None:
    anon = await client_factory()
    with pytest.raises(aiohttp.WSServerHandshakeError) as no_session:
        await open_desk(anon)
    assert no_session.value.status == 401
    ana = await client_factory()
    await ana.login("ana", users["ana"])
    with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
        await open_desk(ana, origin="http://evil.example")
    assert foreign.value.status == 403
    ws = await open_desk(ana)
    await ws.send({"type": "ping"})
    await ws.next("pong")
    # A message after sign-out: the session is checked again, the socket closed.
    await ana.post("/api/v1/logout")
    await asyncio.wait_for(ws.closed.wait(), 3)
    await ws.close()


async def test_the_desk_socket_is_not_compressed_even_when_the_browser_offers_it(
    service: RunningService, users: dict[str, str], client_factory: Callable[[], Awaitable[Client]]
) -> None:
    """A desk's frames are small and a call center opens thousands of desks: per-message deflate
    would keep a compressor (about 100 KB) for each socket in cti's memory."""
    ana = await client_factory()
    await ana.login("ana", users["ana"])
    ws = await ana.http.ws_connect(
        f"{ana.base}ws/desk", headers={"Origin": ana.base.rstrip("/")}, compress=15
    )
    try:
        assert ws.compress == 0  # offered, not taken
        assert (await ws.receive_json())["type"] == "snapshot"
    finally:
        await ws.close()


async def test_transfer_moves_the_caller_to_another_queue(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await ws.next("pop")
    assert (await ana.post("/api/v1/desk/answer")).status == 200
    await ws.next("connected")
    bad = await ana.post("/api/v1/desk/transfer", json={"exten": "5001", "context": "cti-spy"})
    assert bad.status == 400 and (await bad.json())["field"] == "context"
    assert (await ana.post("/api/v1/desk/transfer", json={"exten": "5001"})).status == 200
    ended = await ws.next("call_ended")
    assert ended["footer"]["last_call"]["ended_by"] == "transfer"
    await until(lambda: any(sim.pbx.queues["sales"].callers), what="the caller in sales")


async def test_unknown_caller_can_be_registered_as_a_suspect_and_the_pop_follows(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    sim.inbound_call("support", "+12025550177", "", talk_seconds=None)
    await sim.advance(0.2)
    pop = (await ws.next("pop"))["pop"]
    assert pop["known"] is False and pop["match"] is None
    assert (await ana.post("/api/v1/desk/answer")).status == 200
    attention = (await ws.next("attention"))["attention"]
    resp = await ana.post(
        "/api/v1/desk/register",
        json={"kind": "suspect", "name": "Peter Parker", "company": "Bugle"},
    )
    assert resp.status == 200, await resp.text()
    update = await ws.next("pop_update", lambda m: m["pop"]["known"])
    assert update["pop"]["match"]["name"] == "Peter Parker"
    linked = await ws.next("attention", lambda m: m["attention"]["suspect_id"] is not None)
    assert linked["attention"]["id"] == attention["id"]
    assert linked["attention"]["contact"] == "Peter Parker"


async def test_a_connected_call_shows_the_agents_next_planned_call_in_the_footer(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    bruno, _ = await at_desk("bruno")
    now = service.runtime.clock.now()
    planned = {
        # ana's: one overdue, two to come (the sooner is the footer's), one closed
        (ana.user["id"], "planned", now - timedelta(hours=2)),
        (ana.user["id"], "planned", now + timedelta(days=3)),
        (ana.user["id"], "planned", now + timedelta(days=1, hours=4)),
        (ana.user["id"], "closed", now + timedelta(hours=1)),
        # bruno's, sooner than all of ana's
        (bruno.user["id"], "planned", now + timedelta(minutes=30)),
    }
    async with service.runtime.db.engine.begin() as conn:
        for operator, status, at in planned:
            await conn.execute(
                sa.text(
                    "INSERT INTO attentions (kind, direction, status, operator_id, next_call_at)"
                    " VALUES ('telemarketing', 'inbound', :status, :operator, :at)"
                ),
                {"status": status, "operator": operator, "at": at},
            )

    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=30)
    await sim.advance(0.2)
    await ws.next("pop")
    assert (await ana.post("/api/v1/desk/answer")).status == 200
    shown = await ws.next("attention")
    assert shown["attention"]["next_call_at"] is None  # the call's own attention plans none
    due = datetime.fromisoformat(shown["footer"]["next_call"])
    assert due == now + timedelta(days=1, hours=4)
