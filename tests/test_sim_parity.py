"""cti's own AMI client pointed at the simulator tells the same story as the real captures.

For each capture, the real Asterisk bytes go through cti's pipeline (frame parser → typed events
→ reducer); separately, cti's AmiService connects to the simulator over TCP and sends the
capture's actions at the capture's times. The notices (what the desk, dialer and wallboard react
to) and the final state must agree, ids and times aside.
"""

from __future__ import annotations

import asyncio
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cti.ami.frames import FrameParser
from cti.ami.service import AmiService
from cti.ami.translate import LIST_EVENTS, TRANSLATED_EVENTS, translate
from cti.config import AmiServerSettings, Secret
from cti.domain import commands as cmd
from cti.domain.notices import (
    AgentCallEnded,
    AgentConnected,
    AgentRingEnded,
    AgentRinging,
    AgentStateChanged,
    AnyNotice,
    CallerAbandoned,
    CallerJoined,
    CallerLeft,
    MemberChanged,
    OriginateFinished,
)
from cti.domain.state import PbxState
from cti.sim import PbxSimulator
from cti.sim.transcript import read_sent

FLOWS = [
    "inbound_queue_call",
    "outbound_answered",
    "outbound_busy",
    "outbound_noanswer",
    "resync_busy_queue",
    "sip_inbound",
]
# What a notice is about, ids and times aside.
STORY = (
    AgentRinging,
    AgentRingEnded,
    AgentConnected,
    AgentCallEnded,
    CallerJoined,
    CallerLeft,
    CallerAbandoned,
    OriginateFinished,
)
IGNORED_FIELDS = {"pbx", "at", "since", "uniqueid", "linkedid", "action_id"}


def story(notices: list[AnyNotice], callers: set[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Per call (by caller) and for originates: the notices in order, as comparable tuples.

    Different calls interleave differently from run to run on a real PBX too; each call's own
    notices keep their order. Durations are left out here and compared with a tolerance.
    """
    out: dict[str, list[tuple[Any, ...]]] = {}
    for n in notices:
        if not isinstance(n, STORY):
            continue
        caller = getattr(n, "caller_num", None)
        if caller is not None and caller not in callers:
            continue  # another AMI session's call, present in the capture
        values = tuple(
            (f.name, getattr(n, f.name))
            for f in fields(n)
            if f.name not in IGNORED_FIELDS and not f.name.endswith("_seconds")
        )
        out.setdefault(caller or "originates", []).append((type(n).__name__, *values))
    return out


def durations(notices: list[AnyNotice], callers: set[str]) -> dict[str, list[int]]:
    """Talk and wait seconds per call."""
    out: dict[str, list[int]] = {}
    for n in notices:
        if isinstance(n, AgentCallEnded | CallerAbandoned) and n.caller_num in callers:
            seconds = n.talk_seconds if isinstance(n, AgentCallEnded) else n.waited_seconds
            out.setdefault(n.caller_num, []).append(seconds)
    return out


def summary(state: PbxState) -> dict[str, Any]:
    snap = state.snapshot()
    return {
        "queues": {
            q["name"]: {
                "waiting": len(q["waiting"]),
                "members": sorted(
                    (m["interface"], m["name"], m["paused"], m["paused_reason"], m["in_call"])
                    for m in q["members"]
                ),
            }
            for q in snap["queues"]
        },
        "agents": sorted((a["interface"], a["state"], a["reason"]) for a in snap["agents"]),
        "calls": len(snap["calls"]),
    }


def replay_capture(path: Path) -> tuple[list[AnyNotice], PbxState]:
    """The real Asterisk bytes through cti's parser, translation and reducer."""
    parser = FrameParser(wanted_events=TRANSLATED_EVENTS | LIST_EVENTS)
    state = PbxState("pbx1")
    notices: list[AnyNotice] = []
    at = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)
    for frame in parser.feed(path.read_bytes()):
        event = translate(frame, at)
        if event is not None:
            notices.extend(state.apply(event))
    return notices, state


def to_command(action: dict[str, str]) -> cmd.Command | None:
    name = action["Action"]
    if name == "QueueAdd":
        return cmd.QueueAdd(
            queue=action["Queue"],
            interface=action["Interface"],
            member_name=action.get("MemberName", ""),
            state_interface=action.get("StateInterface", ""),
            penalty=int(action.get("Penalty", "0")),
            paused=action.get("Paused", "false") == "true",
        )
    if name == "QueueRemove":
        return cmd.QueueRemove(queue=action["Queue"], interface=action["Interface"])
    if name == "QueuePause":
        return cmd.QueuePause(
            interface=action["Interface"],
            paused=action["Paused"] == "true",
            queue=action.get("Queue"),
            reason=action.get("Reason", ""),
        )
    if name == "Originate":
        return cmd.Originate(
            channel=action["Channel"],
            application=action.get("Application"),
            data=action.get("Data", ""),
            context=action.get("Context"),
            exten=action.get("Exten"),
            priority=int(action.get("Priority", "1")),
            caller_id=action.get("CallerID", ""),
            timeout=int(action.get("Timeout", "30000")) / 1000,
        )
    return None  # Login, status lists, Ping, Logoff: the service does its own


async def drive_simulator(sent: Path, warmed: bool) -> tuple[list[AnyNotice], PbxState]:
    """cti's AmiService, over TCP, sending the capture's actions to the simulator."""
    notices: list[AnyNotice] = []
    async with PbxSimulator(manual_time=True, seed=1) as sim:
        if warmed:
            sim.pbx.queue_add(
                "support",
                "Local/100@sim-agent/n",
                name="SimAgent100",
                state_interface="Local/100@sim-agent",
            )
            sim.pbx.queue_remove("support", "Local/100@sim-agent/n")
        settings = AmiServerSettings(
            name="pbx1", port=sim.port, secret=Secret("ctisecret"), action_timeout=5.0
        )
        async with AmiService([settings]) as ami:
            ami.subscribe(notices.append)
            for _ in range(500):
                if ami.status()["pbx1"] == "connected":
                    break
                await asyncio.sleep(0.01)
            await ami.flush("pbx1")
            now = 0.0
            for step in read_sent(sent):
                await sim.advance(step.at - now)
                now = step.at
                await ami.flush("pbx1")
                if step.shell:
                    sim.inbound_call("5000", "sipp", "sipp", talk_seconds=10.0)
                    continue
                command = to_command(dict(step.action))
                if command is not None:
                    await ami.send("pbx1", command)
                await ami.flush("pbx1")
            await sim.advance(5.0)
            await ami.flush("pbx1")
            return notices, ami.state("pbx1")


@pytest.mark.parametrize("name", FLOWS)
async def test_simulator_and_capture_tell_the_same_story(name: str, transcripts_dir: Path) -> None:
    captured, captured_state = replay_capture(transcripts_dir / f"{name}.ami")
    simulated, simulated_state = await drive_simulator(
        transcripts_dir / f"{name}.ami.sent", warmed=name in ("resync_busy_queue", "sip_inbound")
    )
    callers = {
        n.caller_num
        for n in simulated
        if isinstance(n, CallerJoined | AgentRinging | AgentConnected)
    } | {"sipp"}
    assert story(simulated, callers) == story(captured, callers)
    ours_d, theirs_d = durations(simulated, callers), durations(captured, callers)
    assert ours_d.keys() == theirs_d.keys()
    for caller, seconds in theirs_d.items():
        assert all(abs(a - b) <= 2 for a, b in zip(ours_d[caller], seconds, strict=True)), (
            caller,
            ours_d[caller],
            seconds,
        )
    ours, theirs = summary(simulated_state), summary(captured_state)
    # The service's resync learns every queue; a capture knows those its own lists named.
    ours["queues"] = {q: v for q, v in ours["queues"].items() if q in theirs["queues"]}
    assert ours == theirs
    # Member changes seen by both: same members, same pause reasons.
    pauses = lambda ns: [  # noqa: E731
        (n.interface, n.paused, n.paused_reason) for n in ns if isinstance(n, MemberChanged)
    ]
    assert set(pauses(simulated)) == set(pauses(captured))
    assert any(isinstance(n, AgentStateChanged) for n in simulated) == any(
        isinstance(n, AgentStateChanged) for n in captured
    )
