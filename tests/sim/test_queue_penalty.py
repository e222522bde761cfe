"""Queue members' penalties in the simulator, as app_queue has them (``tests/pbx/
test_queue_penalty.py`` shows a real Asterisk doing the same): the free member with the lowest
penalty is rung first; the others ring only while it is busy."""

from __future__ import annotations

from cti.sim import PbxSimulator
from cti.sim.protocol import get
from tests.sim.client import RawAmi
from tests.sim.test_flows import events
from tests.sim.test_protocol import login


async def _backup_and_person(sim: PbxSimulator) -> RawAmi:
    """An AMI client that has put the backup (PJSIP/agent1, penalty 1) then the person
    (PJSIP/agent2, penalty 0) in support: round robin alone would ring the backup first."""
    client = await login(sim)
    await client.response("l1")
    for n, (interface, penalty) in enumerate((("PJSIP/agent1", 1), ("PJSIP/agent2", 0))):
        client.send(
            [
                ("Action", "QueueAdd"),
                ("Queue", "support"),
                ("Interface", interface),
                ("Penalty", str(penalty)),
                ("ActionID", f"add{n}"),
            ]
        )
        await client.response(f"add{n}")
    return client


async def test_the_free_member_with_the_lowest_penalty_is_rung_first() -> None:
    async with PbxSimulator(manual_time=True) as sim:
        client = await _backup_and_person(sim)

        def rung() -> list[str]:
            return [get(m, "Interface") for m in events(client, "AgentCalled")]

        sim.inbound_call("5000", "2025550101", talk_seconds=None)
        await sim.advance(5.0)
        await client.drain()
        assert rung() == ["PJSIP/agent2"]  # not the backup while the person's phone rings
        assert sim.answer("PJSIP/agent2")

        sim.inbound_call("5000", "2025550102", talk_seconds=None)
        await sim.advance(5.0)
        await client.drain()
        assert rung() == ["PJSIP/agent2", "PJSIP/agent1"]  # the person is busy: the backup
        await client.close()


async def test_a_person_who_does_not_answer_is_rung_again_not_the_backup() -> None:
    """As app_queue does (tests/pbx/test_queue_penalty.py): after the ring timeout (15 s) and the
    retry (2 s) the lowest penalty still wins, so the same free member rings again."""
    async with PbxSimulator(manual_time=True) as sim:
        client = await _backup_and_person(sim)
        sim.inbound_call("5000", "2025550101", talk_seconds=None)
        for _ in range(40):
            await sim.advance(1.0)
        await client.drain()
        rung = [get(m, "Interface") for m in events(client, "AgentCalled")]
        assert rung == ["PJSIP/agent2"] * 3, rung  # at 0, 17 and 34 s
        await client.close()
