"""A dead link mid-call: reconnect, resync to the PBX's truth, never dial twice."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from cti.ami.service import AmiService
from cti.domain.commands import Originate, QueueAdd
from cti.domain.events import OriginateOutcome
from cti.domain.notices import AgentCallEnded, AgentState, LinkChanged, LinkStatus, StateResynced

from .conftest import Recorder, eventually, pbx_settings

AGENT = "Local/100@sim-agent/n"


def event(name: str) -> Any:
    return lambda f: f.headers.get("Event") == name


def inbound() -> Originate:
    return Originate(
        channel="Local/5000@from-carrier",
        application="Wait",
        data="20",
        caller_id='"Customer" <5559876>',
    )


async def relogged(server: Any, svc: AmiService, rec: Recorder, logins: int) -> None:
    await eventually(lambda: server.logins >= logins)
    await eventually(lambda: svc.status() == {"pbx1": "connected"})
    await eventually(lambda: len(rec.of(StateResynced)) >= logins)
    await svc.flush("pbx1")


async def test_killed_mid_call_reconnects_and_matches_the_pbx(scripted: Any) -> None:
    server = await scripted("inbound_queue_call", auto={"qstatus-1", "qrem-1", "logoff-1"})
    rec = Recorder()
    server.hold_before(event("HangupRequest"))  # the agent and the caller are talking
    async with AmiService([pbx_settings(server.port)]) as svc:
        svc.subscribe(rec)
        await eventually(lambda: svc.status() == {"pbx1": "connected"})
        await svc.send(
            "pbx1",
            QueueAdd(
                queue="support",
                interface=AGENT,
                member_name="SimAgent100",
                state_interface="Local/100@sim-agent",
            ),
        )
        result = await asyncio.wait_for(svc.originate("pbx1", inbound()), 5)
        assert result.outcome is OriginateOutcome.ANSWERED
        await asyncio.wait_for(server.held.wait(), 5)
        await svc.flush("pbx1")
        state = svc.state("pbx1")
        assert state.agents[AGENT].state is AgentState.IN_CALL

        server.kill()
        await eventually(lambda: svc.status() == {"pbx1": "disconnected"})
        await relogged(server, svc, rec, 2)
        assert [n.status for n in rec.of(LinkChanged)] == [
            LinkStatus.CONNECTED,
            LinkStatus.DISCONNECTED,
            LinkStatus.CONNECTED,
        ]
        # what cti believes is what the PBX says
        assert set(state.channels) == set(server.model.channels)
        member = state.queues["support"].members[AGENT]
        assert member.in_call and not member.paused
        agent = state.agents[AGENT]
        assert agent.state is AgentState.IN_CALL
        assert agent.call == "1795356476.0"
        assert not state.queues["support"].waiting

        await server.release()
        await server.finished()
        await svc.flush("pbx1")
        assert [e.talk_seconds for e in rec.of(AgentCallEnded)] == [20]
        assert state.calls == {} and state.agents[AGENT].state is AgentState.OFFLINE
        assert server.count("Originate") == 1


async def test_originate_whose_answer_died_with_the_link_is_not_resent(scripted: Any) -> None:
    server = await scripted("outbound_answered")
    rec = Recorder()
    server.hold_before(lambda f: f.owner == "orig-out-answered" and "Response" in f.headers)
    async with AmiService([pbx_settings(server.port)]) as svc:
        svc.subscribe(rec)
        await eventually(lambda: svc.status() == {"pbx1": "connected"})
        call = asyncio.create_task(
            svc.originate(
                "pbx1",
                Originate(channel="Local/5551234@sim-customer", application="Wait", data="30"),
            )
        )
        await asyncio.wait_for(server.held.wait(), 5)
        server.kill()
        await relogged(server, svc, rec, 2)
        await server.release()
        result = await asyncio.wait_for(call, 5)
        # Asterisk broadcasts OriginateResponse: it reaches the new session, matched by ActionID
        assert result.outcome is OriginateOutcome.ANSWERED and result.reason_code == 4
        assert server.count("Originate") == 1


async def test_originate_fate_reconciled_from_the_resync(
    scripted: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server = await scripted(
        "inbound_queue_call", auto={"qadd-1", "qstatus-1", "qrem-1", "logoff-1"}
    )
    rec = Recorder()
    # the OriginateResponse is emitted while the link is down: this client never sees it
    server.hold_before(event("OriginateResponse"), drop=True)
    async with AmiService([pbx_settings(server.port)]) as svc:
        svc.subscribe(rec)
        await eventually(lambda: svc.status() == {"pbx1": "connected"})
        call = asyncio.create_task(svc.originate("pbx1", inbound()))
        await asyncio.wait_for(server.held.wait(), 5)
        server.kill()
        await relogged(server, svc, rec, 2)
        result = await asyncio.wait_for(call, 5)
        assert result.outcome is OriginateOutcome.ANSWERED
        assert result.reconciled and result.reason_code is None
        assert result.uniqueid == "1795356476.0"
        # found through the CTI_ACTION_ID channel variable, asked with Getvar
        assert server.count("Getvar") >= 1
        await server.release()
        await server.finished()
        assert server.count("Originate") == 1


async def test_watchdog_declares_a_silent_link_dead(scripted: Any) -> None:
    server = await scripted(
        "ami_basic", auto={"core-1", "coreset-1", "ping-1", "logoff-1"}, mute_pings=True
    )
    rec = Recorder()
    settings = pbx_settings(server.port, ping_interval=0.1, ping_timeout=0.1)
    async with AmiService([settings]) as svc:
        svc.subscribe(rec)
        await eventually(lambda: server.logins >= 2)
        statuses = [n.status for n in rec.of(LinkChanged)]
        assert statuses[:2] == [LinkStatus.CONNECTED, LinkStatus.DISCONNECTED]
        assert "Ping" in svc._links["pbx1"].last_error  # type: ignore[operator]


async def test_a_failing_listener_never_stops_the_others(scripted: Any) -> None:
    server = await scripted("outbound_busy")
    rec = Recorder()

    def broken(_: object) -> None:
        raise RuntimeError("listener bug")

    async with AmiService([pbx_settings(server.port)]) as svc:
        svc.subscribe(broken)
        unsubscribe = svc.subscribe(rec)
        await eventually(lambda: svc.status() == {"pbx1": "connected"})
        result = await asyncio.wait_for(
            svc.originate("pbx1", Originate(channel="Local/0000@sim-customer", application="Wait")),
            5,
        )
        assert result.outcome is OriginateOutcome.BUSY
        await svc.flush("pbx1")
        heard = len(rec.notices)
        assert heard > 3
        unsubscribe()
        await svc.flush("pbx1")
        assert len(rec.notices) == heard


async def test_stop_that_lands_as_an_answer_arrives_still_stops(scripted: Any) -> None:
    """`cti` shutting down the instant the PBX answers must not leave the link running.

    (Python 3.11's ``asyncio.wait_for`` returns the answer and drops the cancellation when both
    land in the same loop step; the link then pinged on forever and the stop hung.)
    """
    server = await scripted("ami_basic", mute_pings=True)
    settings = pbx_settings(server.port, ping_interval=0.05, ping_timeout=5.0)
    async with asyncio.timeout(10):  # the stop hung forever before the fix
        async with AmiService([settings]) as svc:
            await eventually(lambda: svc.status() == {"pbx1": "connected"})
            protocol = svc._links["pbx1"]._protocol
            assert protocol is not None
            await eventually(lambda: any("-ping-" in aid for aid in protocol.responses))
            ping = next(a for aid, a in protocol.responses.items() if "-ping-" in aid)
            # The answer arrives, and in the same instant the service is stopped.
            ping.future.set_result([{"Response": "Success", "Ping": "Pong"}])
            link_task = next(t for t in svc._tasks if t.get_name() == "ami-link-pbx1")
    assert link_task.cancelled()
