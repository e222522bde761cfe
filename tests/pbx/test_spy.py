"""Listening on a real Asterisk: the supervisor's phone joins through ChanSpy and leaves with the
call; every session is audited from start to end and shown (and stoppable) on the wallboard."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from tests.pbx.asterisk import Asterisk
from tests.pbx.conftest import open_desk
from tests.pbx.cti_server import CtiServer
from tests.pbx.helpers import PBX_WAIT, Phones, SignedIn, sign_in_to_phone, wait_desk
from tests.pbx.sipua import Call, Phone
from tests.web.conftest import Client


async def _audit(database: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch(
            "SELECT actor, action FROM audit_log WHERE action LIKE 'supervisor.%' ORDER BY id"
        )
    finally:
        await conn.close()
    return [(r["actor"], r["action"]) for r in rows]


async def _until_audit(database: str, action: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for _ in range(100):
        rows = await _audit(database)
        if any(a == action for _, a in rows):
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {action!r} in the audit log: {rows}")


async def _board(sofia: Client) -> dict[str, Any]:
    body: dict[str, Any] = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
    return body


async def _spies(sofia: Client, count: int) -> list[dict[str, Any]]:
    spies: list[dict[str, Any]] = []
    for _ in range(100):
        spies = (await _board(sofia))["spies"]
        if len(spies) == count:
            return spies
        await asyncio.sleep(0.1)
    raise AssertionError(f"the wallboard lists {spies}, not {count} session(s)")


async def _queue_call(pbx: Asterisk, carrier: Phone, agent: Phone) -> tuple[Call, Call]:
    caller = await carrier.call("5000", caller="2025550177", target=pbx.trunk_address)
    leg = await agent.incoming(PBX_WAIT)
    await leg.answer()
    return caller, leg


async def test_listening_ends_with_the_call_and_never_joins_the_next_one(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    agent1, supervisor_phone = await phones("agent1"), await phones("agent9")
    carrier = await phones("carrier")
    ana, sofia = await signed_in("ana"), await signed_in("sofia")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    sock = await open_desk(ana)
    caller, _ = await _queue_call(pbx, carrier, agent1)
    await sock.next("connected")

    # Without a phone of her own, the wallboard tells her to state one; she does, there.
    resp = await sofia.post(
        "/api/v1/supervisor/spy", json={"interface": "PJSIP/agent1", "mode": "listen"}
    )
    assert resp.status == 400 and (await resp.json())["field"] == "phone"
    resp = await sofia.put("/api/v1/supervisor/phone", json={"phone": "PJSIP/agent9"})
    assert resp.status == 200, await resp.text()
    resp = await sofia.post(
        "/api/v1/supervisor/spy", json={"interface": "PJSIP/agent1", "mode": "listen"}
    )
    assert resp.status == 200, await resp.text()
    listening = await supervisor_phone.incoming(PBX_WAIT)
    await listening.answer()
    (session,) = await _spies(sofia, 1)
    assert (session["supervisor"], session["mode"], session["agent"]) == (
        "sofia",
        "listen",
        "PJSIP/agent1",
    )
    await _until_audit(migrated_database, "supervisor.listen.started")

    # The customer hangs up: the listening ends with the call, and the supervisor's phone too.
    await caller.hangup()
    assert await listening.ended(PBX_WAIT) == "bye-received"
    await _spies(sofia, 0)
    rows = await _until_audit(migrated_database, "supervisor.listen.ended")
    assert [a for _, a in rows] == [
        "supervisor.listen",
        "supervisor.listen.started",
        "supervisor.listen.ended",
    ]
    assert {actor for actor, _ in rows} == {"sofia"}

    # Nothing of the supervisor's is left on the PBX waiting for Ana's next call (ChanSpy without
    # option E stays on her channel name and joins it).
    channels = await asyncio.to_thread(pbx.channels)
    assert not [c for c in channels if c.startswith("PJSIP/agent9-")], channels
    await sock.close()


async def test_the_wallboard_stops_a_listening_session(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    agent1, supervisor_phone = await phones("agent1"), await phones("agent9")
    carrier = await phones("carrier")
    ana, sofia = await signed_in("ana"), await signed_in("sofia")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    _, leg = await _queue_call(pbx, carrier, agent1)
    assert (await sofia.put("/api/v1/supervisor/phone", json={"phone": "PJSIP/agent9"})).ok
    resp = await sofia.post(
        "/api/v1/supervisor/spy", json={"interface": "PJSIP/agent1", "mode": "whisper"}
    )
    assert resp.status == 200, await resp.text()
    whispering = await supervisor_phone.incoming(PBX_WAIT)
    await whispering.answer()
    (session,) = await _spies(sofia, 1)
    resp = await sofia.post("/api/v1/supervisor/spy/stop", json={"id": session["id"]})
    assert resp.status == 200, await resp.text()
    assert await whispering.ended(PBX_WAIT) == "bye-received"
    await _spies(sofia, 0)
    assert leg.is_up  # the agent and the customer go on talking
    rows = await _until_audit(migrated_database, "supervisor.whisper.ended")
    assert "supervisor.whisper.stopped" in [a for _, a in rows]
