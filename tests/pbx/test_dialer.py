"""The dialer on a real Asterisk: cti's ``[cti-dialer]`` dialplan, a carrier that answers, refuses
or lets ring, and agents' softphones that auto-answer as the dialplan asks them to."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

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
from tests.pbx.sipua import Answer
from tests.web.conftest import Client

ALWAYS = [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59"}]
# The carrier's answer by the dialled number's last four digits; anything else is answered.
BUSY, CONGESTION, NO_ANSWER = "0486", "0503", "0408"


def carrier_policy(number: str) -> Answer:
    if number.endswith(BUSY):
        return Answer("busy", after=0.2)
    if number.endswith(CONGESTION):
        return Answer("congestion", after=0.2)
    if number.endswith(NO_ANSWER):
        return Answer("noanswer")
    return Answer("answer", after=0.3)


async def campaign(
    sofia: Client, *, name: str, mode: str, phones: list[str], queue: str = "support"
) -> int:
    resp = await sofia.post(
        "/api/v1/campaigns",
        json={
            "name": name,
            "kind": "telemarketing",
            "mode": mode,
            "queue": queue,
            "caller_id": "2025550100",
            "ring_seconds": 15,
            "windows": ALWAYS,
            "retry_rules": {"max_attempts": 3, "after": {"busy": 600, "no_answer": 900}},
        },
    )
    assert resp.status in (200, 201), await resp.text()
    cid = int((await resp.json())["id"])
    rows = "".join(f"{p},Lead {i}\n" for i, p in enumerate(phones))
    resp = await sofia.http.post(
        f"{sofia.base}api/v1/campaigns/{cid}/leads",
        data=f"phone,name\n{rows}".encode(),
        headers={"Content-Type": "text/csv", "X-CSRF-Token": sofia.csrf},
    )
    assert resp.status in (200, 201), await resp.text()
    return cid


async def start(sofia: Client, cid: int) -> None:
    resp = await sofia.post(f"/api/v1/campaigns/{cid}/start", json={})
    assert resp.status == 200, await resp.text()


async def figures(sofia: Client, cid: int) -> dict[str, Any]:
    body = await (await sofia.get(f"/api/v1/campaigns/{cid}")).json()
    live: dict[str, Any] = body["live"] or {}
    return live


async def rows(database: str, sql: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(database)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def until_rows(
    database: str, sql: str, count: int, *args: Any, within: float = 30.0
) -> list[Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    found: list[Any] = []
    while loop.time() < deadline:
        found = await rows(database, sql, *args)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{sql!r}: {len(found)} rows, not {count}: {found}")


async def test_progressive_never_counts_an_agent_whose_phone_is_not_registered(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    carrier = await phones("carrier")
    carrier.on_invite(carrier_policy)
    agent1 = await phones("agent1")
    agent1.auto_answer = 0.0  # the dialplan asks the softphone to answer at once
    ana, bruno, sofia = await signed_in("ana"), await signed_in("bruno"), await signed_in("sofia")
    await sign_in_to_phone(ana)
    await sign_in_to_phone(bruno)  # agent2's softphone never registered
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    await wait_desk(bruno, "offline", lambda d: d["phone_unavailable"])
    cid = await campaign(
        sofia, name="Renewals", mode="progressive", phones=["+12025550101", "+12025550102"]
    )
    await start(sofia, cid)
    first = await carrier.incoming(PBX_WAIT)
    await first.answered.wait()
    leg = await agent1.incoming(PBX_WAIT)
    await leg.answered.wait()
    # Hang up once cti has seen the customer put through to Ana: the agent's phone answering is
    # not yet the bridge, and a customer gone before it counts as abandoned.
    await wait_desk(ana, "in a call", lambda d: d["state"] == "in_call")
    await first.hangup()
    # Ana is in after-call work until she disposes the attention: then she is free again.
    await dispose_after_call(ana)
    second = await carrier.incoming(PBX_WAIT)  # the next lead once ana is free again
    # One agent could take a call, so one call at a time: nobody heard the abandon message.
    assert not first.is_up and len(carrier.calls) == 2
    await second.answered.wait()
    await (await agent1.incoming(PBX_WAIT)).answered.wait()
    await wait_desk(ana, "in a call", lambda d: d["state"] == "in_call")
    await second.hangup()
    found = await until_rows(
        migrated_database,
        "SELECT outcome FROM attempts WHERE campaign_id = $1 AND outcome IS NOT NULL",
        2,
        cid,
    )
    assert [r["outcome"] for r in found] == ["answered", "answered"]
    assert (await figures(sofia, cid))["abandoned"] == 0


async def test_dialer_calls_are_logged_with_the_lead_the_campaign_and_the_agent(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    carrier = await phones("carrier")
    carrier.on_invite(carrier_policy)
    agent1 = await phones("agent1")
    agent1.auto_answer = 0.0
    ana, sofia = await signed_in("ana"), await signed_in("sofia")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    sock = await open_desk(ana)
    cid = await campaign(sofia, name="Winback", mode="progressive", phones=["+12025550111"])
    await start(sofia, cid)
    customer = await carrier.incoming(PBX_WAIT)
    await customer.answered.wait()
    pop = await sock.next("pop")
    assert pop["pop"]["caller_num"] in ("+12025550111", "12025550111", "2025550111")
    await sock.next("connected")
    await customer.hangup()
    await sock.next("call_ended")
    await sock.close()
    (attempt,) = await until_rows(
        migrated_database,
        "SELECT a.outcome, a.operator_id, a.call_id, o.username FROM attempts a"
        " LEFT JOIN operators o ON o.id = a.operator_id"
        " WHERE a.campaign_id = $1 AND a.outcome IS NOT NULL AND a.call_id IS NOT NULL",
        1,
        cid,
    )
    assert attempt["outcome"] == "answered"
    assert attempt["username"] == "ana" and attempt["call_id"] is not None
    logged = await rows(
        migrated_database,
        "SELECT caller_id_num, phone, campaign_id, direction, agent_interface, outcome"
        " FROM calls WHERE id = $1",
        attempt["call_id"],
    )
    (call,) = logged
    assert call["phone"] == "+12025550111" and call["caller_id_num"] != "s"
    assert (call["campaign_id"], call["direction"]) == (cid, "outbound")
    assert (call["agent_interface"], call["outcome"]) == ("PJSIP/agent1", "answered")


async def test_an_abandoned_dialer_call_is_logged_with_its_phone_and_campaign(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    carrier = await phones("carrier")
    carrier.on_invite(carrier_policy)
    await phones("agent1")  # rings, but nobody answers within the connect limit
    ana, sofia = await signed_in("ana"), await signed_in("sofia")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    cid = await campaign(sofia, name="Late", mode="progressive", phones=["+12025550121"])
    await start(sofia, cid)
    customer = await carrier.incoming(PBX_WAIT)
    await customer.answered.wait()
    await customer.ended(PBX_WAIT * 2)  # the abandon message played, then the PBX hung up
    (attempt,) = await until_rows(
        migrated_database,
        "SELECT outcome FROM attempts WHERE campaign_id = $1 AND outcome IS NOT NULL",
        1,
        cid,
    )
    assert attempt["outcome"] == "abandoned"
    logged = await until_rows(
        migrated_database,
        "SELECT phone, campaign_id, direction, outcome FROM calls WHERE campaign_id = $1",
        1,
        cid,
    )
    assert [(r["phone"], r["direction"]) for r in logged] == [("+12025550121", "outbound")]
    assert all(r["outcome"] is not None for r in logged)


async def test_busy_congestion_and_no_answer_are_retried_per_their_rules(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    carrier = await phones("carrier")
    carrier.on_invite(carrier_policy)
    agent1 = await phones("agent1")
    agent1.auto_answer = 0.0
    ana, sofia = await signed_in("ana"), await signed_in("sofia")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    leads = [f"+1202555{BUSY}", f"+1202556{CONGESTION}", f"+1202557{NO_ANSWER}"]
    cid = await campaign(sofia, name="Refusals", mode="progressive", phones=leads)
    await start(sofia, cid)
    found = await until_rows(
        migrated_database,
        "SELECT l.phone, a.outcome, l.next_attempt_at IS NOT NULL AS again FROM attempts a"
        " JOIN leads l ON l.id = a.lead_id WHERE a.campaign_id = $1 AND a.outcome IS NOT NULL",
        3,
        cid,
        within=60.0,
    )
    outcome = {r["phone"]: (r["outcome"], r["again"]) for r in found}
    assert outcome == {
        leads[0]: ("busy", True),
        leads[1]: ("congestion", True),
        leads[2]: ("no_answer", True),
    }
    assert agent1.calls == []  # nobody answered: no agent was bothered


async def test_a_paused_agent_cannot_dial_a_preview_lead_and_nothing_is_abandoned(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
) -> None:
    carrier = await phones("carrier")
    carrier.on_invite(carrier_policy)
    agent1 = await phones("agent1")
    ana, sofia = await signed_in("ana"), await signed_in("sofia")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    cid = await campaign(sofia, name="Preview", mode="preview", phones=["+12025550131"])
    await start(sofia, cid)
    assert (await ana.post("/api/v1/desk/pause", json={"reason": "break"})).status == 200
    await wait_desk(ana, "paused", lambda d: d["state"] == "paused")
    pop = await (await ana.post(f"/api/v1/campaigns/{cid}/preview/next", json={})).json()
    lead = pop["lead"]["lead"]["id"]
    resp = await ana.post(f"/api/v1/campaigns/{cid}/preview/{lead}/dial", json={})
    assert resp.status == 409, await resp.text()
    assert "paused" in (await resp.json())["error"]
    assert carrier.calls == []

    # Ready again, the agent's own phone rings first; the customer is dialled once it answers.
    assert (await ana.post("/api/v1/desk/resume", json={})).status == 200
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    sock = await open_desk(ana)
    resp = await ana.post(f"/api/v1/campaigns/{cid}/preview/{lead}/dial", json={})
    assert resp.status == 200, await resp.text()
    mine = await agent1.incoming(PBX_WAIT)
    assert carrier.calls == []  # not before the agent is there
    await asyncio.sleep(1.5)  # the agent takes a moment to pick up: no harm done
    await mine.answer()
    customer = await carrier.incoming(PBX_WAIT)
    await customer.answered.wait()
    await sock.next("connected")
    await customer.hangup()
    await sock.next("call_ended")
    await sock.close()
    (attempt,) = await until_rows(
        migrated_database,
        "SELECT outcome, connected_at IS NOT NULL AS connected FROM attempts"
        " WHERE campaign_id = $1 AND outcome IS NOT NULL",
        1,
        cid,
    )
    assert (attempt["outcome"], attempt["connected"]) == ("answered", True)
    live = await figures(sofia, cid)
    assert live["abandoned"] == 0


@pytest.mark.parametrize(
    ("outcome", "ending"),
    [("busy", BUSY), ("congestion", CONGESTION), ("no_answer", NO_ANSWER)],
)
async def test_a_preview_customer_who_does_not_answer_is_retried_and_the_agent_is_free_again(
    pbx: Asterisk,
    cti: CtiServer,
    signed_in: SignedIn,
    phones: Phones,
    migrated_database: str,
    outcome: str,
    ending: str,
) -> None:
    carrier = await phones("carrier")
    carrier.on_invite(carrier_policy)
    agent1 = await phones("agent1")
    agent1.auto_answer = 0.0
    ana, sofia = await signed_in("ana"), await signed_in("sofia")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    cid = await campaign(
        sofia, name=f"Preview {outcome}", mode="preview", phones=[f"+1202555{ending}"]
    )
    await start(sofia, cid)
    pop = await (await ana.post(f"/api/v1/campaigns/{cid}/preview/next", json={})).json()
    lead = pop["lead"]["lead"]["id"]
    resp = await ana.post(f"/api/v1/campaigns/{cid}/preview/{lead}/dial", json={})
    assert resp.status == 200, await resp.text()
    mine = await agent1.incoming(PBX_WAIT)
    await mine.answered.wait()
    refused = await carrier.incoming(PBX_WAIT)
    assert await refused.ended(30) in ("rejected", "cancelled")  # no answer: its 15 s ring
    assert await mine.ended(PBX_WAIT) == "bye-received"
    (attempt,) = await until_rows(
        migrated_database,
        "SELECT a.outcome, l.status, l.next_attempt_at IS NOT NULL AS again FROM attempts a"
        " JOIN leads l ON l.id = a.lead_id WHERE a.campaign_id = $1 AND a.outcome IS NOT NULL",
        1,
        cid,
    )
    assert (attempt["outcome"], attempt["status"], attempt["again"]) == (outcome, "retry", True)
    await wait_desk(ana, "ready again", lambda d: d["state"] == "ready")
    assert (await figures(sofia, cid))["abandoned"] == 0
