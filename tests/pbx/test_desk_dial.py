"""Dialling out from the desk on a real Asterisk: a click-to-call rings the agent's own softphone
first, then the customer through the carrier with the desk's caller id, and the desk follows the
call (pop, outbound attention, Hang up, after-call work); a number on the do-not-call list is never
dialled."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from cti.db.engine import Database
from cti.db.models import Attention, Customer, DncEntry, Phone
from cti.domain.model import AttentionKind, AttentionStatus, Direction
from tests.pbx.asterisk import Asterisk
from tests.pbx.conftest import make_users, open_desk
from tests.pbx.cti_server import CtiServer
from tests.pbx.helpers import (
    PBX_WAIT,
    Phones,
    SignedIn,
    dispose_after_call,
    sign_in_to_phone,
    wait_desk,
)
from tests.pbx.sipua import Answer

DESK_CALLER_ID = "2025550100"
BUSY = "0186"  # the carrier answers busy to a number ending so


@pytest.fixture
async def cti(pbx: Asterisk, migrated_database: str) -> AsyncIterator[CtiServer]:
    """``cti serve`` on ``pbx`` with the desk's caller id and calling hours all day, every day
    (the test runs at any hour)."""
    await make_users(migrated_database)
    extra = (
        f'[desk]\ncaller_id = "{DESK_CALLER_ID}"\n'
        'calling_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
        'calling_from = "00:00"\ncalling_until = "23:59:59"\n'
    )
    server = CtiServer(database_url=migrated_database, ami_port=pbx.ports.ami, extra=extra)
    server.start()
    try:
        await server.wait_ready()
        yield server
    finally:
        await server.stop()
        print(f"--- cti serve log (last lines) ---\n{server.tail()}")


async def _acme(database: str) -> tuple[int, int]:
    """Acme (+12025550161) with an earlier attention of Ana's; Beta (+12025550162), on the
    do-not-call list."""
    async with Database(database) as db, db.sessions.begin() as s:
        acme = Customer(code="C001", name="Acme Supplies", region="US")
        beta = Customer(code="C002", name="Beta Foods", region="US")
        s.add_all([acme, beta])
        await s.flush()
        s.add(Phone(phone="+12025550161", raw="(202) 555-0161", customer_id=acme.id))
        s.add(Phone(phone="+12025550162", raw="(202) 555-0162", customer_id=beta.id))
        s.add(DncEntry(phone="+12025550162", campaign_id=None, reason="asked"))
        past = Attention(
            kind=AttentionKind.TELEMARKETING,
            direction=Direction.INBOUND,
            status=AttentionStatus.CLOSED,
            customer_id=acme.id,
            phone="+12025550161",
            subject="Invoice copy",
        )
        s.add(past)
        await s.flush()
        return int(past.id), int(beta.id)


async def test_click_to_call_rings_the_agent_first_then_the_customer_with_the_desk_caller_id(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    past, beta = await _acme(migrated_database)
    carrier = await phones("carrier")
    carrier.on_invite(
        lambda number: (
            Answer("busy", after=0.2) if number.endswith(BUSY) else Answer("answer", after=0.3)
        )
    )
    agent1 = await phones("agent1")
    ana = await signed_in("ana")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")

    # On the do-not-call list: refused, saying why, and nothing rings anywhere.
    refused = await ana.post("/api/v1/desk/dial", json={"customer_id": beta})
    assert refused.status == 409, await refused.text()
    assert "do-not-call" in (await refused.json())["error"]

    sock = await open_desk(ana)
    # A busy number typed on the dial pad: her phone rings, the carrier says busy, she is told.
    resp = await ana.post("/api/v1/desk/dial", json={"number": f"(202) 555-{BUSY}"})
    assert resp.status == 200, await resp.text()
    mine = await agent1.incoming(PBX_WAIT)
    await mine.answer()
    busy = await carrier.incoming(PBX_WAIT)
    assert await busy.ended(PBX_WAIT) in ("rejected", "cancelled")
    failed = await sock.next("dial_failed")
    assert failed["reason"] == "the number is busy"
    assert await mine.ended(PBX_WAIT) == "bye-received"
    await wait_desk(ana, "ready again", lambda d: d["state"] == "ready")

    resp = await ana.post("/api/v1/desk/dial", json={"attention_id": past})
    assert resp.status == 200, await resp.text()
    mine = await agent1.incoming(PBX_WAIT)
    assert len(carrier.calls) == 1  # Acme is not dialled before the agent is there
    await mine.answer()
    customer = await carrier.incoming(PBX_WAIT)
    assert customer.number.endswith("2025550161")
    assert customer.caller == DESK_CALLER_ID
    await customer.answered.wait()

    connected = await sock.next("connected")
    assert connected["pop"]["customer"]["name"] == "Acme Supplies"
    attention = (await sock.next("attention"))["attention"]
    conn = await asyncpg.connect(migrated_database)
    try:
        row = await conn.fetchrow(
            "SELECT direction, customer_id IS NOT NULL AS known FROM attentions WHERE id = $1",
            attention["id"],
        )
    finally:
        await conn.close()
    assert (row["direction"], row["known"]) == ("outbound", True)

    # Ana hangs up from the desk; her after-call work ends once she disposes the attention.
    hung = await ana.post("/api/v1/desk/hangup")
    assert hung.status == 200, await hung.text()
    assert await customer.ended(PBX_WAIT) == "bye-received"
    await sock.next("call_ended")
    await sock.close()
    await dispose_after_call(ana)
    assert len(carrier.calls) == 2  # the busy number and Acme: Beta was never dialled
