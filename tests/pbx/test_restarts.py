"""Restarts on a real Asterisk: the PBX restarted or killed, idle and mid-call; cti restarted.

A restart empties app_queue of its dynamic members (``persistentmembers = no``) and hangs up
every call; a crash does too, without a word on AMI. cti knows who sits where: it puts the agents
back (with their pause), and ends everywhere each call the PBX no longer has. cti itself stopped
with SIGTERM and started again signs nobody out and gives each desk back, on the same call.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from tests.pbx.asterisk import Asterisk
from tests.pbx.conftest import DeskSocket, open_desk
from tests.pbx.cti_server import CtiServer
from tests.pbx.helpers import (
    PBX_WAIT,
    Phones,
    SignedIn,
    desk,
    dispose_after_call,
    members,
    sign_in_to_phone,
    wait_desk,
)
from tests.pbx.sipua import Call, Phone
from tests.web.conftest import Client

# After a restart Asterisk holds registered phones unavailable until it has qualified them
# (pjsip.conf qualify_frequency = 10).
AFTER_RESTART = 25.0


async def _wait_members(pbx: Asterisk, queue: str, expected: set[str]) -> list[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PBX_WAIT
    found: set[str] = set()
    while loop.time() < deadline:
        found = await asyncio.to_thread(pbx.queue_interfaces, queue)
        if found == expected:
            return await members(pbx, queue)
        await asyncio.sleep(0.2)
    raise AssertionError(f"{queue} members are {found}, not {expected}")


async def _ready_desk(client: Client) -> None:
    await sign_in_to_phone(client)
    await wait_desk(client, "ready", lambda d: d["state"] == "ready")


async def _connected_call(
    pbx: Asterisk, phones: Phones, ana: Client, agent1: Phone
) -> tuple[Call, Call, DeskSocket]:
    """A carrier call into support answered by ana; the caller's and ana's legs, ana's desk."""
    carrier = await phones("carrier")
    sock = await open_desk(ana)
    caller = await carrier.call("5000", caller="2025550123", target=pbx.trunk_address)
    leg = await agent1.incoming(PBX_WAIT)
    await leg.answer()
    await sock.next("connected")
    return caller, leg, sock


async def _call_rows(url: str) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch("SELECT outcome, ended_at, attention_id FROM calls"))
    finally:
        await conn.close()


async def _ended_everywhere(
    sock: DeskSocket, sofia: Client, database: str, *, ended_by: str, outcome: str
) -> None:
    ended = await sock.next("call_ended")
    assert ended["footer"]["last_call"]["ended_by"] == ended_by
    mark = len(sock.messages)
    await sock.send({"type": "resync"})
    snap = await sock.next("snapshot", after=mark)
    assert snap["desk"]["timer"] is None  # the talk timer stopped
    live = await (await sofia.get("/api/v1/live")).json()
    assert live["pbxs"][0]["calls"] == []
    board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
    ana_row = next(a for a in board["agents"] if a["interface"] == "PJSIP/agent1")
    assert ana_row["state"] != "in_call"
    rows: list[Any] = []
    for _ in range(50):
        rows = await _call_rows(database)
        if rows and rows[0]["outcome"] is not None:
            break
        await asyncio.sleep(0.1)
    assert [r["outcome"] for r in rows] == [outcome]
    assert rows[0]["ended_at"] is not None
    conn = await asyncpg.connect(database)
    try:
        status = await conn.fetchval(
            "SELECT status FROM attentions WHERE id = $1", rows[0]["attention_id"]
        )
    finally:
        await conn.close()
    assert status == "pending"  # what the agent noted so far is kept, to finish


async def test_a_pbx_restart_puts_every_signed_in_agent_back_as_they_were(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones, migrated_database: str
) -> None:
    await phones("agent1")
    await phones("agent2")
    ana, bruno = await signed_in("ana"), await signed_in("bruno")
    await _ready_desk(ana)
    await _ready_desk(bruno)
    assert (await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
    await wait_desk(ana, "paused", lambda d: d["state"] == "paused")
    lunch = datetime.fromisoformat((await desk(ana))["desk"]["since"])

    await asyncio.to_thread(pbx.restart_now)

    found = await _wait_members(pbx, "support", {"PJSIP/agent1", "PJSIP/agent2"})
    ana_line = next(m for m in found if "(PJSIP/agent1)" in m)
    assert "paused:lunch" in ana_line
    await wait_desk(
        ana,
        "paused again",
        lambda d: d["state"] == "paused" and d["reason"] == "lunch",
        within=AFTER_RESTART,
    )
    await wait_desk(bruno, "ready again", lambda d: d["state"] == "ready", within=AFTER_RESTART)
    # Her lunch's clock on her desk goes on from its start, not from when cti put her back.
    assert datetime.fromisoformat((await desk(ana))["desk"]["since"]) == lunch
    # For the pauses report her lunch went on through the restart: one pause, still open.
    await asyncio.sleep(0.5)  # the desk writes pauses behind its work
    rows = await _pauses(migrated_database, "ana")
    assert [(r["reason"], r["ended_at"]) for r in rows] == [("lunch", None)]
    # And on the wallboard: her time paused today is that lunch, from its start, nothing ended.
    sofia = await signed_in("sofia")
    for _ in range(3):  # over a read of the ended pauses (every 5 s)
        board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
        row = next(a for a in board["agents"] if a["interface"] == "PJSIP/agent1")
        assert row["pause_seconds"] == 0
        assert abs(row["paused_since_ms"] - lunch.timestamp() * 1000) <= 5
        assert abs(row["since_ms"] - lunch.timestamp() * 1000) <= 5  # its time in state too
        await asyncio.sleep(3)


async def test_sign_in_to_phone_again_asks_the_pbx_whatever_cti_believes(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones
) -> None:
    await phones("agent1")
    ana = await signed_in("ana")
    await _ready_desk(ana)
    # Someone takes the phone out of the queue on the PBX itself.
    await asyncio.to_thread(pbx.cli, "queue remove member PJSIP/agent1 from support")
    await _wait_members(pbx, "support", set())
    await wait_desk(ana, "offline", lambda d: d["state"] == "offline")
    await sign_in_to_phone(ana)
    await _wait_members(pbx, "support", {"PJSIP/agent1"})
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")


async def test_a_pbx_restart_mid_call_ends_the_call_everywhere(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    agent1 = await phones("agent1")
    ana, sofia = await signed_in("ana"), await signed_in("sofia")
    await _ready_desk(ana)
    _, _, sock = await _connected_call(pbx, phones, ana, agent1)
    try:
        await asyncio.to_thread(pbx.restart_now)
        # A restart hangs every channel up and says so (AgentComplete, Hangup) before it goes.
        await _ended_everywhere(
            sock, sofia, migrated_database, ended_by="caller", outcome="answered"
        )
        # Back in the queue in after-call work: the call's attention is still to dispose.
        await dispose_after_call(ana, within=AFTER_RESTART)
    finally:
        await sock.close()


async def test_a_pbx_killed_mid_call_ends_the_call_everywhere(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    agent1 = await phones("agent1")
    ana, sofia = await signed_in("ana"), await signed_in("sofia")
    await _ready_desk(ana)
    _, _, sock = await _connected_call(pbx, phones, ana, agent1)
    try:
        await asyncio.to_thread(pbx.kill)
        await asyncio.to_thread(pbx.start)
        # A crash says nothing: the resync finds the call gone.
        await _ended_everywhere(sock, sofia, migrated_database, ended_by="lost", outcome="lost")
        # Back in the queue in after-call work: the call's attention is still to dispose.
        await dispose_after_call(ana, within=AFTER_RESTART)
    finally:
        await sock.close()


async def test_cti_stopped_mid_call_and_started_again_keeps_sessions_desks_and_the_call(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    agent1 = await phones("agent1")
    ana = await signed_in("ana")
    await _ready_desk(ana)
    caller, leg, sock = await _connected_call(pbx, phones, ana, agent1)
    connected = sock.of("connected")[-1]
    attention = (await sock.next("attention"))["attention"]
    await sock.close()
    assert await cti.stop(signal.SIGTERM) == 0
    # The PBX keeps the call and the queue member while cti is away.
    assert leg.is_up and caller.is_up
    cti.start()
    await cti.wait_ready()

    # Nobody was signed out: ana's old cookie and CSRF token still work.
    me = await ana.get("/api/v1/me")
    assert me.status == 200, await me.text()
    assert (await me.json())["csrf"] == ana.csrf
    # Her desk reconnects and shows her still in her queue, on the same call.
    again = await open_desk(ana)
    desk = again.of("snapshot")[0]["desk"]
    if not desk["signed_in"] or desk["attention"] is None:
        desk = (
            await again.next(
                "snapshot", lambda m: m["desk"]["signed_in"] and m["desk"]["attention"]
            )
        )["desk"]
    assert desk["state"] == "in_call"
    assert desk["queues"] == ["support"]
    assert desk["pop"]["id"] == connected["pop"]["id"]
    assert desk["timer"] == connected["timer"]
    assert desk["attention"]["id"] == attention["id"]
    found = await _wait_members(pbx, "support", {"PJSIP/agent1"})
    assert len(found) == 1
    sofia = await signed_in("sofia")
    live = await (await sofia.get("/api/v1/live")).json()
    agents = {a["interface"]: a for a in live["pbxs"][0]["agents"]}
    assert agents["PJSIP/agent1"]["state"] == "in_call"

    await caller.hangup()
    assert await leg.ended(PBX_WAIT) == "bye-received"
    ended = await again.next("call_ended")
    assert ended["call"]["uniqueid"] == connected["call"]["uniqueid"]
    await again.close()
    rows: list[Any] = []
    for _ in range(50):
        rows = await _call_rows(migrated_database)
        if rows and rows[0]["ended_at"] is not None:
            break
        await asyncio.sleep(0.1)
    assert [(r["outcome"], r["attention_id"]) for r in rows] == [("answered", attention["id"])]
    # The call's after-call work is tied to its attention, even across the restart: closing it
    # ends the wrap-up, and ana is back in the queue, ready for the next call.
    await wait_desk(
        ana,
        "in wrap-up for the call's attention",
        lambda d: d["wrapup"] is not None and d["wrapup"]["attention_id"] == attention["id"],
    )
    await dispose_after_call(ana)


async def test_a_call_answered_while_cti_was_away_gets_its_attention_when_cti_is_back(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    """cti is down when a carrier call reaches ana and she answers: started again, it finds the
    call on the PBX, pops it at her desk with its caller, opens its attention, and the call log
    names her and that attention."""
    agent1 = await phones("agent1")
    carrier = await phones("carrier")
    ana = await signed_in("ana")
    await _ready_desk(ana)
    assert await cti.stop(signal.SIGTERM) == 0

    caller = await carrier.call("5000", caller="2025550166", target=pbx.trunk_address)
    leg = await agent1.incoming(PBX_WAIT)
    await leg.answer()
    await asyncio.sleep(1.0)  # the bridge is up on the PBX before cti comes back
    assert leg.is_up and caller.is_up
    cti.start()
    await cti.wait_ready()

    # The desk is made again once cti has resynchronised with the PBX, on the call: its pop, its
    # talk timer and a new attention, as if the call had just been answered.
    await wait_desk(
        ana,
        "in the call, with its attention",
        lambda d: d["state"] == "in_call" and d["attention"] is not None,
    )
    sock = await open_desk(ana)
    try:
        desk = sock.of("snapshot")[0]["desk"]
        assert desk["pop"]["caller_num"] == "2025550166"
        assert desk["timer"] is not None
        attention = desk["attention"]
        assert attention["status"] == "pending"

        await caller.hangup()
        assert await leg.ended(PBX_WAIT) == "bye-received"
        await sock.next("call_ended")
    finally:
        await sock.close()
    conn = await asyncpg.connect(migrated_database)
    try:
        row = None
        for _ in range(50):
            row = await conn.fetchrow(
                "SELECT c.outcome, c.ended_at, c.attention_id, u.username FROM calls c "
                "LEFT JOIN operators u ON u.id = c.operator_id"
            )
            if row is not None and row["ended_at"] is not None:
                break
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    assert row is not None
    assert (row["outcome"], row["attention_id"], row["username"]) == (
        "answered",
        attention["id"],
        "ana",
    )
    # Her after-call work belongs to that attention: disposing of it puts her back in the queue.
    await wait_desk(
        ana,
        "in wrap-up for the call's attention",
        lambda d: d["wrapup"] is not None and d["wrapup"]["attention_id"] == attention["id"],
    )
    await dispose_after_call(ana)


async def _pauses(url: str, username: str) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        return list(
            await conn.fetch(
                "SELECT p.reason, p.started_at, p.ended_at FROM agent_pauses p"
                " JOIN operators o ON o.id = p.operator_id WHERE o.username = $1"
                " ORDER BY p.started_at",
                username,
            )
        )
    finally:
        await conn.close()


async def test_a_pause_counts_from_its_start_through_a_dropped_phone_and_a_restart_of_cti(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    """Ana's lunch is one pause, timed from its start, though her softphone closes and opens
    again over it; a break the PBX gave her while cti was away counts from when the PBX paused
    her (Asterisk's LastPause), on her desk, on the wallboard and in the pauses report."""
    agent1 = await phones("agent1")
    ana = await signed_in("ana")
    await _ready_desk(ana)
    assert (await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
    await wait_desk(ana, "at lunch", lambda d: d["state"] == "paused" and d["reason"] == "lunch")
    lunch = datetime.fromisoformat((await desk(ana))["desk"]["since"])

    await agent1.unregister()
    await wait_desk(ana, "offline", lambda d: d["state"] == "offline" and d["phone_unavailable"])
    await asyncio.sleep(1.2)
    await agent1.register()
    await wait_desk(
        ana,
        "back at lunch",
        lambda d: d["state"] == "paused" and d["reason"] == "lunch" and not d["phone_unavailable"],
    )
    # Her lunch's time goes on from its start, not from her phone's return.
    assert datetime.fromisoformat((await desk(ana))["desk"]["since"]) == lunch
    rows: list[Any] = []
    for _ in range(50):  # the desk writes pauses behind its work
        if rows := await _pauses(migrated_database, "ana"):
            break
        await asyncio.sleep(0.1)
    assert [(r["reason"], r["started_at"], r["ended_at"]) for r in rows] == [("lunch", lunch, None)]

    assert await cti.stop(signal.SIGTERM) == 0
    out = await asyncio.to_thread(
        pbx.cli, "queue pause member PJSIP/agent1 queue support reason break"
    )
    on_break = datetime.now(UTC)
    assert "paused" in out.lower(), out
    await asyncio.sleep(2.5)
    cti.start()
    await cti.wait_ready()

    await wait_desk(
        ana,
        "on the PBX's break",
        lambda d: d["signed_in"] and d["state"] == "paused" and d["reason"] == "break",
    )
    since = datetime.fromisoformat((await desk(ana))["desk"]["since"])
    # Asterisk's LastPause is in whole seconds: the break began within the second before.
    assert on_break - timedelta(seconds=1.5) < since <= on_break
    sofia = await signed_in("sofia")
    board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
    row = next(a for a in board["agents"] if a["interface"] == "PJSIP/agent1")
    assert (row["state"], row["reason"]) == ("paused", "break")
    assert row["in_state_seconds"] >= 2
    for _ in range(50):
        rows = await _pauses(migrated_database, "ana")
        if len(rows) == 2:
            break
        await asyncio.sleep(0.1)
    # One lunch, ended when the break began; the break still going on, from its start.
    assert [(r["reason"], r["started_at"], r["ended_at"]) for r in rows] == [
        ("lunch", lunch, since),
        ("break", since, None),
    ]
    # On the wallboard her time paused today is the lunch the desk closed once cti was back (the
    # database's, as the reports count it), and the break going on from its start.
    lunch_seconds = round((since - lunch).total_seconds())
    assert lunch_seconds >= 1  # her phone was away 1.2 s of it
    for _ in range(100):  # the board reads the ended pauses again every few seconds
        board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
        row = next(a for a in board["agents"] if a["interface"] == "PJSIP/agent1")
        if row["pause_seconds"] == lunch_seconds:
            break
        await asyncio.sleep(0.1)
    assert row["pause_seconds"] == lunch_seconds
    assert abs(row["paused_since_ms"] - since.timestamp() * 1000) <= 5
    # Her desk's footer says the same.
    mine = (await desk(ana))["desk"]["paused_today"]
    assert mine["seconds"] == lunch_seconds
    assert abs(mine["since_ms"] - since.timestamp() * 1000) <= 5
