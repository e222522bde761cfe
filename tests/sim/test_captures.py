"""Each capture's actions, sent to the simulator, give the same story as the real Asterisk 22."""

from __future__ import annotations

from pathlib import Path

import pytest

from cti.sim import PbxSimulator
from cti.sim.transcript import read_received, read_sent
from tests.sim.amicompare import compare
from tests.sim.client import RawAmi

CAPTURES = [
    "ami_basic",
    "ami_readonly",
    "inbound_queue_call",
    "outbound_answered",
    "outbound_busy",
    "outbound_noanswer",
    "resync_busy_queue",
    "sip_inbound",
]
# Captures taken after an earlier run had added and removed SimAgent100: Asterisk had cached the
# member's pause device state, so its QueueAdd shows no DeviceStateChange for it.
WARMED = {"resync_busy_queue", "sip_inbound"}


async def replay(sim: PbxSimulator, sent: Path) -> list:
    client = await RawAmi.connect(sim.port)
    await client.next()  # the banner
    now = 0.0
    for step in read_sent(sent):
        await sim.advance(step.at - now)
        now = step.at
        await client.drain()
        if step.shell:
            assert step.shell.startswith("sipp"), step.shell
            sim.inbound_call("5000", "sipp", "sipp", talk_seconds=10.0)
        else:
            client.send(step.action)
        await client.drain()
    await client.read_to_eof()
    await client.close()
    return client.received


@pytest.mark.parametrize("name", CAPTURES)
async def test_simulator_matches_capture(name: str, transcripts_dir: Path) -> None:
    capture = read_received(transcripts_dir / f"{name}.ami")
    async with PbxSimulator(manual_time=True, seed=1) as sim:
        if name in WARMED:
            sim.pbx.queue_add(
                "support",
                "Local/100@sim-agent/n",
                name="SimAgent100",
                state_interface="Local/100@sim-agent",
            )
            sim.pbx.queue_remove("support", "Local/100@sim-agent/n")
            await sim.advance(1.0)
        got = await replay(sim, transcripts_dir / f"{name}.ami.sent")
    problems = compare(capture, got)
    assert not problems, f"{len(problems)} differences:\n" + "\n\n".join(problems)
