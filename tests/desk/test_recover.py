"""A desk whose browser phone lost its leg mid-call (the page reloaded) takes the caller back:
the simulator plays what the dialplan's ``[cti-transfer] agent-recover`` does (the caller rings
the same agent again), and the desk goes on with the same call, timer and attention. The real
Asterisk and Chromium version is tests/pbx/test_softphone_browser.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from cti.app import RunningService
from cti.db.users import add_user
from cti.sim import PbxSimulator

from .conftest import Client, DeskSocket, until

AtDesk = Callable[..., Awaitable[tuple[Client, DeskSocket]]]


@pytest.fixture
async def carla(service: RunningService) -> str:
    """An operator whose phone is the desk's own (WebRTC): PJSIP/agent3 in the simulator."""
    await add_user(
        service.runtime.db,
        username="carla",
        password="carla-secret-1",
        role="operator",
        routines=["telemarketing"],
        extension="PJSIP/agent3",
        full_name="Carla Souza",
        softphone=True,
    )
    return "carla-secret-1"


async def _on_a_call(
    sim: PbxSimulator, at_desk: AtDesk, password: str
) -> tuple[Client, DeskSocket, dict[str, Any], dict[str, Any]]:
    carla, ws = await at_desk("carla", password=password)
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await ws.next("pop")
    assert sim.answer("PJSIP/agent3")
    connected = await ws.next("connected")
    attention = (await ws.next("attention"))["attention"]
    return carla, ws, connected, attention


def _caller(sim: PbxSimulator) -> str:
    return next(n for n in sim.pbx.channels if n.startswith("PJSIP/carrier"))


async def test_the_caller_rings_the_same_agent_again_and_the_call_goes_on(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    carla: str,
    at_desk: AtDesk,
) -> None:
    client, ws, connected, attention = await _on_a_call(sim, at_desk, carla)
    await sim.advance(30)  # talk, then the page reloads
    caller = _caller(sim)
    after = len(ws.messages)

    resp = await client.post("/api/v1/desk/call/recover")
    assert resp.status == 200, await resp.text()
    # The caller was redirected, not hung up: it rings Carla's phone again.
    await until(lambda: sim.answer("PJSIP/agent3"), what="carla's phone ringing again")
    again = await ws.next("connected", after=after)
    assert caller in sim.pbx.channels
    # The same call: its answer time (the timer runs on from the first answer), its pop; no
    # wrap-up between the two legs.
    assert again["call"]["answered_ms"] == connected["call"]["answered_ms"]
    assert again["pop"]["id"] == connected["pop"]["id"]
    assert again["pop"]["status"] == "answered"
    assert [m["type"] for m in ws.messages[after:] if m["type"] in ("call_ended", "wrapup")] == []
    assert ws.state() == "in_call"
    # Its attention is the one on screen: nothing new opened.
    await client.post(
        f"/api/v1/desk/attentions/{attention['id']}/notes", json={"text": "called back"}
    )
    shown = await (await client.get("/api/v1/desk")).json()
    assert shown["desk"]["attention"]["id"] == attention["id"]

    # The caller hangs up: the call ends once, with its whole talk time, and wrap-up begins.
    await sim.advance(10)
    assert sim.hangup(caller)
    ended = await ws.next("call_ended", after=after)
    assert ended["call"]["answered_ms"] == connected["call"]["answered_ms"]
    assert ended["call"]["talk_seconds"] == round(
        (ended["call"]["ended_ms"] - connected["call"]["answered_ms"]) / 1000
    )
    await ws.next("wrapup", lambda m: m["wrapup"] is not None, after=after)
    await sim.advance(1)
    assert len([m for m in ws.messages[after:] if m["type"] == "call_ended"]) == 1


async def test_unanswered_the_caller_goes_back_to_the_queue_and_the_agents_call_ends(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    carla: str,
    at_desk: AtDesk,
) -> None:
    client, ws, _, attention = await _on_a_call(sim, at_desk, carla)
    caller = _caller(sim)
    after = len(ws.messages)
    assert (await client.post("/api/v1/desk/call/recover")).status == 200
    await sim.advance(21)  # the phone never answers within the dialplan's 20 s
    await ws.next("call_ended", after=after)
    await ws.next("wrapup", lambda m: m["wrapup"] is not None, after=after)
    assert caller in sim.pbx.channels
    await until(lambda: len(sim.pbx.queues["support"].callers) == 1, what="caller queued")
    shown = await (await client.get("/api/v1/desk")).json()
    assert shown["desk"]["attention"]["id"] == attention["id"]  # kept, pending


async def test_a_desk_with_an_external_phone_or_no_call_is_refused(
    service: RunningService, sim: PbxSimulator, at_desk: AtDesk
) -> None:
    ana, _ = await at_desk("ana")
    resp = await ana.post("/api/v1/desk/call/recover")
    assert resp.status == 409
    assert "not the desk's" in (await resp.json())["error"]
