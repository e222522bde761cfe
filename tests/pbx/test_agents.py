"""Agents on a real Asterisk: registering phones, readiness, pauses and the inbound screen-pop."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from tests.pbx.asterisk import Asterisk
from tests.pbx.conftest import open_desk, until
from tests.pbx.cti_server import CtiServer
from tests.pbx.helpers import (
    PBX_WAIT,
    Phones,
    SignedIn,
    desk,
    members,
    sign_in_to_phone,
    wait_desk,
)
from tests.pbx.sipua import Phone, SipError


async def test_agents_register_with_digest_auth_on_the_shipped_config(
    pbx: Asterisk, phones: Phones
) -> None:
    # Agents and the carrier share 127.0.0.1: without endpoint_identifier_order = username,...
    # PJSIP takes the agents' REGISTERs for the carrier's and answers 403.
    agent = await phones("agent1")
    assert agent.registered
    contacts = await asyncio.to_thread(pbx.cli, "pjsip show contacts")
    assert f"agent1/sip:agent1@127.0.0.1:{agent.port}" in contacts
    stranger = await Phone.open(user="agent2", password="wrong", server=agent.server)
    try:
        refused = None
        try:
            await stranger.register()
        except SipError as exc:
            refused = exc.status
        assert refused in (401, 403)
    finally:
        await stranger.close()
    # The folder was run with its own [directories]: the log went where asterisk.conf says.
    assert (pbx.root / "log" / "messages.log").is_file()


async def test_an_agent_whose_phone_is_not_registered_is_never_ready(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones
) -> None:
    ana = await signed_in("ana")
    sofia = await signed_in("sofia")
    snap = await sign_in_to_phone(ana)
    assert snap["desk"]["signed_in"]
    # Asterisk added the member all the same, as unavailable (Status 5)...
    assert any("Unavailable" in m for m in await members(pbx, "support"))
    # ...and cti says so: offline, "phone not registered", on the desk and the wallboard.
    await wait_desk(ana, "offline", lambda d: d["state"] == "offline" and d["phone_unavailable"])
    board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
    row = next(a for a in board["agents"] if a["interface"] == "PJSIP/agent1")
    assert row["state"] == "offline"

    sock = await open_desk(ana)
    try:
        phone = await phones("agent1")  # the softphone starts: ready at once
        await sock.next("state", lambda m: m["state"] == "ready" and not m["phone_unavailable"])
        await phone.unregister()  # closed mid-shift: offline at once, and told why
        await sock.next("state", lambda m: m["state"] == "offline" and m["phone_unavailable"])
    finally:
        await sock.close()


async def test_pause_with_a_reason_on_a_fresh_install_reaches_the_pbx(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones
) -> None:
    await phones("agent1")
    ana = await signed_in("ana")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    reasons = (await desk(ana))["lists"]["pause_reasons"]
    assert "lunch" in reasons  # a new database comes with pause reasons
    resp = await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})
    assert resp.status == 200, await resp.text()
    await wait_desk(ana, "paused", lambda d: d["state"] == "paused" and d["reason"] == "lunch")
    assert any("paused:lunch" in m for m in await members(pbx, "support"))
    resp = await ana.post("/api/v1/desk/resume", json={})
    assert resp.status == 200
    await wait_desk(ana, "ready again", lambda d: d["state"] == "ready")


async def test_inbound_call_pops_on_the_rung_agent_only_and_is_logged(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones, migrated_database: str
) -> None:
    agent1, agent2 = await phones("agent1"), await phones("agent2")
    carrier = await phones("carrier")
    ana, bruno = await signed_in("ana"), await signed_in("bruno")
    for client in (ana, bruno):
        await sign_in_to_phone(client)
        await wait_desk(client, "ready", lambda d: d["state"] == "ready")
    ana_desk, bruno_desk = await open_desk(ana), await open_desk(bruno)
    try:
        caller = await carrier.call(
            "5000", caller="2025550199", caller_name="Dora Cliente", target=pbx.trunk_address
        )
        rung_phone, rung_desk, other_desk = await _first_rung(
            (agent1, ana_desk), (agent2, bruno_desk)
        )
        pop = await rung_desk.next("pop")
        assert pop["pop"]["caller_num"] == "2025550199"
        call = await rung_phone.incoming(PBX_WAIT)
        await call.answer()
        connected = await rung_desk.next("connected")
        assert connected["timer"]["started_ms"] > 0
        await caller.hangup()
        await rung_desk.next("call_ended")
        assert await call.ended(PBX_WAIT) == "bye-received"
        assert other_desk.of("pop") == []
    finally:
        await ana_desk.close()
        await bruno_desk.close()

    async def logged() -> list[Any]:
        conn = await asyncpg.connect(migrated_database)
        try:
            return list(
                await conn.fetch(
                    "SELECT queue, agent_interface, phone, outcome, answered_at, ended_at"
                    " FROM calls"
                )
            )
        finally:
            await conn.close()

    rows: list[Any] = []
    for _ in range(50):
        rows = await logged()
        if rows and rows[0]["outcome"] is not None:
            break
        await asyncio.sleep(0.1)
    assert len(rows) == 1
    row = rows[0]
    assert (row["queue"], row["phone"], row["outcome"]) == ("support", "+12025550199", "answered")
    assert row["answered_at"] is not None and row["ended_at"] >= row["answered_at"]


async def _first_rung(*pairs: tuple[Phone, Any]) -> tuple[Phone, Any, Any]:
    """Which of two agents' phones Asterisk rang first (rrmemory rings one at a time)."""
    found = await until(
        lambda: next((p for p in pairs if p[1].of("pop")), None), within=PBX_WAIT, what="a pop"
    )
    other = next(p for p in pairs if p is not found)
    return found[0], found[1], other[1]
