"""Attended transfer through the PBX simulator (which plays Asterisk's Atxfer as the pbx tier
shows it): ana consults bruno, picked from the free agents, then completes or cancels."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa

from cti.app import RunningService
from cti.domain.notices import AgentState, CallKind
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
    # On a call no queue gave him, the one sent to him: not one he dialled.
    live = service.runtime.ami.state("pbx1").agents["PJSIP/agent2"]
    assert (live.state, live.call_kind) == (AgentState.IN_CALL, CallKind.DIRECT)

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


async def _tile(sofia: Client, interface: str, state: str) -> dict[str, Any]:
    """The agent's tile on the wallboard (the supervisor's REST view), once in ``state``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15.0
    while True:
        board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
        tile: dict[str, Any] = next(a for a in board["agents"] if a["interface"] == interface)
        if tile["state"] == state:
            return tile
        if loop.time() > deadline:
            raise AssertionError(f"{interface} is {tile['state']}, not {state}")
        await asyncio.sleep(0.05)


async def test_the_wallboard_shows_the_consulted_agent_on_a_call_and_in_wrap_up_once_it_ended(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    at_desk: AtDesk,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    sofia = await client_factory()
    assert (await sofia.login("sofia", users["sofia"])).status == 200
    ana, _, _ = await _ana_on_a_call(sim, at_desk)
    bruno, bruno_ws = await at_desk("bruno")
    await _consult_bruno(ana, bruno, bruno_ws)
    consulted = await _tile(sofia, "PJSIP/agent2", "in_call")
    assert consulted["call"]["kind"] == "consult"
    assert (await _tile(sofia, "PJSIP/agent1", "in_call"))["call"]["kind"] == "queue"

    assert (await ana.post("/api/v1/desk/transfer/complete")).status == 200
    await bruno_ws.next("connected")  # his desk holds him for the wrap-up to come: a pause
    await until(lambda: _bridged(sim, "PJSIP/carrier", "PJSIP/agent2-"), what="caller to bruno")
    talking = await _tile(sofia, "PJSIP/agent2", "in_call")
    assert talking["call"]["kind"] == "direct"
    assert talking["call"]["started_ms"] == consulted["call"]["started_ms"]  # his talk goes on
    # Ana is in wrap-up: off the call that goes on with bruno.
    assert (await _tile(sofia, "PJSIP/agent1", "wrap_up"))["call"] is None

    hung_up = service.runtime.clock.now()
    sim.hangup(_caller(sim))
    await bruno_ws.next("call_ended")
    wrapping = await _tile(sofia, "PJSIP/agent2", "wrap_up")
    assert wrapping["since_ms"] >= int(hung_up.timestamp() * 1000) and wrapping["call"] is None
    theirs = next(m for m in bruno_ws.messages if m["type"] == "attention")["attention"]
    saved = await bruno.patch(f"/api/v1/desk/attentions/{theirs['id']}", json={"status": "closed"})
    assert saved.status == 200, await saved.text()
    await _tile(sofia, "PJSIP/agent2", "ready")
    # The wrap-up recorded for the reports began when the call ended, not at the transfer.
    async with service.runtime.db.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT started_at FROM wrapups WHERE interface = 'PJSIP/agent2'")
        )
        (started,) = [r[0] for r in rows]
    assert started >= hung_up
