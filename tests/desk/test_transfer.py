"""Attended transfer through the PBX simulator (which plays Asterisk's Atxfer as the pbx tier
shows it): ana consults bruno, picked from the free agents, then completes or cancels."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from cti.app import RunningService
from cti.sim import PbxSimulator

from .conftest import Client, DeskSocket, until

AtDesk = Callable[..., Awaitable[tuple[Client, DeskSocket]]]


async def _ana_on_a_call(
    sim: PbxSimulator, at_desk: AtDesk
) -> tuple[Client, DeskSocket, dict[str, Any]]:
    ana, ana_ws = await at_desk("ana")
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=600)
    await sim.advance(0.2)
    await ana_ws.next("pop")
    assert (await ana.post("/api/v1/desk/answer")).status == 200
    attention = (await ana_ws.next("attention"))["attention"]
    resp = await ana.post(
        f"/api/v1/desk/attentions/{attention['id']}/notes", json={"text": "asks for a refund"}
    )
    assert resp.status == 200, await resp.text()
    return ana, ana_ws, attention


async def _consult_bruno(ana: Client, bruno: Client, bruno_ws: DeskSocket) -> None:
    free = (await (await ana.get("/api/v1/desk/transfer/targets")).json())["agents"]
    assert [a["name"] for a in free] == ["Bruno Dias"]
    resp = await ana.post(
        "/api/v1/desk/transfer/consult", json={"kind": "agent", "agent_id": free[0]["user_id"]}
    )
    assert resp.status == 200, await resp.text()
    pop = (await bruno_ws.next("pop"))["pop"]
    assert pop["status"] == "transfer"
    # Bruno has no personal_data permission: the pop he is handed is masked for him.
    assert pop["masked"] is True
    assert pop["customer"]["name"] == "Ac** Sup*****"
    assert pop["transfer"]["from"] == "Ana Lima"
    assert [n["text"] for n in pop["transfer"]["attention"]["notes"]] == ["asks for a refund"]
    assert (await bruno.post("/api/v1/desk/answer")).status == 200
    state = await (await ana.get("/api/v1/desk/transfer")).json()
    assert state == {
        "phase": "consulting",
        "target": {"kind": "agent", "label": "Bruno Dias"},
        "target_up": True,
    }


def _caller(sim: PbxSimulator) -> str:
    return next(n for n in sim.pbx.channels if n.startswith("PJSIP/carrier"))


def _bridged(sim: PbxSimulator, *prefixes: str) -> bool:
    return any(
        all(any(c.name.startswith(p) for c in ch.bridge.channels) for p in prefixes)
        for ch in sim.pbx.channels.values()
        if ch.bridge is not None
    )


async def test_a_completed_attended_transfer_gives_the_caller_and_the_attention_to_the_agent(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, ana_ws, attention = await _ana_on_a_call(sim, at_desk)
    bruno, bruno_ws = await at_desk("bruno")
    await _consult_bruno(ana, bruno, bruno_ws)

    assert (await ana.post("/api/v1/desk/transfer/complete")).status == 200
    await ana_ws.next("call_ended")
    await ana_ws.next("wrapup", lambda m: m["wrapup"] is not None)
    await until(lambda: _bridged(sim, "PJSIP/carrier", "PJSIP/agent2-"), what="caller to bruno")
    connected = await bruno_ws.next("connected")
    assert connected["call"]["caller_num"] == "+12025****01"  # masked for bruno
    theirs = (await bruno_ws.next("attention"))["attention"]
    assert theirs["id"] != attention["id"]
    assert theirs["customer_id"] == customers["acme"]

    sim.hangup(_caller(sim))
    await bruno_ws.next("call_ended")
    await bruno_ws.next("wrapup", lambda m: m["wrapup"] is not None)


async def test_a_cancelled_attended_transfer_brings_ana_back_to_the_caller(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, ana_ws, _ = await _ana_on_a_call(sim, at_desk)
    bruno, bruno_ws = await at_desk("bruno")
    await _consult_bruno(ana, bruno, bruno_ws)
    assert not _bridged(sim, "PJSIP/carrier", "PJSIP/agent1-")  # the caller holds

    assert (await ana.post("/api/v1/desk/transfer/cancel")).status == 200
    assert _bridged(sim, "PJSIP/carrier", "PJSIP/agent1-")
    update = await bruno_ws.next("pop_update")
    assert update["pop"]["status"] == "transfer_cancelled"
    state = await (await ana.get("/api/v1/desk/transfer")).json()
    assert state["phase"] == "none"
    assert (await ana.post("/api/v1/desk/transfer/complete")).status == 409
    assert ana_ws.of("call_ended") == []

    sim.hangup(_caller(sim))
    await ana_ws.next("call_ended")


async def test_only_free_agents_are_offered_and_a_busy_one_is_refused(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, _, _ = await _ana_on_a_call(sim, at_desk)
    bruno, bruno_ws = await at_desk("bruno")
    assert (await bruno.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
    await until(lambda: bruno_ws.state() == "paused", what="bruno paused")
    targets = await (await ana.get("/api/v1/desk/transfer/targets")).json()
    assert targets["agents"] == []
    assert set(targets["queues"]) >= {"support", "sales", "collections"}
    resp = await ana.post(
        "/api/v1/desk/transfer/consult", json={"kind": "agent", "agent_id": bruno.user["id"]}
    )
    assert resp.status == 409
    assert "not free" in (await resp.json())["error"]
    resp = await ana.post("/api/v1/desk/transfer/consult", json={"kind": "number", "number": "12"})
    assert resp.status == 400
    assert (await resp.json())["field"] == "number"


async def test_a_blind_transfer_to_an_agent_rings_them_with_the_pop_and_is_theirs_once_answered(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, ana_ws, attention = await _ana_on_a_call(sim, at_desk)
    bruno, bruno_ws = await at_desk("bruno")
    resp = await ana.post(
        "/api/v1/desk/transfer/blind", json={"kind": "agent", "agent_id": bruno.user["id"]}
    )
    assert resp.status == 200, await resp.text()
    pop = (await bruno_ws.next("pop"))["pop"]
    assert pop["status"] == "transfer"
    assert pop["transfer"]["kind"] == "blind"
    assert [n["text"] for n in pop["transfer"]["attention"]["notes"]] == ["asks for a refund"]

    assert (await bruno.post("/api/v1/desk/answer")).status == 200
    connected = await bruno_ws.next("connected")
    assert connected["pop"]["transfer"]["from"] == "Ana Lima"
    assert connected["pop"]["customer"]["name"] == "Ac** Sup*****"
    theirs = (await bruno_ws.next("attention"))["attention"]
    assert theirs["id"] != attention["id"] and theirs["customer_id"] == customers["acme"]
    assert _bridged(sim, "PJSIP/carrier", "PJSIP/agent2-")

    assert (await bruno.post("/api/v1/desk/hangup")).status == 200
    await bruno_ws.next("call_ended")
    await ana_ws.next("call_ended")
    assert not any(n.startswith("PJSIP/carrier") for n in sim.pbx.channels)


async def test_a_blind_transfer_to_a_queue_pops_at_its_agent_with_the_attention_so_far(
    service: RunningService, sim: PbxSimulator, customers: dict[str, int], at_desk: AtDesk
) -> None:
    ana, _, _ = await _ana_on_a_call(sim, at_desk)
    bruno, bruno_ws = await at_desk("bruno")  # telesales: the sales queue
    resp = await ana.post("/api/v1/desk/transfer/blind", json={"kind": "queue", "queue": "sales"})
    assert resp.status == 200, await resp.text()
    await sim.advance(0.5)
    pop = (await bruno_ws.next("pop"))["pop"]
    assert pop["queue"] == "sales" and pop["status"] == "ringing"
    assert pop["transfer"]["from"] == "Ana Lima"
    assert [n["text"] for n in pop["transfer"]["attention"]["notes"]] == ["asks for a refund"]
    assert (await bruno.post("/api/v1/desk/answer")).status == 200
    await bruno_ws.next("connected")
    assert _bridged(sim, "PJSIP/carrier", "PJSIP/agent2-")
