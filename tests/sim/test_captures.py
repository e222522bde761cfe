"""Each capture's actions, sent to the simulator, give the same story as the real Asterisk 22.

Two sets of captures:

- ``../shared/ami-transcripts``: the capture PBX (Local agents in ``sim-agent``, ``sim-customer``),
  compared event for event;
- ``tests/captures``: cti's own ``config/asterisk`` on the ``pbx`` tier, with real softphones and a
  carrier (``tests/captures/record.py``). Their ``SIP:`` and ``ASTERISK:`` steps become simulator
  operations (register, answer, a carrier call, ``restart()``, ``crash()``...). They are compared
  on what cti reads: the event classes it logs in with (``system,call,agent,user``) and every
  response; not the dialplan trace (``Newexten``/``VarSet``), security events or RTCP reports. The
  carrier trunk's own qualify (every 60 s, on its own clock) is left out too.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cti.config import Secret
from cti.sim import AgentMode, AmiUser, CustomerPlan, PbxSimulator
from cti.sim.protocol import Headers, get
from cti.sim.transcript import SentStep, read_received, read_sent
from tests.pbx.asterisk import AMI_SECRET
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

OURS = Path(__file__).resolve().parents[1] / "captures"
OUR_CAPTURES = sorted(p.name.removesuffix(".ami") for p in OURS.glob("*.ami"))
# manager.conf in config/asterisk.
CHANNELVARS = ("CTI_ACTION_ID", "CTI_CAMPAIGN", "CTI_LEAD")
CTI_CLASSES = {"system", "call", "agent", "user"}
CARRIER_QUALIFY = {("PeerStatus", "Peer", "PJSIP/carrier"), ("ContactStatus", "AOR", "carrier")}


@dataclass(frozen=True, slots=True)
class Timing:
    """When, in a capture, Asterisk did what only its own clock decides (seconds since connect)."""

    booted: float | None = None  # app_queue answered again after a restart
    # When each phone registered in the capture was reachable again after it (inf: not seen).
    qualified: dict[str, float] = field(default_factory=dict)


# --- reading the captures ----------------------------------------------------------------------


def what_cti_sees(messages: list[Headers]) -> list[Headers]:
    """Responses and banners, and the events of the classes cti asks for (no RTCP, no trunk
    qualify, one FullyBooted per session)."""
    out: list[Headers] = []
    booted = False
    for m in messages:
        privilege = get(m, "Privilege")
        name = get(m, "Event")
        if m[0][0].startswith("Asterisk Call Manager"):
            booted = False
        if name == "FullyBooted":
            # A client that logs in as Asterisk finishes booting may get it twice (at its login,
            # and the boot's own broadcast): a race of the tier's start, not a behaviour.
            if booted:
                continue
            booted = True
        if privilege and privilege.split(",")[0] not in CTI_CLASSES:
            continue
        if name.startswith("RTCP"):
            continue
        if any(name == e and get(m, k) == v for e, k, v in CARRIER_QUALIFY):
            continue
        if name == "DeviceStateChange" and get(m, "Device") == "PJSIP/carrier":
            continue
        out.append(m)
    return out


def _step_times(steps: list[SentStep]) -> dict[str, float]:
    return {get(s.action, "ActionID"): s.at for s in steps if s.action}


def _between(
    received: list[Headers], steps: list[SentStep], test: Callable[[Headers], bool], start: int
) -> float:
    """When (in step time) the first message from ``start`` that passes ``test`` came: between
    the actions answered just before and just after it."""
    at = _step_times(steps)
    index = next(i for i in range(start, len(received)) if test(received[i]))
    answered = [
        at[get(m, "ActionID")]
        for m in received[start:]
        if get(m, "Response") and get(m, "ActionID") in at
    ]
    before = [
        at[get(m, "ActionID")]
        for m in received[start:index]
        if get(m, "Response") and get(m, "ActionID") in at
    ]
    lo = max(before)
    hi = min((t for t in answered if t > lo), default=lo + 1.0)
    return (lo + hi) / 2


def timing(received: list[Headers], steps: list[SentStep]) -> Timing:
    """Boot and qualify times after a restart, read off the capture."""
    reconnect = next((s.at for s in steps if s.reconnect), None)
    if reconnect is None:
        return Timing()
    banners = [i for i, m in enumerate(received) if m[0][0].startswith("Asterisk Call Manager")]
    after = banners[1]
    at = _step_times(steps)
    refused = [
        at[get(m, "ActionID")]
        for m in received[after:]
        if get(m, "Response") == "Error" and "Invalid/unknown command" in get(m, "Message")
    ]
    probes = [t for aid, t in at.items() if aid.startswith("queuestatus") and t > max(refused)]
    booted = (max(refused) + min(probes)) / 2 if refused else reconnect
    phones = {f"PJSIP/{s.sip.split()[0]}" for s in steps if s.sip.endswith(" register")}
    qualified = {}
    for device in sorted(phones):

        def reachable(m: Headers, device: str = device) -> bool:
            return get(m, "Event") == "PeerStatus" and (get(m, "Peer"), get(m, "PeerStatus")) == (
                device,
                "Reachable",
            )

        seen = any(reachable(m) for m in received[after:])
        qualified[device] = _between(received, steps, reachable, after) if seen else float("inf")
    return Timing(booted=booted, qualified=qualified)


# --- replaying them ----------------------------------------------------------------------------

_ANSWER = re.compile(r"^(\w+)(?: after=([0-9.]+))?(?: hangup_after=([0-9.]+))?$")


def _customer_plan(text: str) -> CustomerPlan:
    """``answer after=0.5 hangup_after=4`` (sipua's Answer) as the simulator's customer plan."""
    m = _ANSWER.match(text)
    assert m, text
    action, after, hangup_after = m.group(1), float(m.group(2) or 0), m.group(3)
    outcome = {"answer": "answer", "busy": "busy", "congestion": "congestion"}.get(
        action, "noanswer"
    )
    talk = float(hangup_after) if hangup_after is not None else 3600.0
    return CustomerPlan(outcome, ring_seconds=after, talk_seconds=talk)


def _carrier_channel(sim: PbxSimulator) -> str:
    live = [name for name in sim.pbx.channels if name.startswith("PJSIP/carrier")]
    assert live, "no carrier call to hang up"
    return live[-1]


def sip_step(sim: PbxSimulator, text: str) -> None:
    """A ``SIP:`` step as the simulator's operation."""
    phone, verb, *args = shlex.split(text)
    device = "" if phone == "carrier" else f"PJSIP/{phone}"
    if verb == "register":
        sim.register(device)
    elif verb == "unregister":
        sim.unregister(device)
    elif verb == "call":  # carrier call 5000 from 2025550199 Dora
        number, caller = args[0], args[2]
        name = args[3] if len(args) > 3 else ""
        sim.inbound_call(number, caller, name, talk_seconds=None)
    elif verb == "answer":
        assert sim.answer(device), f"nothing rings on {device}"
    elif verb == "hangup":
        sim.remote_hangup(_carrier_channel(sim) if phone == "carrier" else device)
    elif verb == "auto-answer":
        sim.set_agent_mode(device, AgentMode.SIMULATED)
    elif verb == "no-answer":
        sim.set_agent_mode(device, AgentMode.PERSON)
    elif verb == "on-invite":
        plan = _customer_plan(" ".join(args))
        sim.pbx.customer_plan = lambda number: plan
    else:
        raise AssertionError(f"unknown SIP step: {text}")


async def replay(
    sim: PbxSimulator, steps: list[SentStep], timing: Timing | None = None
) -> list[Headers]:
    """Send a capture's steps to the simulator at their times; everything received."""
    client = await RawAmi.connect(sim.port)
    received: list[Headers] = []
    await client.next()  # the banner
    now = 0.0
    down_at = 0.0
    for step in steps:
        await sim.advance(step.at - now)
        now = step.at
        await client.drain()
        if step.shell:
            assert step.shell.startswith("sipp"), step.shell
            sim.inbound_call("5000", "sipp", "sipp", talk_seconds=10.0)
        elif step.sip:
            sip_step(sim, step.sip)
        elif step.asterisk:
            assert timing is not None and timing.booted is not None
            qualify = {d: t - timing.booted for d, t in timing.qualified.items()}
            back = next(s.at for s in steps if s.reconnect and s.at > step.at)
            if step.asterisk == "core restart now":
                down_at = step.at
                await sim.restart(
                    down_seconds=back - step.at - 0.01,
                    boot_seconds=timing.booted - back + 0.01,
                    qualify_seconds=qualify,
                )
            elif step.asterisk == "kill":
                down_at = step.at
                await sim.crash(
                    down_seconds=back - step.at - 0.01,
                    boot_seconds=timing.booted - back + 0.01,
                    qualify_seconds=qualify,
                )
            elif step.asterisk != "start":
                raise AssertionError(f"unknown ASTERISK step: {step.asterisk}")
        elif step.reconnect:
            assert down_at, "RECONNECT without a restart"
            await client.read_to_eof()
            received += client.received
            await client.close()
            client = await RawAmi.connect(sim.port)
            await client.next()
        else:
            client.send(step.action)
        await client.drain()
    await client.read_to_eof()
    await client.close()
    return received + client.received


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
        got = await replay(sim, read_sent(transcripts_dir / f"{name}.ami.sent"))
    problems = compare(capture, got)
    assert not problems, f"{len(problems)} differences:\n" + "\n\n".join(problems)


def test_our_captures_are_there() -> None:
    assert set(OUR_CAPTURES) >= {
        "member_unregistered",
        "pbx_restart_idle",
        "pbx_killed_mid_call",
        "pbx_restart_mid_call",
        "chanspy_end",
        "dialer_progressive",
        "dialer_abandoned",
        "dialer_busy",
        "dialer_preview",
        "dialer_preview_busy",
        "blind_transfer",
    }, OUR_CAPTURES


@pytest.mark.parametrize("name", OUR_CAPTURES)
async def test_simulator_matches_the_tier_pbx(name: str) -> None:
    capture = read_received(OURS / f"{name}.ami")
    steps = read_sent(OURS / f"{name}.ami.sent")
    async with PbxSimulator(
        manual_time=True,
        seed=1,
        users={"cti": AmiUser(Secret(AMI_SECRET))},
        channelvars=CHANNELVARS,
        phones_registered=False,  # a fresh Asterisk: every phone registers in the capture
        service_level=20,  # config/asterisk/queues.conf
        music_on_hold=False,  # config/asterisk has no musiconhold.conf
    ) as sim:
        got = await replay(sim, steps, timing(capture, steps))
    problems = compare(what_cti_sees(capture), what_cti_sees(got))
    assert not problems, f"{len(problems)} differences:\n" + "\n\n".join(problems)
