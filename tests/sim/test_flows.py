"""Call flows beyond the captures: people at the desk, the dialer context, congestion, transfer,
and the traffic model."""

from __future__ import annotations

from cti.sim import AgentMode, PbxSimulator, TrafficModel
from cti.sim.protocol import Headers, get
from tests.sim.client import RawAmi
from tests.sim.test_protocol import login


def events(client: RawAmi, name: str) -> list[Headers]:
    return [m for m in client.received if get(m, "Event") == name]


async def test_person_at_desk_answers_with_simanswer_and_hangs_up_over_ami() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        client = await login(sim)
        await client.response("l1")
        client.send(
            [
                ("Action", "QueueAdd"),
                ("Queue", "sales"),
                ("Interface", "PJSIP/agent1"),
                ("MemberName", "Maria"),
                ("ActionID", "a"),
            ]
        )
        await client.response("a")
        await sim.advance(0.5)
        sim.inbound_call("5001", "5557777", "Rita", talk_seconds=None)
        await sim.advance(5.0)
        await client.drain()
        assert events(client, "AgentCalled") and not events(client, "AgentConnect")
        ringing = [
            get(m, "Channel")
            for m in events(client, "Newstate")
            if get(m, "ChannelStateDesc") == "Ringing"
        ]
        assert ringing and ringing[0].startswith("PJSIP/agent1-")
        client.send([("Action", "SimAnswer"), ("Interface", "PJSIP/agent1"), ("ActionID", "ans")])
        assert get(await client.response("ans"), "Message") == "Answered"
        connect = await client.event("AgentConnect")
        assert get(connect, "MemberName") == "Maria"
        await sim.advance(30.0)
        client.send([("Action", "Hangup"), ("Channel", ringing[0]), ("ActionID", "h")])
        assert get(await client.response("h"), "Message") == "Channel Hungup"
        complete = await client.event("AgentComplete")
        assert get(complete, "Reason") == "agent"
        assert get(complete, "TalkTime") == "30"
        await client.drain()
        hung = {get(m, "Channel") for m in events(client, "Hangup")}
        assert ringing[0] in hung and any(c.startswith("PJSIP/carrier-in-") for c in hung)
        await client.close()


async def test_unanswered_person_gets_agent_ring_no_answer_and_caller_abandons() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        client = await login(sim)
        await client.response("l1")
        sim.set_agent_mode("Local/200@sim-agent/n", AgentMode.PERSON)
        sim.pbx.queue_add("support", "Local/200@sim-agent/n", name="Nobody")
        await sim.advance(0.1)
        sim.inbound_call("support", "5558888", "Tom", patience=20.0)
        await sim.advance(25.0)
        await client.drain()
        assert get(events(client, "AgentRingNoAnswer")[0], "MemberName") == "Nobody"
        assert len(events(client, "QueueCallerAbandon")) == 1
        assert sim.answer("Local/200@sim-agent/n") is False
        await client.close()


async def test_outbound_congestion_reports_reason_8() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        client = await login(sim)
        await client.response("l1")
        client.send(
            [
                ("Action", "Originate"),
                ("Channel", "Local/0001@sim-customer"),
                ("Application", "Wait"),
                ("Data", "5"),
                ("Async", "true"),
                ("ActionID", "c1"),
            ]
        )
        await client.response("c1")
        resp = await client.event("OriginateResponse")
        assert (get(resp, "Response"), get(resp, "Reason"), get(resp, "Uniqueid")) == (
            "Failure",
            "8",
            "<unknown>",
        )
        await client.drain()
        hangups = [get(m, "Cause") for m in events(client, "Hangup")]
        assert "34" in hangups
        await client.close()


async def test_dialer_context_puts_answered_customer_into_queue_from_variable() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        client = await login(sim)
        await client.response("l1")
        sim.pbx.queue_add("collections", "Local/300@sim-agent/n", name="Cobra")
        client.send(
            [
                ("Action", "Originate"),
                ("Channel", "Local/5551234@sim-customer"),
                ("Context", "cti-dialer"),
                ("Exten", "s"),
                ("Priority", "1"),
                ("CallerID", '"CTI" <5550000>'),
                ("Variable", "CTI_QUEUE=collections,CTI_CAMPAIGN=7"),
                ("Async", "true"),
                ("ActionID", "d1"),
            ]
        )
        await client.response("d1")
        resp = await client.event("OriginateResponse")
        assert (get(resp, "Response"), get(resp, "Reason"), get(resp, "Context")) == (
            "Success",
            "4",
            "cti-dialer",
        )
        join = await client.event("QueueCallerJoin")
        assert get(join, "Queue") == "collections" and get(join, "Channel").endswith(";1")
        connect = await client.event("AgentConnect")
        assert get(connect, "MemberName") == "Cobra"
        await sim.advance(20.0)
        await client.drain()
        assert get(events(client, "AgentComplete")[0], "Reason") == "caller"
        await client.close()


async def test_redirect_moves_caller_to_another_queue() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        client = await login(sim)
        await client.response("l1")
        sim.pbx.queue_add("support", "Local/100@sim-agent/n", name="A")
        await sim.advance(0.1)
        chan = sim.inbound_call("support", "5559999", "Vera", talk_seconds=None)
        await sim.advance(2.0)
        client.send(
            [
                ("Action", "Redirect"),
                ("Channel", chan),
                ("Context", "from-carrier"),
                ("Exten", "5001"),
                ("Priority", "1"),
                ("ActionID", "r"),
            ]
        )
        assert get(await client.response("r"), "Message") == "Redirect successful"
        await client.drain()
        # The agent's channel is gone and the agent free at once; app_queue says AgentComplete
        # only when the transferred caller hangs up (capture blind_transfer).
        assert events(client, "AgentComplete") == []
        member = sim.pbx.queues["support"].members["Local/100@sim-agent/n"]
        assert not member.in_call and member.calls_taken == 1
        joins = [get(m, "Queue") for m in events(client, "QueueCallerJoin")]
        assert joins == ["support", "sales"]
        assert sim.remote_hangup(chan)
        await client.drain()
        (complete,) = events(client, "AgentComplete")
        assert (get(complete, "Queue"), get(complete, "Reason")) == ("support", "caller")
        assert get(complete, "DestChannel") == ""  # the agent's channel is long gone
        await client.close()


async def test_traffic_is_repeatable_for_a_seed() -> None:
    async def run(seed: int) -> list[str]:
        async with PbxSimulator(
            manual_time=True, seed=seed, traffic=TrafficModel(inbound_per_minute={"support": 30.0})
        ) as sim:
            for i in range(3):
                sim.add_simulated_agent("support", f"Local/{100 + i}@sim-agent/n", f"Agent{i}")
            client = await login(sim, events="agent")
            await client.response("l1")
            for _ in range(60):
                await sim.advance(10.0)
            await client.drain()
            await client.close()
            return [
                f"{get(m, 'Event')}:{get(m, 'CallerIDNum')}:{get(m, 'MemberName')}"
                for m in client.received
                if get(m, "Event").startswith(("Agent", "QueueCaller"))
            ]

    first, again, other = await run(5), await run(5), await run(6)
    assert first == again
    assert first != other
    # 3 agents, ~2 min talk + wrap-up, 10 minutes of 30 calls/min: they are saturated.
    assert sum(1 for e in first if e.startswith("AgentComplete")) >= 10
    assert sum(1 for e in first if e.startswith("QueueCallerAbandon")) >= 100


async def test_phone_and_queue_device_states_follow_the_calls_through_a_busy_half_hour() -> None:
    """A phone's state as the simulator works it out (BUSY while it has a channel) and a queue's
    availability hint as it publishes it (INUSE while no member is free) agree at every step with
    the channels and members themselves, through calls coming and going (both are kept as they
    change, not recounted)."""
    async with PbxSimulator(
        manual_time=True, seed=3, traffic=TrafficModel(inbound_per_minute={"support": 6.0})
    ) as sim:
        client = await login(sim)
        await client.response("l1")
        phones = [f"PJSIP/agent{i}" for i in range(1, 5)]
        for i, phone in enumerate(phones):
            sim.add_simulated_agent("support", phone, f"Agent{i}")
        seen: set[tuple[str, str]] = set()
        pbx = sim.pbx
        for _ in range(180):
            await sim.advance(10.0)
            await client.drain()
            published = {
                get(m, "Device"): get(m, "State") for m in events(client, "DeviceStateChange")
            }
            for phone in phones:
                busy = any(ch.alive and ch.device == phone for ch in pbx.channels.values())
                assert pbx.phones.state(phone) == ("BUSY" if busy else "NOT_INUSE")
                seen.add((phone, pbx.phones.state(phone)))
            free = any(pbx._available(m) for m in pbx.queues["support"].members.values())
            hint = published.get("Queue:support_avail")
            assert hint == ("NOT_INUSE" if free else "INUSE")
            seen.add(("queue", hint))
        await client.close()
    assert ("queue", "INUSE") in seen and ("queue", "NOT_INUSE") in seen
    assert {state for _, state in seen} >= {"BUSY", "NOT_INUSE"}
