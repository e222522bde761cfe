"""Every real Asterisk 22 capture, replayed over loopback TCP into the real AmiService."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from cti.ami.service import AmiService
from cti.config import Secret
from cti.domain.commands import Originate, QueueAdd, QueuePause, QueueRemove
from cti.domain.events import DeviceStatus, OriginateOutcome
from cti.domain.notices import (
    AgentCallEnded,
    AgentConnected,
    AgentRinging,
    AgentState,
    AgentStateChanged,
    CallEnded,
    CallerAbandoned,
    CallerJoined,
    OriginateFinished,
    StateResynced,
)
from cti.domain.state import CallState
from cti.errors import AmiRemoteError

from .conftest import Recorder, eventually, pbx_settings

AGENT = "Local/100@sim-agent/n"


def event(name: str) -> Any:
    return lambda f: f.headers.get("Event") == name


def agent_add() -> QueueAdd:
    return QueueAdd(
        queue="support",
        interface=AGENT,
        member_name="SimAgent100",
        state_interface="Local/100@sim-agent",
    )


async def started(server: Any, recorder: Recorder, **overrides: Any) -> AmiService:
    svc = AmiService([pbx_settings(server.port, **overrides)])
    svc.subscribe(recorder)
    await svc.__aenter__()
    await eventually(lambda: svc.status() == {"pbx1": "connected"})
    await eventually(lambda: bool(recorder.of(StateResynced)))
    return svc


async def test_inbound_queue_call(scripted: Any) -> None:
    server = await scripted("inbound_queue_call", auto={"qstatus-1", "logoff-1"})
    rec = Recorder()
    server.hold_before(event("AgentCalled"))
    svc = await started(server, rec)
    try:
        await svc.send("pbx1", agent_add())
        call = asyncio.create_task(
            svc.originate(
                "pbx1",
                Originate(
                    channel="Local/5000@from-carrier",
                    application="Wait",
                    data="20",
                    caller_id='"Customer" <5559876>',
                ),
            )
        )
        await asyncio.wait_for(server.held.wait(), 5)
        await svc.flush("pbx1")
        state = svc.state("pbx1")
        (waiting,) = state.queues["support"].waiting.values()
        assert (waiting.caller_num, waiting.caller_name, waiting.position) == (
            "5559876",
            "Customer",
            1,
        )
        assert state.agents[AGENT].state is AgentState.READY
        result = await asyncio.wait_for(call, 5)
        assert result.outcome is OriginateOutcome.ANSWERED and result.reason_code == 4

        await server.advance_to(event("AgentConnect"))
        await svc.flush("pbx1")
        (ringing,) = rec.of(AgentRinging)
        assert (ringing.queue, ringing.member_name, ringing.caller_num) == (
            "support",
            "SimAgent100",
            "5559876",
        )
        assert state.agents[AGENT].state is AgentState.RINGING

        await server.advance_to(event("HangupRequest"))
        await svc.flush("pbx1")
        agent = state.agents[AGENT]
        assert agent.state is AgentState.IN_CALL
        assert state.calls[agent.call].state is CallState.CONNECTED  # type: ignore[index]
        assert not state.queues["support"].waiting
        (connected,) = rec.of(AgentConnected)
        assert connected.caller_num == "5559876" and connected.linkedid == agent.call

        await server.release()
        await eventually(lambda: server.pos == len(server.frames) - 4)  # waits on QueueRemove
        await svc.flush("pbx1")
        (ended,) = rec.of(AgentCallEnded)
        assert (ended.talk_seconds, ended.hold_seconds, ended.reason) == (20, 0, "caller")
        member = state.queues["support"].members[AGENT]
        assert (member.status, member.in_call, member.calls_taken) == (
            DeviceStatus.NOT_IN_USE,
            False,
            1,
        )
        assert state.agents[AGENT].state is AgentState.READY
        assert state.calls == {} and state.channels == {}
        assert state.queues["support"].completed == 1

        await svc.send("pbx1", QueueRemove(queue="support", interface=AGENT))
        await svc.flush("pbx1")
        assert state.agents[AGENT].state is AgentState.OFFLINE
        assert state.anomalies == 0
        assert server.count("Originate") == 1
    finally:
        await svc.__aexit__(None, None, None)


@pytest.mark.parametrize(
    ("capture", "number", "outcome", "reason"),
    [
        ("outbound_answered", "5551234", OriginateOutcome.ANSWERED, 4),
        ("outbound_busy", "0000", OriginateOutcome.BUSY, 5),
        ("outbound_noanswer", "0002", OriginateOutcome.NO_ANSWER, 3),
    ],
)
async def test_outbound(
    scripted: Any, capture: str, number: str, outcome: OriginateOutcome, reason: int
) -> None:
    server = await scripted(capture)
    rec = Recorder()
    svc = await started(server, rec)
    try:
        result = await asyncio.wait_for(
            svc.originate(
                "pbx1",
                Originate(
                    channel=f"Local/{number}@sim-customer",
                    application="Wait",
                    data="30",
                    caller_id='"CTI" <5550000>',
                    variables={"CAMPAIGN": "demo"},
                ),
            ),
            5,
        )
        assert result.outcome is outcome and result.reason_code == reason
        assert not result.reconciled
        # matched by our own ActionID, which the PBX echoed
        (sent,) = [a for a in server.received if a.get("Action") == "Originate"]
        assert result.action_id == sent["ActionID"]
        assert sent["Async"] == "true"
        assert "CTI_ACTION_ID=" + result.action_id in sent["Variable"].split("\n")
        (finished,) = rec.of(OriginateFinished)
        assert finished.action_id == result.action_id
        await server.finished()
        await svc.flush("pbx1")
        assert svc.state("pbx1").calls == {}
        assert svc.state("pbx1").channels == {}
    finally:
        await svc.__aexit__(None, None, None)


async def test_resync_busy_queue(scripted: Any) -> None:
    server = await scripted("resync_busy_queue", auto={"spy-1", "qpause-2", "qrem-1", "logoff-1"})
    server.hold_before(lambda f: f.owner == "spy-1")
    rec = Recorder()
    svc = await started(server, rec)
    try:
        await svc.send("pbx1", agent_add())
        for name, num in (("Ana", "5550001"), ("Bruno", "5550002"), ("Carla", "5550003")):
            await svc.send(
                "pbx1",
                Originate(
                    channel="Local/5000@from-carrier",
                    application="Wait",
                    data="8",
                    caller_id=f'"{name}" <{num}>',
                ),
            )
        await svc.send(
            "pbx1", QueuePause(queue="support", interface=AGENT, paused=True, reason="lunch")
        )
        await svc.flush("pbx1")
        state = svc.state("pbx1")
        agent = state.agents[AGENT]
        assert (agent.state, agent.paused, agent.reason) == (AgentState.IN_CALL, True, "lunch")
        before = len(rec.of(StateResynced))

        # The capture's own CoreShowChannels, QueueStatus and QueueSummary answer this resync.
        await svc.resync("pbx1")
        assert len(rec.of(StateResynced)) == before + 1
        assert len(state.channels) == 8
        waiting = sorted(state.queues["support"].waiting.values(), key=lambda c: c.position)
        assert [(c.caller_name, c.position) for c in waiting] == [("Bruno", 1), ("Carla", 2)]
        member = state.queues["support"].members[AGENT]
        assert (member.paused, member.paused_reason, member.in_call) == (True, "lunch", True)
        assert state.queues["support"].completed == 1  # as the PBX counts it
        agent = state.agents[AGENT]
        assert (agent.state, agent.reason) == (AgentState.IN_CALL, "lunch")
        assert agent.call == "1795362249.10"  # Ana's call, found from the agent's channel

        await server.release()
        await server.finished()
        await svc.flush("pbx1")
        abandoned = rec.of(CallerAbandoned)
        assert [(a.caller_num, a.waited_seconds) for a in abandoned] == [
            ("5550002", 8),
            ("5550003", 7),
        ]
        assert state.queues["support"].abandoned == 2
        assert not state.queues["support"].waiting
        states = [(n.state, n.reason) for n in rec.of(AgentStateChanged)]
        assert (AgentState.PAUSED, "lunch") not in states  # unpaused before the call ended
        assert states[-2:] == [(AgentState.READY, ""), (AgentState.OFFLINE, "")]
        # only the supervisor's spy call outlives the capture
        assert [(c.caller_num, c.action_id) for c in state.calls.values()] == [("900", "spy-1")]
        assert state.anomalies == 0
    finally:
        await svc.__aexit__(None, None, None)


async def test_sip_inbound(scripted: Any) -> None:
    server = await scripted("sip_inbound")
    rec = Recorder()
    svc = await started(server, rec)
    try:
        await svc.send(
            "pbx1",
            QueueAdd(
                queue="support",
                interface=AGENT,
                member_name="SimAgent100",
                state_interface="Local/100@sim-agent",
            ),
        )
        await eventually(lambda: bool(rec.of(AgentCallEnded)))
        (joined,) = rec.of(CallerJoined)
        (connected,) = rec.of(AgentConnected)
        assert joined.queue == connected.queue == "support"
        assert connected.linkedid == joined.linkedid
        assert (joined.caller_num, connected.caller_num) == ("sipp", "sipp")
        state = svc.state("pbx1")
        await eventually(lambda: bool(rec.of(CallEnded)))
        (ended,) = rec.of(CallEnded)
        assert (ended.linkedid, ended.queue, ended.agent) == (joined.linkedid, "support", AGENT)
        assert rec.of(AgentCallEnded)[0].talk_seconds == 9
        await svc.send("pbx1", QueueRemove(queue="support", interface=AGENT))
        await server.finished()
        await svc.flush("pbx1")
        assert state.calls == {} and state.agents[AGENT].state is AgentState.OFFLINE
        assert state.anomalies == 0
    finally:
        await svc.__aexit__(None, None, None)


async def test_readonly_user_gets_clear_errors(scripted: Any) -> None:
    server = await scripted(
        "ami_readonly", auto={"ro-core-1", "ro-qsum-1", "logoff-1"}, readonly=True
    )
    rec = Recorder()
    svc = await started(server, rec, username="readonly", secret=Secret("ro"))
    try:
        with pytest.raises(AmiRemoteError, match="refused Originate: Permission denied"):
            await svc.originate(
                "pbx1", Originate(channel="Local/0003@sim-customer", application="Wait", data="1")
            )
        with pytest.raises(AmiRemoteError, match="refused QueueAdd: Permission denied"):
            await svc.send("pbx1", QueueAdd(queue="support", interface="Local/999@sim-agent/n"))
        assert svc.status() == {"pbx1": "connected"}
        assert server.count("Originate") == 1
    finally:
        await svc.__aexit__(None, None, None)


async def test_basic_login_resync_reads_the_real_lists(scripted: Any) -> None:
    server = await scripted("ami_basic", auto={"core-1", "coreset-1", "ping-1", "logoff-1"})
    rec = Recorder()
    svc = await started(server, rec)
    try:
        assert sorted(svc.state("pbx1").queues) == ["collections", "sales", "support"]
        snap = svc.snapshot()
        (pbx,) = snap["pbxs"]
        assert pbx["status"] == "connected"
        assert [q["name"] for q in pbx["queues"]] == ["collections", "sales", "support"]
        assert json.loads(json.dumps(snap)) == snap
    finally:
        await svc.__aexit__(None, None, None)


async def test_login_refused_names_pbx_and_user_never_the_secret(
    scripted: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = await scripted("ami_basic", reject_login=True)
    caplog.set_level(logging.INFO)
    async with AmiService([pbx_settings(server.port)]) as svc:
        await eventually(lambda: server.logins == 0 and server.count("Login") >= 4)
        assert svc.status() == {"pbx1": "disconnected"}
    text = caplog.text
    assert "PBX 'pbx1' refused login for user 'cti': Authentication failed" in text
    assert "ctisecret" not in text
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1  # one per outage, not one per attempt


async def test_unreachable_pbx_never_raises_and_shuts_down_cleanly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    caplog.set_level(logging.INFO)
    svc = AmiService([pbx_settings(port)])
    async with svc:
        await asyncio.sleep(0.3)
        assert svc.status() == {"pbx1": "disconnected"}
        with pytest.raises(AmiRemoteError, match="not connected"):
            await svc.originate("pbx1", Originate(channel="Local/1@x", application="Wait"))
    assert all(t.done() for t in svc._tasks) or not svc._tasks
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
