"""The wallboard stream: figures match the calls the simulator makes; who may open it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from cti.app import RunningService
from cti.sim import PbxSimulator

from .conftest import Client, agent_of, open_wallboard, queue_of

AGENT = "Local/101@sim-agent/n"


async def test_figures_match_the_calls_computed_by_hand(
    service: RunningService, sim: PbxSimulator, supervisor: Client
) -> None:
    # One simulated agent in support who answers at once, no wrap-up; service level 20 s.
    assert service.runtime.settings.supervisor.service_level_seconds == 20
    sim.add_simulated_agent("support", AGENT, "Agent 101")
    wb = await open_wallboard(supervisor)
    await wb.next(lambda f: (a := agent_of(f, AGENT)) is not None and a["state"] == "ready")

    # t=0  C1 answered at once (waits 0 s), talks 30 s          -> ends t=30
    # t=1  C2 waits for the agent until t=30 (29 s > 20), 40 s  -> ends t=70
    # t=2  C3 gives up after 10 s (abandoned)
    # t=3  C4 gives up after 60 s (abandoned, the agent is busy until t=70)
    # t=75 C5 answered at once, talks 15 s                      -> ends t=90
    async def at_once() -> None:
        # cti stamps events when it receives them: let it read them before time moves on.
        await service.runtime.ami.flush("pbx1")

    sim.inbound_call("support", "+15550001", "C1", talk_seconds=30)
    await at_once()
    await sim.advance(1)
    sim.inbound_call("support", "+15550002", "C2", talk_seconds=40)
    await at_once()
    await sim.advance(1)
    sim.inbound_call("support", "+15550003", "C3", talk_seconds=40, patience=10)
    await at_once()
    await sim.advance(1)
    sim.inbound_call("support", "+15550004", "C4", talk_seconds=40, patience=60)
    await at_once()
    await sim.advance(2)  # t=5: C1 talking, three waiting
    await at_once()
    t5 = int(sim.pbx.now_epoch() * 1000)
    live = await wb.next(lambda f: f["now"] >= t5)
    assert queue_of(live, "support")["waiting"] == 3
    agent = agent_of(live, AGENT)
    assert agent is not None and agent["state"] == "in_call"
    assert agent["call"]["caller_num"] == "+15550001" and agent["call"]["queue"] == "support"
    assert queue_of(live, "support")["agents"]["in_call"] == 1
    assert live["totals"]["waiting"] == 3
    # cti runs on the simulator's clock: at t=5 C2 has waited 4 s and the agent talked 5 s.
    assert queue_of(live, "support")["longest_wait_seconds"] == 4
    assert agent["in_state_seconds"] == 5 and agent["call"]["seconds"] == 5

    await sim.advance(70)  # t=75
    sim.inbound_call("support", "+15550005", "C5", talk_seconds=15)
    await sim.advance(20)  # t=95: everything over
    await service.runtime.ami.flush("pbx1")

    done = await wb.next(lambda f: queue_of(f, "support")["answered"] == 3)
    q = queue_of(done, "support")
    answered, abandoned = 3, 2
    within = 2  # C1 and C5 waited 0 s; C2 waited 29 s
    waits = [0, 29, 10, 60, 0]
    talks = [30, 40, 15]
    assert q["waiting"] == 0
    assert q["answered"] == answered
    assert q["abandoned"] == abandoned
    assert q["answered_within"] == within
    assert q["service_level"] == round(within / (answered + abandoned), 4)  # 0.4
    assert q["sla_breach"] is True  # below the 80 % target
    assert q["avg_wait_seconds"] == round(sum(waits) / len(waits), 1)  # 19.8
    assert q["avg_talk_seconds"] == round(sum(talks) / len(talks), 1)  # 28.3
    assert q["talk_seconds"] == sum(talks)
    agent = agent_of(done, AGENT)
    assert agent is not None
    assert agent["calls_taken"] == 3 and agent["talk_seconds"] == 85
    assert agent["state"] == "ready" and agent["call"] is None
    assert done["totals"]["answered"] == 3 and done["totals"]["abandoned"] == 2
    assert sum(done["hourly"]["answered"]) == 3 and sum(done["hourly"]["abandoned"]) == 2
    assert not done["campaigns"]  # no campaign running (null without a dialer, [] with one)

    # Frames come about once a second, each numbered; a reconnect gets a fresh snapshot at once.
    seqs = [f["seq"] for f in wb.frames if f["type"] == "wallboard"]
    assert seqs == sorted(seqs)
    await wb.close()
    again = await open_wallboard(supervisor)
    first = again.frames[0]
    assert first["snapshot"] is True
    assert queue_of(first, "support")["answered"] == 3
    await again.send({"type": "resync"})
    assert (await again.next(lambda f: f["snapshot"]))["snapshot"] is True
    await again.close()


@pytest.mark.parametrize("who", ["operator", "nobody", "bad-origin"])
async def test_only_supervisors_from_our_pages_open_the_stream(
    who: str,
    supervisor: Client,
    operator: Client,
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    client = {"operator": operator, "bad-origin": supervisor}.get(who) or await client_factory()
    origin = "http://evil.example" if who == "bad-origin" else client.base.rstrip("/")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.http.ws_connect(f"{client.base}ws/wallboard", headers={"Origin": origin})
    assert refused.value.status == (401 if who == "nobody" else 403)
    resp = await client.get("/api/v1/supervisor/wallboard")
    assert resp.status == (401 if who == "nobody" else 200 if who == "bad-origin" else 403)


async def test_an_admin_opens_the_stream(
    service: RunningService, users: dict[str, str], client_factory: Callable[[], Awaitable[Client]]
) -> None:
    root = await client_factory()
    assert (await root.login("root", users["root"])).status == 200
    wb = await open_wallboard(root)
    assert wb.frames[0]["type"] == "wallboard" and wb.frames[0]["service_level_seconds"] == 20
    await wb.close()
