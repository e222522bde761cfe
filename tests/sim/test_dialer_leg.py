"""The dialer leg as config/asterisk/extensions.conf [cti-dialer] runs it: the carrier leg, AMD,
the queue with its connect limit, the abandon message, and a preview call that rings its agent's own phone before the customer.
"""

from __future__ import annotations

from cti.sim import AgentMode, OutboundCustomers, PbxSimulator, TrafficModel
from cti.sim.protocol import Headers, get
from cti.sim.traffic import Duration
from tests.sim.client import RawAmi
from tests.sim.test_protocol import login


def events(client: RawAmi, name: str) -> list[Headers]:
    return [m for m in client.received if get(m, "Event") == name]


def user_events(client: RawAmi) -> list[tuple[str, dict[str, str]]]:
    out = []
    for m in events(client, "UserEvent"):
        headers = dict(m)
        out.append((headers.pop("UserEvent"), headers))
    return out


def customers(**kw: float) -> TrafficModel:
    fixed = Duration(mean=2.0, spread=0.0)
    values = {"p_answer": 0.0, "p_busy": 0.0, "p_noanswer": 0.0, "p_congestion": 0.0, **kw}
    return TrafficModel(
        inbound_per_minute={},
        customers=OutboundCustomers(ring=fixed, talk=Duration(mean=60.0, spread=0.0), **values),
        talk=Duration(mean=30.0, spread=0.0),
        agent_ring=Duration(mean=0.5, spread=0.0),
        agent_wrapup=Duration(mean=1.0, spread=0.0, minimum=0.0),
    )


def originate(client: RawAmi, number: str, action_id: str, **variables: str) -> None:
    values = {
        "CTI_QUEUE": "sales",
        "CTI_CAMPAIGN": "7",
        "CTI_LEAD": "41",
        "CTI_ATTEMPT": action_id,
        "CTI_CONNECT_SECONDS": "2",
        "CTI_RING_SECONDS": "20",
        **variables,
    }
    client.send(
        [
            ("Action", "Originate"),
            ("Channel", f"Local/{number}@cti-dialer/n"),
            ("Context", "cti-dialer"),
            ("Exten", "connect"),
            ("Priority", "1"),
            ("CallerID", '"Spring" <5550000>'),
            ("Timeout", "25000"),
            ("Async", "true"),
            ("Variable", ",".join(f"{k}={v}" for k, v in values.items())),
            ("ActionID", action_id),
        ]
    )


def responses(client: RawAmi) -> dict[str, tuple[str, str]]:
    return {
        get(m, "ActionID"): (get(m, "Response"), get(m, "Reason"))
        for m in events(client, "OriginateResponse")
    }


async def test_fixed_numbers_give_busy_congestion_and_no_answer_with_the_result_event() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        client = await login(sim)
        await client.response("l1")
        originate(client, "0000", "1")
        originate(client, "0001", "2")
        originate(client, "0002", "3", CTI_RING_SECONDS="15")
        await client.response("3")
        await sim.advance(16.0)
        await client.drain()
        assert responses(client) == {
            "1": ("Failure", "5"),
            "2": ("Failure", "8"),
            "3": ("Failure", "3"),
        }
        results = {h["Attempt"]: (h["DialStatus"], h["Lead"]) for n, h in user_events(client)}
        assert results == {"1": ("BUSY", "41"), "2": ("CONGESTION", "41"), "3": ("NOANSWER", "41")}
        assert all(get(m, "Privilege") == "user,all" for m in events(client, "UserEvent"))
        carrier = [get(m, "Channel") for m in events(client, "Newchannel")]
        assert sum(c.startswith("PJSIP/carrier-") for c in carrier) == 3
        assert not sim.pbx.channels, "every leg hung up"


async def test_answered_call_goes_to_the_queue_and_an_agent_within_the_limit() -> None:
    async with PbxSimulator(manual_time=True, traffic=customers(p_answer=1.0), seed=2) as sim:
        sim.add_simulated_agent("sales", "Local/301@sim-agent/n", "Rosa")
        client = await login(sim)
        await client.response("l1")
        await sim.advance(0.1)
        originate(client, "5551234", "9")
        await client.response("9")
        await sim.advance(3.0)  # rings 2 s, answers, the agent answers after 0.5 s
        await client.drain()
        assert responses(client) == {"9": ("Success", "4")}
        join = events(client, "QueueCallerJoin")[0]
        assert get(join, "Channel").startswith("Local/5551234@cti-dialer-")
        assert get(join, "Channel").endswith(";1") and get(join, "Queue") == "sales"
        assert get(events(client, "AgentConnect")[0], "MemberName") == "Rosa"
        assert user_events(client) == []
        await sim.advance(40.0)  # the agent talks 30 s and hangs up
        await client.drain()
        assert get(events(client, "AgentComplete")[0], "Reason") == "agent"
        assert not sim.pbx.channels


async def test_no_agent_within_the_limit_plays_the_abandon_message() -> None:
    async with PbxSimulator(manual_time=True, traffic=customers(p_answer=1.0)) as sim:
        sim.add_simulated_agent("sales", "Local/301@sim-agent/n", "Rosa", paused=True)
        client = await login(sim)
        await client.response("l1")
        originate(client, "5551234", "9", CTI_CONNECT_SECONDS="3")
        await client.response("9")
        await sim.advance(2.0 + 2.9)
        await client.drain()
        assert events(client, "QueueCallerJoin") and user_events(client) == []
        await sim.advance(0.2)
        await client.drain()
        ((name, headers),) = user_events(client)
        assert name == "CtiDialerAbandoned"
        assert (headers["Queue"], headers["QueueStatus"], headers["Attempt"]) == (
            "sales",
            "TIMEOUT",
            "9",
        )
        # app_queue counts a Queue() timeout as an abandon (capture dialer_abandoned).
        assert events(client, "QueueCallerLeave") and events(client, "QueueCallerAbandon")
        playing = [get(m, "AppData") for m in events(client, "Newexten")]
        assert "/var/lib/asterisk/sounds/cti/abandon" in playing
        await sim.advance(sim.pbx.abandon_message_seconds + 0.1)
        assert not sim.pbx.channels, "hung up after the message"


async def test_amd_hangs_up_on_machines_and_queues_people() -> None:
    model = customers(p_answer=1.0, p_machine=0.5)
    async with PbxSimulator(manual_time=True, traffic=model, seed=5) as sim:
        sim.add_simulated_agent("sales", "Local/301@sim-agent/n", "Rosa")
        client = await login(sim)
        await client.response("l1")
        await sim.advance(0.1)
        for i in range(8):
            originate(client, f"55512{i:02d}", str(i), CTI_AMD="1")
        await client.response("7")
        await sim.advance(2.0 + sim.pbx.amd_seconds + 0.1)
        await client.drain()
        amd = {h["Attempt"]: h["AmdStatus"] for n, h in user_events(client) if n == "CtiDialerAmd"}
        machines = {h["Attempt"] for n, h in user_events(client) if n == "CtiDialerMachine"}
        assert len(amd) == 8 and set(amd.values()) == {"HUMAN", "MACHINE"}
        assert machines == {a for a, status in amd.items() if status == "MACHINE"}
        joined = {get(m, "Channel").split("@")[0] for m in events(client, "QueueCallerJoin")}
        humans = {f"Local/55512{int(a):02d}" for a, s in amd.items() if s == "HUMAN"}
        assert joined == humans, "only people go to the queue"


def preview(client: RawAmi, agent: str, number: str, action_id: str) -> None:
    """What cti's dialer sends for a preview call: the agent's own phone first."""
    client.send(
        [
            ("Action", "Originate"),
            ("Channel", agent),
            ("Context", "cti-dialer"),
            ("Exten", "preview"),
            ("Priority", "1"),
            ("CallerID", f'"Spring" <{number}>'),
            ("Timeout", "30000"),
            ("Async", "true"),
            ("Variable", f"CTI_NUMBER={number},CTI_CALLER_ID=5550000,CTI_RING_SECONDS=20"),
            ("Variable", f"CTI_AGENT={agent},CTI_CAMPAIGN=7,CTI_LEAD=41,CTI_ATTEMPT={action_id}"),
            ("ActionID", action_id),
        ]
    )


async def test_preview_rings_the_agent_first_then_the_customer() -> None:
    async with PbxSimulator(manual_time=True, traffic=customers(p_answer=1.0)) as sim:
        client = await login(sim)
        await client.response("l1")
        sim.pbx.queue_add("sales", "PJSIP/agent3", name="Maria")
        await sim.advance(0.1)
        preview(client, "PJSIP/agent3", "5551234", "5")
        await client.response("5")
        await sim.advance(5.0)
        await client.drain()
        # The agent's phone rings; nobody is dialled before the agent is there.
        dial = [get(m, "DestChannel") for m in events(client, "DialBegin")]
        assert [d.split("-")[0] for d in dial] == ["PJSIP/agent3"]
        assert responses(client) == {}
        assert sim.answer("PJSIP/agent3")
        await client.drain()
        assert responses(client) == {"5": ("Success", "4")}
        dial = [get(m, "DestChannel") for m in events(client, "DialBegin")]
        assert dial[-1].startswith("PJSIP/carrier-")
        assert user_events(client) == []
        await sim.advance(2.0)  # the customer answers after 2 s
        await client.drain()
        ((name, headers),) = user_events(client)
        assert (name, headers["Agent"], headers["Attempt"]) == (
            "CtiDialerConnected",
            "PJSIP/agent3",
            "5",
        )
        # Sent from the customer's channel, linked to the agent's.
        assert headers["Channel"].startswith("PJSIP/carrier-")
        agent_channel = next(n for n in sim.pbx.channels if n.startswith("PJSIP/agent3-"))
        assert headers["Linkedid"] == sim.pbx.channels[agent_channel].linkedid
        busy = [
            m for m in events(client, "QueueMemberStatus") if get(m, "Interface") == "PJSIP/agent3"
        ]
        assert [get(m, "Status") for m in busy] == ["3"]  # device_state_busy_at = 1
        assert sim.hangup("PJSIP/agent3")
        await client.drain()
        assert not sim.pbx.channels
        assert get(events(client, "QueueMemberStatus")[-1], "Status") == "1"


async def test_preview_customer_busy_says_the_dial_status_and_frees_the_agent() -> None:
    async with PbxSimulator(manual_time=True, traffic=customers(p_busy=1.0)) as sim:
        client = await login(sim)
        await client.response("l1")
        sim.set_agent_mode("PJSIP/agent3", AgentMode.SIMULATED)  # answers after 0.5 s
        preview(client, "PJSIP/agent3", "5551234", "6")
        await client.response("6")
        await sim.advance(0.6)
        await client.drain()
        assert responses(client) == {"6": ("Success", "4")}
        await sim.advance(2.5)
        await client.drain()
        ((name, headers),) = user_events(client)
        assert (name, headers["DialStatus"], headers["Attempt"]) == ("CtiDialerResult", "BUSY", "6")
        assert headers["Channel"].startswith("PJSIP/agent3-")
        assert not sim.pbx.channels


async def test_preview_to_a_phone_that_is_not_registered_fails_at_once() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        client = await login(sim)
        await client.response("l1")
        sim.unregister("PJSIP/agent3")
        preview(client, "PJSIP/agent3", "5551234", "7")
        await client.response("7")
        await client.drain()
        assert responses(client) == {"7": ("Failure", "0")}
        assert not sim.pbx.channels
