"""The simulator answers on the wire as Asterisk 22 does: login, errors, event masks, actions."""

from __future__ import annotations

from cti.sim import PbxSimulator
from cti.sim.protocol import get
from tests.sim.client import RawAmi


async def login(
    sim: PbxSimulator, events: str = "", user: str = "cti", secret: str = "ctisecret"
) -> RawAmi:
    client = await RawAmi.connect(sim.port)
    banner = await client.next()
    assert banner == [("Asterisk Call Manager/11.0.0", "")]
    action = [("Action", "Login"), ("Username", user), ("Secret", secret), ("ActionID", "l1")]
    if events:
        action.append(("Events", events))
    client.send(action)
    return client


async def test_failed_login_is_refused_and_closed() -> None:
    async with PbxSimulator(manual_time=True, login_failure_delay=0.0) as sim:
        client = await login(sim, secret="wrong")
        reply = await client.next()
        assert reply == [
            ("Response", "Error"),
            ("ActionID", "l1"),
            ("Message", "Authentication failed"),
        ]
        await client.read_to_eof(1.0)
        assert client.closed
        assert "wrong" not in repr(sim.server.users)


async def test_actions_before_login_are_denied() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        client = await RawAmi.connect(sim.port)
        await client.next()
        client.send([("Action", "QueueStatus"), ("ActionID", "q")])
        assert await client.next() == [
            ("Response", "Error"),
            ("ActionID", "q"),
            ("Message", "Permission denied"),
        ]
        await client.close()


async def test_unknown_action_gets_asterisks_error() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        client = await login(sim)
        await client.response("l1")
        client.send([("Action", "FrobnicateQueues"), ("ActionID", "x1")])
        reply = await client.response("x1")
        assert reply == [
            ("Response", "Error"),
            ("ActionID", "x1"),
            (
                "Message",
                "Invalid/unknown command: FrobnicateQueues. Use Action: ListCommands to show available commands.",
            ),
        ]
        await client.close()


async def test_login_event_mask_filters_event_classes() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        calls_only = await login(sim, events="call")
        agent_only = await login(sim, events="agent")
        silent = await login(sim, events="off")
        for c in (calls_only, agent_only, silent):
            await c.response("l1")
        sim.pbx.queue_add("support", "Local/100@sim-agent/n", name="A100")
        await sim.advance(1.0)
        sim.inbound_call("5000", "5551111", "Zoe", talk_seconds=5.0)
        await sim.advance(10.0)
        for c in (calls_only, agent_only, silent):
            await c.drain()
        names_call = {get(m, "Event") for m in calls_only.received}
        names_agent = {get(m, "Event") for m in agent_only.received}
        assert "Newchannel" in names_call and "Hangup" in names_call
        assert "AgentConnect" not in names_call and "FullyBooted" not in names_call
        assert "Newexten" not in names_call  # dialplan class not asked for
        assert {
            "QueueMemberAdded",
            "QueueCallerJoin",
            "AgentConnect",
            "AgentComplete",
        } <= names_agent
        assert "Newchannel" not in names_agent
        assert [get(m, "Response") for m in silent.received[1:]] == ["Success"]
        assert names_agent - {""} <= {n for n in names_agent if n.startswith(("Queue", "Agent"))}
        for c in (calls_only, agent_only, silent):
            await c.close()


async def test_events_action_switches_events_off_and_on() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        client = await login(sim)
        await client.response("l1")
        client.send([("Action", "Events"), ("EventMask", "off"), ("ActionID", "e1")])
        assert (await client.response("e1"))[-1] == ("Events", "Off")
        await client.drain()
        client.received.clear()
        sim.inbound_call("support", "5552222", talk_seconds=1.0, patience=1.0)
        await sim.advance(3.0)
        await client.drain()
        assert client.received == []
        client.send([("Action", "Events"), ("EventMask", "agent"), ("ActionID", "e2")])
        assert (await client.response("e2"))[-1] == ("Events", "On")
        sim.inbound_call("support", "5553333", talk_seconds=1.0, patience=1.0)
        await sim.advance(3.0)
        await client.drain()
        assert "QueueCallerAbandon" in {get(m, "Event") for m in client.received}
        await client.close()


async def test_readonly_user_may_read_but_not_act() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        client = await login(sim, user="readonly", secret="ro")
        await client.response("l1")
        client.send([("Action", "Hangup"), ("Channel", "PJSIP/x-00000000"), ("ActionID", "h")])
        assert get(await client.response("h"), "Message") == "Permission denied"
        assert get(await client.event("RequestNotAllowed"), "RequestType") == "Action: Hangup"
        client.send([("Action", "Ping"), ("ActionID", "p")])
        assert get(await client.response("p"), "Ping") == "Pong"
        await client.close()


async def test_setvar_getvar_and_errors_carry_action_id() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        client = await login(sim)
        await client.response("l1")
        chan = sim.inbound_call("support", "5554444", patience=30.0)
        client.send(
            [
                ("Action", "Setvar"),
                ("Channel", chan),
                ("Variable", "CTI_CASE"),
                ("Value", "42"),
                ("ActionID", "s"),
            ]
        )
        assert get(await client.response("s"), "Message") == "Variable Set"
        client.send(
            [("Action", "Getvar"), ("Channel", chan), ("Variable", "CTI_CASE"), ("ActionID", "g")]
        )
        reply = await client.response("g")
        assert (get(reply, "Variable"), get(reply, "Value")) == ("CTI_CASE", "42")
        client.send([("Action", "Hangup"), ("Channel", "PJSIP/nobody-00000000"), ("ActionID", "h")])
        assert await client.response("h") == [
            ("Response", "Error"),
            ("ActionID", "h"),
            ("Message", "No such channel"),
        ]
        client.send(
            [
                ("Action", "QueueRemove"),
                ("Queue", "support"),
                ("Interface", "PJSIP/ghost"),
                ("ActionID", "r"),
            ]
        )
        assert get(await client.response("r"), "Message") == "Unable to remove interface: Not there"
        await client.close()
