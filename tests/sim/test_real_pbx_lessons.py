"""What the real Asterisk taught the simulator (``tests/captures``), and cti's answers to it, in
the fast suite: phones that are not registered, a PBX restarted or killed, ChanSpy's option E.

The first tests drive the simulator alone; the others run cti itself against it (as the desk
tests do: a real aiohttp server, real PostgreSQL), so the fast suite guards what the ``pbx`` tier
proved on a real PBX.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa

from cti.app import RunningService
from cti.db.models import Attempt, Campaign, Lead
from cti.domain.model import CampaignKind, CampaignMode, CampaignStatus
from cti.sim import PbxSimulator
from cti.sim.protocol import Headers, get
from tests.desk.conftest import (
    Client,
    DeskSocket,
    at_desk,
    calls_rows,
    client_factory,
    service,
    until,
    users,
)
from tests.sim.client import RawAmi
from tests.sim.test_protocol import login

__all__ = ["at_desk", "client_factory", "service", "users"]

AtDesk = Callable[..., Awaitable[tuple[Client, DeskSocket]]]
# config/asterisk/manager.conf
CHANNELVARS = ("CTI_ACTION_ID", "CTI_CAMPAIGN", "CTI_LEAD")
ALL_DAY = [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59"}]


@pytest.fixture
async def sim() -> AsyncIterator[PbxSimulator]:
    """The simulator as cti's own config/asterisk makes Asterisk (channelvars, no hold music)."""
    async with PbxSimulator(
        manual_time=True, channelvars=CHANNELVARS, music_on_hold=False
    ) as simulator:
        yield simulator


def events(client: RawAmi, name: str, **headers: str) -> list[Headers]:
    return [
        m
        for m in client.received
        if get(m, "Event") == name and all(get(m, k) == v for k, v in headers.items())
    ]


# --- the simulator alone --------------------------------------------------------------------------


async def test_a_phone_that_is_not_registered_is_an_unavailable_member_never_rung(
    sim: PbxSimulator,
) -> None:
    client = await login(sim)
    await client.response("l1")
    sim.unregister("PJSIP/agent1")
    assert sim.pbx.queue_add("support", "PJSIP/agent1", name="Ana Lima") is None
    await client.drain()
    (added,) = events(client, "QueueMemberAdded")
    assert get(added, "Status") == "5"
    sim.inbound_call("support", "2025550123", "Dora", talk_seconds=None)
    await sim.advance(20.0)
    await client.drain()
    assert events(client, "AgentCalled") == []

    sim.register("PJSIP/agent1")
    await sim.advance(0.1)
    await client.drain()
    assert [get(m, "Status") for m in events(client, "QueueMemberStatus")][:1] == ["1"]
    assert events(client, "PeerStatus", Peer="PJSIP/agent1", PeerStatus="Reachable")
    # Now it rings, and a ringing phone is BUSY (device_state_busy_at = 1): Status 3, not 6.
    (called,) = events(client, "AgentCalled")
    assert get(called, "Interface") == "PJSIP/agent1"
    assert [get(m, "Status") for m in events(client, "QueueMemberStatus")] == ["1", "3"]
    assert events(client, "DeviceStateChange", Device="PJSIP/agent1", State="BUSY")

    sim.unregister("PJSIP/agent1")
    await client.drain()
    assert events(client, "PeerStatus", Peer="PJSIP/agent1", PeerStatus="Unreachable")
    assert events(client, "ContactStatus", AOR="agent1", ContactStatus="Removed")
    await client.close()


async def test_an_originate_to_a_phone_that_is_not_registered_fails_at_once(
    sim: PbxSimulator,
) -> None:
    client = await login(sim)
    await client.response("l1")
    sim.unregister("PJSIP/agent9")
    client.send(
        [
            ("Action", "Originate"),
            ("ActionID", "o1"),
            ("Channel", "PJSIP/agent9"),
            ("Context", "cti-spy"),
            ("Exten", "listen"),
            ("Async", "true"),
        ]
    )
    await client.response("o1")
    (resp,) = events(client, "OriginateResponse")
    assert (get(resp, "Response"), get(resp, "Reason"), get(resp, "Uniqueid")) == (
        "Failure",
        "0",
        "<unknown>",
    )
    assert events(client, "Newchannel") == []
    await client.close()


async def test_a_restart_says_shutdown_hangs_up_and_boots_without_members(
    sim: PbxSimulator,
) -> None:
    client = await login(sim)
    await client.response("l1")
    sim.pbx.queue_add("support", "PJSIP/agent1", name="Ana Lima")
    sim.inbound_call("support", "2025550123", "Dora", talk_seconds=None)
    await sim.advance(0.1)
    assert sim.answer("PJSIP/agent1")
    await client.drain()
    await sim.restart(down_seconds=1.0, boot_seconds=0.5, qualify_seconds=3.0)
    await client.read_to_eof()
    assert client.closed
    names = [get(m, "Event") for m in client.received]
    # Every call is hung up and said so, with the queue's AgentComplete; then Shutdown, last.
    assert names[-1] == "Shutdown"
    assert get(events(client, "AgentComplete")[0], "Reason") == "caller"
    assert {get(m, "Cause") for m in events(client, "SoftHangupRequest")} >= {"4"}
    assert sorted(get(m, "Channel").rpartition("-")[0] for m in events(client, "Hangup")) == [
        "PJSIP/agent1",
        "PJSIP/carrier-in",
    ]

    with pytest.raises(OSError):  # nobody listens while Asterisk is down
        await RawAmi.connect(sim.port)
    await sim.advance(1.0)
    await asyncio.sleep(0.05)
    again = await login(sim)
    assert get(await again.response("l1"), "Response") == "Success"
    # Logged in while it boots: no FullyBooted yet, and app_queue is not there.
    again.send([("Action", "QueueStatus"), ("ActionID", "q1")])
    refused = await again.response("q1")
    assert get(refused, "Message").startswith("Invalid/unknown command: QueueStatus.")
    assert events(again, "FullyBooted") == []
    await sim.advance(0.5)
    await again.event("FullyBooted")
    again.send([("Action", "QueueStatus"), ("ActionID", "q2")])
    assert get(await again.response("q2"), "Response") == "Success"
    await again.event("QueueStatusComplete")
    assert events(again, "QueueMember") == []  # persistentmembers = no
    assert sim.pbx.channels == {}

    # The phone is still registered, but unavailable until Asterisk's first qualify.
    sim.pbx.queue_add("support", "PJSIP/agent1", name="Ana Lima")
    await again.drain()
    assert get(events(again, "QueueMemberAdded")[0], "Status") == "5"
    await sim.advance(3.0)
    await again.drain()
    assert events(again, "PeerStatus", Peer="PJSIP/agent1", PeerStatus="Reachable")
    assert get(events(again, "QueueMemberStatus")[-1], "Status") == "1"
    await again.close()


async def test_a_crash_drops_the_socket_without_a_word_and_the_calls_vanish(
    sim: PbxSimulator,
) -> None:
    client = await login(sim)
    await client.response("l1")
    sim.pbx.queue_add("support", "PJSIP/agent1", name="Ana Lima")
    sim.inbound_call("support", "2025550123", "Dora", talk_seconds=None)
    await sim.advance(0.1)
    assert sim.answer("PJSIP/agent1")
    await client.drain()
    before = len(client.received)
    await sim.crash()
    await client.read_to_eof()
    assert client.closed and client.received[before:] == []
    await sim.advance(sim.restart_seconds + sim.boot_seconds)
    await asyncio.sleep(0.05)
    again = await login(sim)
    await again.response("l1")
    again.send([("Action", "CoreShowChannels"), ("ActionID", "c1")])
    done = await again.event("CoreShowChannelsComplete")
    assert get(done, "ListItems") == "0"
    assert sim.pbx.queues["support"].members == {}
    await again.close()


async def test_chanspy_with_option_e_ends_with_the_spied_call(sim: PbxSimulator) -> None:
    client = await login(sim)
    await client.response("l1")
    sim.pbx.queue_add("support", "PJSIP/agent1", name="Ana Lima")
    caller = sim.inbound_call("support", "2025550123", "Dora", talk_seconds=None)
    await sim.advance(0.1)
    assert sim.answer("PJSIP/agent1")
    client.send(
        [
            ("Action", "Originate"),
            ("ActionID", "spy"),
            ("Channel", "PJSIP/agent9"),
            ("Context", "cti-spy"),
            ("Exten", "listen"),
            ("Async", "true"),
            ("Variable", "CTI_SPY_TARGET=PJSIP/agent1-"),
        ]
    )
    await client.response("spy")
    assert sim.answer("PJSIP/agent9")
    start = await client.event("ChanSpyStart")
    assert get(start, "SpyeeChannel").startswith("PJSIP/agent1-")
    assert sim.remote_hangup(caller)  # the customer hangs up
    await client.event("ChanSpyStop")
    await sim.advance(0.1)
    await client.drain()
    spyer = get(start, "SpyerChannel")
    assert events(client, "Hangup", Channel=spyer), "the supervisor's phone is hung up"
    assert sim.pbx.channels == {}
    # The agent's next call: nobody listens.
    sim.inbound_call("support", "2025550124", "Eve", talk_seconds=None)
    await sim.advance(0.1)
    assert sim.answer("PJSIP/agent1")
    await client.drain()
    assert len(events(client, "ChanSpyStart")) == 1
    await client.close()


async def test_chanspy_without_option_e_joins_the_agents_next_call(sim: PbxSimulator) -> None:
    client = await login(sim)
    await client.response("l1")
    sim.pbx.queue_add("support", "PJSIP/agent1", name="Ana Lima")
    first = sim.inbound_call("support", "2025550123", "Dora", talk_seconds=None)
    await sim.advance(0.1)
    assert sim.answer("PJSIP/agent1")
    client.send(
        [
            ("Action", "Originate"),
            ("ActionID", "spy"),
            ("Channel", "PJSIP/agent9"),
            ("Application", "ChanSpy"),
            ("Data", "PJSIP/agent1-,q"),
            ("Async", "true"),
        ]
    )
    await client.response("spy")
    assert sim.answer("PJSIP/agent9")
    await client.event("ChanSpyStart")
    assert sim.remote_hangup(first)
    await client.event("ChanSpyStop")
    sim.inbound_call("support", "2025550124", "Eve", talk_seconds=None)
    await sim.advance(0.1)
    assert sim.answer("PJSIP/agent1")
    await client.drain()
    assert len(events(client, "ChanSpyStart")) == 2  # still there, listening again
    await client.close()


# --- cti against it -----------------------------------------------------------------------------


async def _desk(client: Client) -> dict[str, Any]:
    resp = await client.get("/api/v1/desk")
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = (await resp.json())["desk"]
    return body


async def _until_desk(
    sim: PbxSimulator,
    service: RunningService,
    client: Client,
    what: str,
    test: Callable[[dict[str, Any]], bool],
    *,
    step: float = 0.0,
    within: float = 10.0,
) -> dict[str, Any]:
    """Poll the desk (moving PBX time ``step`` a turn) until ``test`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    body: dict[str, Any] = {}
    while loop.time() < deadline:
        if step:
            await sim.advance(step)
        if service.runtime.ami.status()["pbx1"] == "connected":
            await service.runtime.ami.flush("pbx1")
        body = await _desk(client)
        if test(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"the desk never was {what}: {body}")


async def _dispose_after_call(
    sim: PbxSimulator, service: RunningService, client: Client, *, step: float = 0.0
) -> dict[str, Any]:
    """The call ended: wait for the agent's after-call work, close its attention, and wait until
    they are ready for the next call."""
    desk = await _until_desk(
        sim, service, client, "in wrap-up", lambda d: d["state"] == "wrap_up", step=step
    )
    resp = await client.patch(
        f"/api/v1/desk/attentions/{desk['attention']['id']}", json={"status": "closed"}
    )
    assert resp.status == 200, await resp.text()
    return await _until_desk(
        sim, service, client, "ready", lambda d: d["state"] == "ready", step=step
    )


async def test_an_operator_on_a_phone_that_is_not_registered_is_offline_and_never_dialled_for(
    service: RunningService,
    sim: PbxSimulator,
    at_desk: AtDesk,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    db = service.runtime.db
    async with db.sessions.begin() as s:
        campaign = Campaign(
            name="Renewals",
            kind=CampaignKind.TELEMARKETING,
            mode=CampaignMode.PROGRESSIVE,
            status=CampaignStatus.PAUSED,
            queue="support",
            caller_id="2025550100",
            ring_seconds=15,
            windows=ALL_DAY,
            retry_rules={},
        )
        s.add(campaign)
        await s.flush()
        s.add(Lead(campaign_id=campaign.id, phone="+12025550101", name="Lead 1"))
        cid = int(campaign.id)

    sim.unregister("PJSIP/agent1")
    ana, _ = await at_desk("ana", pbx=False)
    assert (await ana.post("/api/v1/desk/signin", json={})).status == 200
    desk = await _until_desk(sim, service, ana, "offline", lambda d: d["phone_unavailable"])
    assert desk["state"] == "offline"
    assert sim.pbx.queues["support"].members["PJSIP/agent1"].status == 5

    sofia = await client_factory()
    await sofia.login("sofia", users["sofia"])
    assert (await sofia.post(f"/api/v1/campaigns/{cid}/start", json={})).status == 200

    async def live() -> dict[str, Any]:
        body = await (await sofia.get(f"/api/v1/campaigns/{cid}")).json()
        figures: dict[str, Any] = body["live"] or {}
        return figures

    async def attempts() -> int:
        async with db.sessions() as s:
            return int(await s.scalar(sa.select(sa.func.count()).select_from(Attempt)) or 0)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.5  # the dialer paces at least every second
    while loop.time() < deadline:
        figures = await live()
        assert figures.get("agents_ready", 0) == 0, figures
        assert figures.get("in_flight", 0) == 0, figures
        await asyncio.sleep(0.1)
    assert await attempts() == 0, "nobody could take it: no call placed"

    sim.register("PJSIP/agent1")
    desk = await _until_desk(sim, service, ana, "ready", lambda d: d["state"] == "ready")
    assert not desk["phone_unavailable"]
    await until(lambda: sim.pbx.channels, what="the dialer's call for ana")
    assert await attempts() == 1


async def test_after_a_pbx_restart_cti_puts_the_operator_back_paused_as_she_was(
    service: RunningService, sim: PbxSimulator, at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    assert (await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
    await ws.next("state", lambda m: m["state"] == "paused")

    await sim.restart()
    assert sim.pbx.queues["support"].members == {}  # persistentmembers = no
    # cti reconnects, waits for FullyBooted, resyncs and puts her back; her phone is unavailable
    # until Asterisk's first qualify...
    await _until_desk(
        sim,
        service,
        ana,
        "back in the queue",
        lambda d: "PJSIP/agent1" in sim.pbx.queues["support"].members,
        step=0.1,
    )
    member = sim.pbx.queues["support"].members["PJSIP/agent1"]
    assert member.paused and member.paused_reason == "lunch"
    # ... then she is paused with her reason, as before the restart.
    desk = await _until_desk(
        sim,
        service,
        ana,
        "paused again",
        lambda d: d["state"] == "paused" and not d["phone_unavailable"],
        step=0.2,
    )
    assert desk["reason"] == "lunch"
    assert member.status == 1
    await ws.next("state", lambda m: m["state"] == "paused" and m["reason"] == "lunch")


async def _connected_call(sim: PbxSimulator, ana: Client, ws: DeskSocket) -> None:
    sim.inbound_call("support", "+12025550123", "Dora", talk_seconds=None)
    await sim.advance(0.2)
    await ws.next("pop")
    assert (await ana.post("/api/v1/desk/answer")).status == 200
    await ws.next("connected")


async def _call_ended(sim: PbxSimulator, ws: DeskSocket) -> dict[str, Any]:
    """Move PBX time until the desk is told the call ended."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10.0
    while loop.time() < deadline:
        ended = next((m for m in ws.messages if m["type"] == "call_ended"), None)
        if ended is not None:
            return ended
        await sim.advance(0.1)
        await asyncio.sleep(0.05)
    raise AssertionError("no call_ended on the desk")


async def _logged_call(service: RunningService) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for _ in range(100):
        rows = await calls_rows(service.runtime.db)
        if rows and rows[0]["ended_at"] is not None:
            break
        await asyncio.sleep(0.05)
    (row,) = rows
    return row


async def test_a_pbx_crash_mid_call_ends_the_call_as_lost_on_the_desk_and_in_the_call_log(
    service: RunningService, sim: PbxSimulator, at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    await _connected_call(sim, ana, ws)
    await sim.crash()  # not a word on AMI: the resync finds the call gone
    ended = await _call_ended(sim, ws)
    assert ended["footer"]["last_call"]["ended_by"] == "lost"
    row = await _logged_call(service)
    assert row["outcome"] == "lost" and row["ended_at"] is not None
    # And she is back in her queue once the new Asterisk has qualified her phone, in after-call
    # work: the lost call's attention is still to dispose.
    await _dispose_after_call(sim, service, ana, step=0.2)


async def test_a_pbx_restart_mid_call_ends_the_call_as_the_pbx_says(
    service: RunningService, sim: PbxSimulator, at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    await _connected_call(sim, ana, ws)
    await sim.restart()  # Asterisk hangs the call up and says so (AgentComplete) before it goes
    ended = await _call_ended(sim, ws)
    assert ended["footer"]["last_call"]["ended_by"] == "caller"
    row = await _logged_call(service)
    assert row["outcome"] == "answered"
    await _dispose_after_call(sim, service, ana, step=0.2)


async def test_a_blind_transfer_frees_the_agent_at_once_and_the_late_agent_complete_changes_nothing(
    service: RunningService, sim: PbxSimulator, at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    await _connected_call(sim, ana, ws)
    resp = await ana.post("/api/v1/desk/transfer", json={"exten": "202", "context": "from-agents"})
    assert resp.status == 200, await resp.text()
    # Asterisk hangs ana's leg up at once (no AgentComplete yet) and rings agent2's phone.
    ended = await _call_ended(sim, ws)
    assert ended["footer"]["last_call"]["ended_by"] == "transfer"
    await _dispose_after_call(sim, service, ana)
    assert sim.answer("PJSIP/agent2")
    await sim.advance(5.0)
    caller = next(n for n in sim.pbx.channels if n.startswith("PJSIP/carrier-in-"))
    mark = len(ws.messages)
    # The caller hangs up on agent2: only now does app_queue say AgentComplete for ana.
    assert sim.remote_hangup(caller)
    await sim.advance(0.5)
    await service.runtime.ami.flush("pbx1")
    await asyncio.sleep(0.2)
    assert [m for m in ws.messages[mark:] if m["type"] in ("call_ended", "connected")] == []
    desk = await _desk(ana)
    assert desk["state"] == "ready"
    row = await _logged_call(service)
    assert row["ended_at"] is not None
