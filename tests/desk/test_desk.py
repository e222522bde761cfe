"""The agent desk end to end: cti over TCP to the PBX simulator, real PostgreSQL, real WebSockets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from cti.app import RunningService
from cti.db.users import add_user
from cti.sim import PbxSimulator

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
