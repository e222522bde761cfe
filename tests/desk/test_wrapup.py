"""After-call work at the desk: cti over TCP to the PBX simulator, real PostgreSQL, real sockets.

When a call ends the agent is in wrap-up (their member paused for it: the queue offers them no
call) until they dispose the attention as their group asks; the group's maximum wrap-up time
releases them, the attention left pending and flagged. Each wrap-up is recorded for the reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa

from cti.app import RunningService
from cti.db.engine import Database
from cti.db.models import ClosingReason
from cti.domain.commands import Redirect, Setvar
from cti.domain.notices import CallKind
from cti.domain.transfer import TARGET_VARIABLE, TRANSFER_CONTEXT
from cti.domain.wrapup import WRAPUP_REASON
from cti.sim import PbxSimulator

from .conftest import Client, DeskSocket, admin_and_fast_group, until

AtDesk = Callable[..., Awaitable[tuple[Client, DeskSocket]]]


async def set_group(db: Database, *, needs: str = "status", max_seconds: int | None = None) -> None:
    """The wrap-up rule of ana's group (Fast)."""
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "UPDATE attention_groups SET wrapup_needs = :n, max_wrapup_seconds = :m"
                " WHERE name = 'Fast'"
            ),
            {"n": needs, "m": max_seconds},
        )


async def wrapups(db: Database) -> list[dict[str, Any]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT * FROM wrapups ORDER BY id"))
        return [dict(r._mapping) for r in rows]


async def talk_and_hang_up(
    sim: PbxSimulator, ana: Client, ws: DeskSocket, number: str = "+12025550101"
) -> dict[str, Any]:
    """A support call rings ana, she answers, the caller hangs up after 10 s: its attention."""
    sim.inbound_call("support", number, "ACME", talk_seconds=10)
    await sim.advance(0.2)
    pop = await ws.next("pop", lambda m: m["pop"]["phone"] == number)
    assert (await ana.post("/api/v1/desk/answer")).status == 200
    attention: dict[str, Any] = (
        await ws.next("attention", lambda m: m["attention"]["call"]["answered_at"] is not None)
    )["attention"]
    assert attention["call"]["caller"] is not None and pop["pop"]["status"] == "ringing"
    await sim.advance(10.5)
    await ws.next("call_ended")
    return attention


async def test_a_call_that_ends_puts_the_agent_in_wrap_up_until_the_attention_is_disposed(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    db = service.runtime.db
    await set_group(db, needs="reason")
    ana, ws = await at_desk("ana")
    attention = await talk_and_hang_up(sim, ana, ws)

    wrap = (await ws.next("wrapup", lambda m: m["wrapup"] is not None))["wrapup"]
    assert wrap["attention_id"] == attention["id"] and wrap["needs"] == "reason"
    assert wrap["until_ms"] is None and wrap["then"] == "ready"
    assert "status" in wrap["todo"] and "closing reason" in wrap["todo"]
    await until(lambda: ws.state() == "wrap_up", what="wrap-up")
    member = sim.pbx.queues["support"].members["PJSIP/agent1"]
    assert member.paused and member.paused_reason == WRAPUP_REASON

    # A caller waiting meanwhile is not offered to ana, however long the queue waits.
    sim.inbound_call("support", "+12025550111", "Laura", talk_seconds=5)
    await sim.advance(30.0)
    assert [m for m in ws.of("pop") if m["pop"]["phone"] == "+12025550111"] == []
    assert ws.state() == "wrap_up"

    # Finishing before disposing is refused, saying what is missing; so is clearing the screen.
    early = await ana.post("/api/v1/desk/wrapup/finish")
    assert early.status == 409 and "status" in (await early.json())["error"]
    cleared = await ana.post("/api/v1/desk/clear")
    assert cleared.status == 409 and "after-call work" in (await cleared.json())["error"]

    # A status without the closing reason the group asks for: still in wrap-up, told what's left.
    saved = await ana.patch(f"/api/v1/desk/attentions/{attention['id']}", json={"status": "closed"})
    assert saved.status == 200
    left = await ws.next("wrapup", lambda m: m["wrapup"] and "status" not in m["wrapup"]["todo"])
    assert left["wrapup"]["todo"] == "pick the attention's closing reason, then save it"
    assert member.paused and ws.state() == "wrap_up"

    async with db.sessions.begin() as s:
        solved = ClosingReason(name="Solved on the call")
        s.add(solved)
        await s.flush()
        reason = solved.id
    saved = await ana.patch(
        f"/api/v1/desk/attentions/{attention['id']}", json={"closing_reason_id": reason}
    )
    assert saved.status == 200
    await ws.next("wrapup", lambda m: m["wrapup"] is None and not m["released"])
    # Ready again: the waiting caller rings her now.
    await ws.next("pop", lambda m: m["pop"]["phone"] == "+12025550111")
    assert not member.paused or member.paused_reason != WRAPUP_REASON

    recorded = await _one_wrapup(db)
    assert recorded["operator_id"] == ana.user["id"] and recorded["attention_id"] == attention["id"]
    assert not recorded["released"] and recorded["seconds"] >= 0


async def _recorded(db: Database, count: int) -> list[dict[str, Any]]:
    """The wrap-ups recorded once there are ``count`` (written as the PBX ends them)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    rows = await wrapups(db)
    while len(rows) < count:
        if loop.time() > deadline:
            raise AssertionError(f"{count} wrap-ups not recorded: {rows}")
        await asyncio.sleep(0.02)
        rows = await wrapups(db)
    assert len(rows) == count, rows
    return rows


async def _one_wrapup(db: Database) -> dict[str, Any]:
    [row] = await _recorded(db, 1)
    return row


async def test_an_agent_paused_before_goes_back_to_that_pause_and_may_pause_during_wrap_up(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    attention = await talk_and_hang_up(sim, ana, ws)
    await until(lambda: ws.state() == "wrap_up", what="wrap-up")
    # Pausing now takes effect when the wrap-up ends; the desk says so.
    assert (await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
    await ws.next("wrapup", lambda m: m["wrapup"] and m["wrapup"]["then"] == "paused (lunch)")
    assert ws.state() == "wrap_up"
    saved = await ana.patch(
        f"/api/v1/desk/attentions/{attention['id']}", json={"status": "cancelled"}
    )
    assert saved.status == 200
    await until(lambda: ws.state() == "paused", what="paused after wrap-up")
    member = sim.pbx.queues["support"].members["PJSIP/agent1"]
    assert member.paused and member.paused_reason == "lunch"
    not_now = await ana.post("/api/v1/desk/wrapup/finish")
    assert not_now.status == 409


async def test_an_attention_disposed_during_the_call_leaves_no_wrap_up_to_finish(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=10)
    await sim.advance(0.2)
    await ws.next("pop")
    assert (await ana.post("/api/v1/desk/answer")).status == 200
    attention = (
        await ws.next("attention", lambda m: m["attention"]["call"]["answered_at"] is not None)
    )["attention"]
    saved = await ana.patch(f"/api/v1/desk/attentions/{attention['id']}", json={"status": "closed"})
    assert saved.status == 200
    await sim.advance(10.5)
    await ws.next("call_ended")
    # Ready again by itself: the next caller rings her without a Finish.
    await until(lambda: ws.state() == "ready", what="ready after the call")
    assert ws.of("wrapup")[-1]["wrapup"] is None
    sim.inbound_call("support", "+12025550111", "Laura", talk_seconds=5)
    await sim.advance(0.5)
    await ws.next("pop", lambda m: m["pop"]["phone"] == "+12025550111")


async def test_the_groups_maximum_wrap_up_time_releases_the_agent_and_flags_the_attention(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    db = service.runtime.db
    await set_group(db, max_seconds=1)
    ana, ws = await at_desk("ana")
    attention = await talk_and_hang_up(sim, ana, ws)
    wrap = (await ws.next("wrapup", lambda m: m["wrapup"] is not None))["wrapup"]
    assert wrap["max_seconds"] == 1 and wrap["until_ms"] == wrap["started_ms"] + 1000
    await ws.next("wrapup", lambda m: m["wrapup"] is None and m["released"])
    await until(lambda: ws.state() == "ready", what="released")
    flagged = await ws.next("attention", lambda m: m["attention"]["wrapup_overrun"])
    assert flagged["attention"]["status"] == "pending"
    recorded = await _one_wrapup(db)
    assert recorded["released"] and recorded["attention_id"] == attention["id"]


async def test_an_admin_sets_a_groups_wrap_up_and_bad_values_are_named(
    service: RunningService,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    admin, fast = await admin_and_fast_group(users, client_factory)
    assert (fast["wrapup_needs"], fast["max_wrapup_seconds"]) == ("status", None)
    path = f"/api/v1/config/attention-groups/{fast['id']}"
    resp = await admin.patch(path, json={"wrapup_needs": "reason", "max_wrapup_seconds": 90})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["max_wrapup_seconds"] == 90
    for bad, field in (
        ({"wrapup_needs": "mood"}, "wrapup_needs"),
        ({"max_wrapup_seconds": 0}, "max_wrapup_seconds"),
    ):
        resp = await admin.patch(path, json=bad)
        assert resp.status == 400 and (await resp.json())["field"] == field
    resp = await admin.post("/api/v1/config/pause-reasons", json={"name": WRAPUP_REASON})
    assert resp.status == 400 and (await resp.json())["field"] == "name"
    resp = await admin.patch(path, json={"max_wrapup_seconds": None})
    assert resp.status == 200 and (await resp.json())["max_wrapup_seconds"] is None


async def test_the_productivity_report_and_the_wallboard_agree_on_calls_and_wrap_up_time(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    at_desk: AtDesk,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    db = service.runtime.db
    await set_group(db, max_seconds=1)
    ana, ws = await at_desk("ana")
    # One wrap-up ended by disposing the attention, one by the maximum time.
    first = await talk_and_hang_up(sim, ana, ws)
    await until(lambda: ws.state() == "wrap_up", what="first wrap-up")
    resp = await ana.patch(f"/api/v1/desk/attentions/{first['id']}", json={"status": "closed"})
    assert resp.status == 200
    await ws.next("wrapup", lambda m: m["wrapup"] is None)
    await until(lambda: ws.state() == "ready", what="ready after the first")
    mark = len(ws.messages)
    await talk_and_hang_up(sim, ana, ws, "+12025550111")
    await ws.next("wrapup", lambda m: m["wrapup"] is None and m["released"], after=mark)
    await until(lambda: ws.state() == "ready", what="ready after the second")
    recorded = await _recorded(db, 2)
    assert [w["released"] for w in recorded] == [False, True]

    sofia = await client_factory()
    assert (await sofia.login("sofia", users["sofia"])).status == 200
    board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
    tile = next(a for a in board["agents"] if a["interface"] == "PJSIP/agent1")
    day = service.runtime.clock.now().date()
    resp = await sofia.get(f"/api/v1/reports/productivity?from={day}&to={day}")
    assert resp.status == 200, await resp.text()
    row = next(r for r in (await resp.json())["rows"] if r["operator"] == "Ana Lima")
    assert (row["calls"], row["wrapups"]) == (tile["calls_taken"], tile["wrapups"]) == (2, 2)
    assert row["wrapup_seconds"] == tile["wrapup_seconds"] == sum(w["seconds"] for w in recorded)


async def test_a_pause_pressed_while_a_call_rings_waits_for_the_ring_to_end(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    member = sim.pbx.queues["support"].members["PJSIP/agent1"]

    # Not answered: the ring goes on, the pause starts when it ends (the queue's timeout).
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=10)
    await sim.advance(0.2)
    await ws.next("pop")
    assert (await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
    said = await ws.next("after_ring", lambda m: m["after_ring"] is not None)
    assert said["after_ring"] == "paused (lunch)" and not member.paused
    assert (await (await ana.get("/api/v1/desk")).json())["desk"]["after_ring"] == "paused (lunch)"
    await sim.advance(sim.pbx.queues["support"].timeout + 0.5)
    await until(lambda: ws.state() == "paused", what="paused once the ring ended")
    assert member.paused and member.paused_reason == "lunch"
    assert ws.of("after_ring")[-1]["after_ring"] is None

    # Answered: the pause waits for the call's wrap-up.
    assert (await ana.post("/api/v1/desk/resume")).status == 200
    await until(lambda: ws.state() == "ready", what="ready again")
    seen = len(ws.messages)
    await sim.advance(5.0)  # the queue's retry: the waiting caller rings her again
    await ws.next("pop", lambda m: m["pop"]["status"] == "ringing", after=seen)
    assert (await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
    await ws.next("after_ring", lambda m: m["after_ring"] == "paused (lunch)", after=seen)
    assert (await ana.post("/api/v1/desk/answer")).status == 200
    await ws.next("connected", after=seen)
    assert ws.of("after_ring")[-1]["after_ring"] is None
    await sim.advance(10.5)  # the caller hangs up
    wrap = (await ws.next("wrapup", lambda m: m["wrapup"] is not None, after=seen))["wrapup"]
    assert wrap["then"] == "paused (lunch)"


async def test_a_supervisor_pauses_an_agent_after_the_wrap_up_or_releases_them_flagged(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    at_desk: AtDesk,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    sofia = await client_factory()
    assert (await sofia.login("sofia", users["sofia"])).status == 200
    ana, ws = await at_desk("ana")
    member = sim.pbx.queues["support"].members["PJSIP/agent1"]
    agent = {"interface": "PJSIP/agent1"}

    # Paused by her supervisor during her wrap-up: the wrap-up goes on, the pause follows it.
    first = await talk_and_hang_up(sim, ana, ws)
    await until(lambda: ws.state() == "wrap_up", what="wrap-up")
    resp = await sofia.post("/api/v1/supervisor/pause", json={**agent, "reason": "lunch"})
    assert resp.status == 200 and (await resp.json())["deferred"] is True
    await ws.next("wrapup", lambda m: m["wrapup"] and m["wrapup"]["then"] == "paused (lunch)")
    assert member.paused_reason == WRAPUP_REASON and ws.state() == "wrap_up"
    saved = await ana.patch(f"/api/v1/desk/attentions/{first['id']}", json={"status": "closed"})
    assert saved.status == 200
    await until(lambda: ws.state() == "paused", what="paused once the wrap-up ended")
    assert member.paused_reason == "lunch"

    # Made available by her supervisor during a wrap-up: ready now, the attention flagged.
    assert (await ana.post("/api/v1/desk/resume")).status == 200
    await until(lambda: ws.state() == "ready", what="ready")
    await talk_and_hang_up(sim, ana, ws, number="+12025550111")
    await until(lambda: ws.state() == "wrap_up", what="the second wrap-up")
    resp = await sofia.post("/api/v1/supervisor/resume", json=agent)
    assert resp.status == 200 and (await resp.json())["wrapup_released"] is True
    released = await ws.next("wrapup", lambda m: m["wrapup"] is None and m["released"])
    assert released["released_by"] == "supervisor"
    await until(lambda: ws.state() == "ready", what="ready after the release")
    flagged = await ws.next("attention", lambda m: m["attention"]["wrapup_overrun"])
    # The second call's attention (the first was disposed, and is not flagged).
    assert flagged["attention"]["id"] != first["id"]
    assert flagged["attention"]["status"] == "pending"


async def test_a_call_put_through_to_an_agent_in_wrap_up_is_talk_and_the_wrap_up_goes_on_after_it(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    # A call no queue gives (here a caller sent to ana's phone by the dialplan, as a phone's own
    # call or a transfer would come) reaches ana in after-call work: the wallboard shows her on
    # it, the wrap-up's time leaves it out, and her wrap-up is still there once it ends.
    db = service.runtime.db
    ana, ws = await at_desk("ana")
    attention = await talk_and_hang_up(sim, ana, ws)
    await until(lambda: ws.state() == "wrap_up", what="wrap-up")
    bruno, bruno_ws = await at_desk("bruno")  # telesales: the sales queue
    sim.inbound_call("sales", "+12025550111", "Laura", talk_seconds=600)
    await sim.advance(0.2)
    await bruno_ws.next("pop")
    assert (await bruno.post("/api/v1/desk/answer")).status == 200
    await bruno_ws.next("connected")
    caller = next(n for n in sim.pbx.channels if n.startswith("PJSIP/carrier"))
    await service.runtime.ami.send(
        "pbx1", Setvar(channel=caller, variable=TARGET_VARIABLE, value="PJSIP/agent1")
    )
    mark = len(ws.messages)
    await service.runtime.ami.send(
        "pbx1", Redirect(channel=caller, context=TRANSFER_CONTEXT, exten="agent")
    )
    await until(lambda: sim.answer("PJSIP/agent1"), what="ana's phone rings")
    await until(lambda: ws.state() == "in_call", what="ana on the call")
    live = service.runtime.ami.state("pbx1").agents["PJSIP/agent1"]
    assert live.call_kind is CallKind.DIRECT and live.reason == WRAPUP_REASON
    (before,) = await _recorded(db, 1)  # the wrap-up so far
    assert [m for m in ws.messages[mark:] if m["type"] == "wrapup" and m["wrapup"] is None] == []

    talked = service.runtime.clock.now()
    sim.hangup(caller)
    await until(lambda: ws.state() == "wrap_up", what="back in wrap-up")
    saved = await ana.patch(f"/api/v1/desk/attentions/{attention['id']}", json={"status": "closed"})
    assert saved.status == 200
    await ws.next("wrapup", lambda m: m["wrapup"] is None, after=mark)
    first, after = await _recorded(db, 2)
    assert first == before and first["ended_at"] <= talked <= after["started_at"]
    assert after["attention_id"] == attention["id"]
