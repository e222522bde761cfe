"""Inbound queue calls on a real Asterisk: abandoned in the queue, and transferred by the agent."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from tests.pbx.asterisk import Asterisk
from tests.pbx.conftest import open_desk
from tests.pbx.cti_server import CtiServer
from tests.pbx.helpers import (
    PBX_WAIT,
    Phones,
    SignedIn,
    dispose_after_call,
    sign_in_to_phone,
    wait_desk,
)


async def _calls(database: str) -> list[Any]:
    conn = await asyncpg.connect(database)
    try:
        return list(
            await conn.fetch(
                "SELECT queue, phone, agent_interface, answered_at, outcome FROM calls ORDER BY id"
            )
        )
    finally:
        await conn.close()


async def _until_calls(database: str, count: int) -> list[Any]:
    found: list[Any] = []
    for _ in range(100):
        found = await _calls(database)
        if len(found) >= count and all(r["outcome"] for r in found):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"the call log holds {found}")


async def test_a_caller_who_hangs_up_waiting_is_an_abandon_on_the_wallboard_and_in_the_log(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    await phones("agent1")
    carrier = await phones("carrier")
    ana, sofia = await signed_in("ana"), await signed_in("sofia")
    await sign_in_to_phone(ana)
    assert (await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
    await wait_desk(ana, "paused", lambda d: d["state"] == "paused")
    caller = await carrier.call("5000", caller="2025550144", target=pbx.trunk_address)

    async def waiting() -> int:
        board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
        return int(next(q for q in board["queues"] if q["name"] == "support")["waiting"])

    for _ in range(100):
        if await waiting() == 1:
            break
        await asyncio.sleep(0.1)
    assert await waiting() == 1
    await caller.hangup()
    (row,) = await _until_calls(migrated_database, 1)
    assert (row["queue"], row["phone"], row["outcome"]) == ("support", "+12025550144", "abandoned")
    board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
    support = next(q for q in board["queues"] if q["name"] == "support")
    assert (support["waiting"], support["abandoned"]) == (0, 1)


async def test_a_blind_transfer_hands_the_caller_to_another_agent(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    agent1, agent2 = await phones("agent1"), await phones("agent2")
    carrier = await phones("carrier")
    ana = await signed_in("ana")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    sock = await open_desk(ana)
    caller = await carrier.call(
        "5000", caller="2025550155", caller_name="Eva", target=pbx.trunk_address
    )
    leg = await agent1.incoming(PBX_WAIT)
    await leg.answer()
    await sock.next("connected")
    # agent2 (201..210 reach agent1..agent10 in [from-agents]) is not in any queue.
    resp = await ana.post("/api/v1/desk/transfer", json={"exten": "202", "context": "from-agents"})
    assert resp.status == 200, await resp.text()
    ended = await sock.next("call_ended")
    assert ended["footer"]["last_call"]["ended_by"] == "transfer"
    assert await leg.ended(PBX_WAIT) == "bye-received"  # ana's phone is free
    handed = await agent2.incoming(PBX_WAIT)
    assert "2025550155" in handed.headers.get("From", "")
    await handed.answer()
    assert caller.is_up
    # A transfer ends ana's call: after-call work until she disposes its attention.
    await dispose_after_call(ana)
    await caller.hangup()
    assert await handed.ended(PBX_WAIT) == "bye-received"
    (row,) = await _until_calls(migrated_database, 1)
    assert (row["agent_interface"], row["outcome"]) == ("PJSIP/agent1", "answered")
    await sock.close()
