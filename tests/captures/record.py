"""Record the captures in this folder against a fresh tier Asterisk (one per capture).

    .venv/bin/python -m tests.captures.record            # all of them
    .venv/bin/python -m tests.captures.record chanspy_end blind_transfer

Each capture runs cti's own ``config/asterisk`` (``tests.pbx.asterisk``), with softphones and the
carrier played by ``tests.pbx.sipua``; the AMI side is recorded by ``tests.pbx.capture``. Steps
taken outside AMI are written to ``.ami.sent`` as ``SIP:`` and ``ASTERISK:`` lines, which
``tests/sim/test_captures.py`` maps to simulator operations. README.md says what each shows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from cti.sim.protocol import Headers, get
from tests.pbx.asterisk import AGENT_PASSWORD, AMI_SECRET, Asterisk, asterisk_prefix
from tests.pbx.capture import AmiRecorder, CaptureError
from tests.pbx.sipua import Answer, Call, Phone

HERE = Path(__file__).resolve().parent
log = logging.getLogger("record")

# The dialer's variables as cti sends them (cti/dialer/service.py, extensions.conf [cti-dialer]).
DIALER_VARIABLES = (
    "CTI_QUEUE=support,CTI_AMD=0,CTI_CONNECT_SECONDS=3,CTI_RING_SECONDS=15,"
    "CTI_NUMBER=+12025550101,CTI_CAMPAIGN=1,CTI_LEAD=1,CTI_ATTEMPT=1"
)
PREVIEW_VARIABLES = (
    "CTI_NUMBER=+12025550131,CTI_CALLER_ID=2025550100,CTI_RING_SECONDS=15,"
    "CTI_AGENT=PJSIP/agent1,CTI_CAMPAIGN=2,CTI_LEAD=7,CTI_ATTEMPT=1"
)


class Rig:
    """One capture's world: a fresh Asterisk, the recorder, and the phones opened so far."""

    def __init__(self, pbx: Asterisk, rec: AmiRecorder) -> None:
        self.pbx = pbx
        self.rec = rec
        self.phones: dict[str, Phone] = {}

    # --- SIP ------------------------------------------------------------------------------

    async def phone(self, user: str, *, register: bool = True) -> Phone:
        """Open ``agentN`` (registering it unless told not to) or ``carrier``."""
        if user == "carrier":
            phone = await Phone.open(
                user="carrier", server=self.pbx.trunk_address, port=self.pbx.ports.carrier
            )
        else:
            phone = await Phone.open(
                user=user, password=AGENT_PASSWORD, server=("127.0.0.1", self.pbx.ports.agents)
            )
        self.phones[user] = phone
        if register and user != "carrier":
            await self.register(user)
        return phone

    async def register(self, user: str) -> None:
        self.rec.note("SIP", f"{user} register")
        await self.phones[user].register()

    async def unregister(self, user: str) -> None:
        self.rec.note("SIP", f"{user} unregister")
        await self.phones[user].unregister()

    async def carrier_call(self, number: str, caller: str, name: str = "") -> Call:
        """The carrier calls a DID; returns once Asterisk answered (the DIDs Answer() at once)."""
        shown = f' "{name}"' if name else ""
        self.rec.note("SIP", f"carrier call {number} from {caller}{shown}")
        return await self.phones["carrier"].call(
            number, caller=caller, caller_name=name or None, target=self.pbx.trunk_address
        )

    async def incoming(self, user: str, within: float = 10.0) -> Call:
        return await self.phones[user].incoming(within)

    async def answer(self, user: str, call: Call) -> None:
        self.rec.note("SIP", f"{user} answer")
        await call.answer()

    async def hangup(self, user: str, call: Call) -> None:
        self.rec.note("SIP", f"{user} hangup")
        await call.hangup()

    def on_invite(self, user: str, answer: Answer) -> None:
        """What ``user`` does with every call it gets from now on:
        ``SIP: carrier on-invite answer after=0.5 hangup_after=4``."""
        text = f"{user} on-invite {answer.action} after={answer.after:g}"
        if answer.hangup_after is not None:
            text += f" hangup_after={answer.hangup_after:g}"
        self.rec.note("SIP", text)
        self.phones[user].on_invite(lambda number: answer)

    def auto_answer(self, user: str, after: float | None) -> None:
        self.rec.note(
            "SIP", f"{user} auto-answer {after:g}" if after is not None else f"{user} no-answer"
        )
        self.phones[user].auto_answer = after

    # --- Asterisk ---------------------------------------------------------------------------

    async def restart(self) -> None:
        """``core restart now``; returns at once (the recorder sees Asterisk go and come back)."""
        self.rec.note("ASTERISK", "core restart now")
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            await asyncio.to_thread(self.pbx.cli, "core restart now", 10)

    async def kill(self) -> None:
        self.rec.note("ASTERISK", "kill")
        await asyncio.to_thread(self.pbx.kill)

    async def start(self) -> None:
        """Start Asterisk (returns at once: the recorder sees it boot)."""
        self.rec.note("ASTERISK", "start")
        await asyncio.to_thread(self._spawn)

    def _spawn(self) -> None:
        subprocess.run(
            [str(self.pbx.binary), "-C", str(self.pbx.conf)],
            env=self.pbx.env,
            check=True,
            capture_output=True,
            timeout=30,
        )

    # --- AMI --------------------------------------------------------------------------------

    async def queue_add(
        self, interface: str, name: str, *, paused: bool = False, reason: str = ""
    ) -> list[Headers]:
        headers = [
            ("Queue", "support"),
            ("Interface", interface),
            ("MemberName", name),
        ]
        if paused:
            headers += [("Paused", "true"), ("Reason", reason)]
        return await self.rec.action("QueueAdd", *headers)

    async def queue_remove(self, interface: str) -> list[Headers]:
        return await self.rec.action("QueueRemove", ("Queue", "support"), ("Interface", interface))

    async def resync(self) -> None:
        """What cti asks after every login."""
        await self.rec.action("CoreShowChannels")
        await self.rec.action("QueueStatus")
        await self.rec.action("QueueSummary")

    async def settle(self, seconds: float = 1.0) -> None:
        await self.rec.quiet(seconds)

    async def close(self) -> None:
        for phone in self.phones.values():
            with contextlib.suppress(Exception):
                async with asyncio.timeout(8):
                    await phone.close()


def _ok(answer: list[Headers]) -> None:
    if get(answer[0], "Response") != "Success":
        raise CaptureError(f"refused: {answer[0]}")


async def _queued_call(rig: Rig, caller: str = "2025550199", name: str = "Dora") -> Call:
    """agent1 (registered, in support) takes a carrier call to 5000; the agent's leg."""
    await rig.carrier_call("5000", caller, name)
    leg = await rig.incoming("agent1")
    await rig.answer("agent1", leg)
    await rig.rec.event("AgentConnect", within=10, since=0)
    return leg


# --- the captures --------------------------------------------------------------------------------


async def member_unregistered(rig: Rig) -> None:
    await rig.phone("agent1", register=False)
    await rig.settle(0.5)
    _ok(await rig.queue_add("PJSIP/agent1", "Ana Lima"))
    await rig.settle(1.0)
    # Ringing a phone that is not registered fails at once.
    mark = rig.rec.mark()
    rig.rec.send(
        "Originate",
        ("Channel", "PJSIP/agent1"),
        ("Application", "Wait"),
        ("Data", "1"),
        ("Async", "true"),
        ("Timeout", "10000"),
        action_id="orig-unregistered",
    )
    await rig.rec.event("OriginateResponse", since=mark, ActionID="orig-unregistered")
    await rig.settle(1.0)
    mark = rig.rec.mark()
    await rig.register("agent1")
    await rig.rec.event("QueueMemberStatus", since=mark, Status="1")
    await rig.settle(1.0)
    mark = rig.rec.mark()
    await rig.unregister("agent1")
    await rig.rec.event("QueueMemberStatus", since=mark, Status="5")
    await rig.settle(1.0)
    mark = rig.rec.mark()
    await rig.register("agent1")
    await rig.rec.event("QueueMemberStatus", since=mark, Status="1")
    await rig.settle(1.0)
    _ok(await rig.queue_remove("PJSIP/agent1"))
    await rig.settle(0.5)


async def _two_members(rig: Rig) -> None:
    await rig.phone("agent1")
    await rig.phone("agent2")
    await rig.settle(0.5)
    _ok(await rig.queue_add("PJSIP/agent1", "Ana Lima", paused=True, reason="lunch"))
    _ok(await rig.queue_add("PJSIP/agent2", "Bruno Dias"))
    await rig.settle(1.0)


async def _after_restart(rig: Rig, *, boot_probe: bool) -> None:
    """Reconnect at once, probe QueueStatus until app_queue answers, then resync; watch the
    members' device state until the phones are qualified again."""
    await rig.rec.reconnect()
    if boot_probe:
        for _ in range(200):
            answer = await rig.rec.action("QueueStatus")
            if get(answer[0], "Response") == "Success":
                break
            await asyncio.sleep(0.1)
    with contextlib.suppress(CaptureError):
        await rig.rec.event("FullyBooted", within=30)
    await rig.resync()


async def pbx_restart_idle(rig: Rig) -> None:
    await _two_members(rig)
    await rig.resync()
    await rig.restart()
    await _after_restart(rig, boot_probe=True)
    # cti puts its agents back; then the phones' first qualify makes them reachable again.
    mark = rig.rec.mark()
    _ok(await rig.queue_add("PJSIP/agent1", "Ana Lima", paused=True, reason="lunch"))
    _ok(await rig.queue_add("PJSIP/agent2", "Bruno Dias"))
    with contextlib.suppress(CaptureError):
        await rig.rec.event(
            "QueueMemberStatus", since=mark, within=20, Interface="PJSIP/agent2", Status="1"
        )
    await rig.settle(1.0)
    await rig.rec.action("QueueStatus")
    _ok(await rig.queue_remove("PJSIP/agent1"))
    _ok(await rig.queue_remove("PJSIP/agent2"))
    await rig.settle(0.5)


async def _agent_back(rig: Rig) -> None:
    """What cti does after the resync: agent1 back in support; then its phone is qualified."""
    mark = rig.rec.mark()
    _ok(await rig.queue_add("PJSIP/agent1", "Ana Lima"))
    await rig.rec.event("QueueMemberStatus", since=mark, within=20, Status="1")
    await rig.settle(1.0)
    await rig.rec.action("QueueStatus")
    _ok(await rig.queue_remove("PJSIP/agent1"))
    await rig.settle(0.5)


async def pbx_killed_mid_call(rig: Rig) -> None:
    await rig.phone("agent1")
    await rig.phone("carrier")
    await rig.settle(0.5)
    _ok(await rig.queue_add("PJSIP/agent1", "Ana Lima"))
    await rig.settle(1.0)
    await _queued_call(rig)
    await rig.settle(2.0)
    await rig.kill()
    await rig.rec.wait_closed(10)
    await rig.start()
    await _after_restart(rig, boot_probe=True)
    await _agent_back(rig)


async def pbx_restart_mid_call(rig: Rig) -> None:
    await rig.phone("agent1")
    await rig.phone("carrier")
    await rig.settle(0.5)
    _ok(await rig.queue_add("PJSIP/agent1", "Ana Lima"))
    await rig.settle(1.0)
    await _queued_call(rig)
    await rig.settle(2.0)
    await rig.restart()
    await _after_restart(rig, boot_probe=True)
    await _agent_back(rig)


async def chanspy_end(rig: Rig) -> None:
    await rig.phone("agent1")
    await rig.phone("agent9")
    await rig.phone("carrier")
    await rig.settle(0.5)
    _ok(await rig.queue_add("PJSIP/agent1", "Ana Lima"))
    await rig.settle(1.0)
    await _queued_call(rig)
    await rig.settle(1.0)
    mark = rig.rec.mark()
    aid = rig.rec.send(
        "Originate",
        ("Channel", "PJSIP/agent9"),
        ("Context", "cti-spy"),
        ("Exten", "listen"),
        ("Priority", "1"),
        ("Async", "true"),
        ("Timeout", "30000"),
        ("Variable", "CTI_SPY_TARGET=PJSIP/agent1-"),
        ("Variable", "CTI_ACTION_ID=spy-1"),
        action_id="spy-1",
    )
    listening = await rig.incoming("agent9")
    await asyncio.sleep(0.5)
    await rig.answer("agent9", listening)
    await rig.rec.event("OriginateResponse", since=mark, ActionID=aid)
    await rig.rec.event("ChanSpyStart", since=mark)
    await rig.settle(2.0)
    await rig.hangup("carrier", rig.phones["carrier"].calls[-1])
    await rig.rec.event("ChanSpyStop", since=mark)
    await listening.ended(10)
    await rig.settle(2.0)
    _ok(await rig.queue_remove("PJSIP/agent1"))
    await rig.settle(0.5)


def _dialer_originate(rig: Rig, action_id: str) -> str:
    """What cti's dialer sends for a progressive call (cti/dialer/service.py ``_request``)."""
    return rig.rec.send(
        "Originate",
        ("Channel", "Local/+12025550101@cti-dialer/n"),
        ("Async", "true"),
        ("Context", "cti-dialer"),
        ("Exten", "connect"),
        ("Priority", "1"),
        ("CallerID", '"Renewals" <2025550100>'),
        ("Timeout", "15000"),
        *(("Variable", v) for v in DIALER_VARIABLES.split(",")),
        ("Variable", f"CTI_ACTION_ID={action_id}"),
        action_id=action_id,
    )


def _preview_originate(rig: Rig, action_id: str, number: str) -> str:
    """What cti's dialer sends for a preview call: the agent's own phone first."""
    variables = PREVIEW_VARIABLES.replace("+12025550131", number)
    return rig.rec.send(
        "Originate",
        ("Channel", "PJSIP/agent1"),
        ("Async", "true"),
        ("Context", "cti-dialer"),
        ("Exten", "preview"),
        ("Priority", "1"),
        ("CallerID", f'"Spring" <{number}>'),
        ("Timeout", "30000"),
        *(("Variable", v) for v in variables.split(",")),
        ("Variable", f"CTI_ACTION_ID={action_id}"),
        action_id=action_id,
    )


async def _dialer_rig(rig: Rig, *, agent_answers: bool) -> None:
    await rig.phone("agent1")
    await rig.phone("carrier")
    rig.auto_answer("agent1", 0.0 if agent_answers else None)
    await rig.settle(0.5)
    _ok(await rig.queue_add("PJSIP/agent1", "Ana Lima"))
    await rig.settle(1.0)


async def _all_hung_up(rig: Rig, since: int, within: float = 30.0) -> None:
    """Wait until every channel created since ``since`` has hung up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        made = {
            get(m, "Channel") for m in rig.rec.messages[since:] if get(m, "Event") == "Newchannel"
        }
        gone = {get(m, "Channel") for m in rig.rec.messages[since:] if get(m, "Event") == "Hangup"}
        if made and made <= gone:
            return
        if loop.time() > deadline:
            raise CaptureError(f"still up after {within:g} s: {sorted(made - gone)}")
        await asyncio.sleep(0.1)


async def dialer_progressive(rig: Rig) -> None:
    await _dialer_rig(rig, agent_answers=True)
    rig.on_invite("carrier", Answer("answer", after=0.5, hangup_after=4.0))
    mark = rig.rec.mark()
    _dialer_originate(rig, "dial-1")
    await _all_hung_up(rig, mark)
    await rig.settle(1.5)
    _ok(await rig.queue_remove("PJSIP/agent1"))
    await rig.settle(0.5)


async def dialer_abandoned(rig: Rig) -> None:
    await _dialer_rig(rig, agent_answers=False)
    rig.on_invite("carrier", Answer("answer", after=0.5))
    mark = rig.rec.mark()
    _dialer_originate(rig, "dial-1")
    await _all_hung_up(rig, mark)
    await rig.settle(1.5)
    _ok(await rig.queue_remove("PJSIP/agent1"))
    await rig.settle(0.5)


async def dialer_busy(rig: Rig) -> None:
    await _dialer_rig(rig, agent_answers=True)
    rig.on_invite("carrier", Answer("busy", after=0.3))
    mark = rig.rec.mark()
    _dialer_originate(rig, "dial-1")
    await rig.rec.event("OriginateResponse", since=mark, within=20)
    await _all_hung_up(rig, mark)
    await rig.settle(1.5)
    _ok(await rig.queue_remove("PJSIP/agent1"))
    await rig.settle(0.5)


async def dialer_preview(rig: Rig) -> None:
    await _dialer_rig(rig, agent_answers=False)
    rig.on_invite("carrier", Answer("answer", after=0.5, hangup_after=3.0))
    mark = rig.rec.mark()
    _preview_originate(rig, "preview-1", "+12025550131")
    mine = await rig.incoming("agent1")
    await asyncio.sleep(1.0)
    await rig.answer("agent1", mine)
    await rig.rec.event("UserEvent", since=mark, within=10, UserEvent="CtiDialerConnected")
    await _all_hung_up(rig, mark)
    await rig.settle(1.5)
    _ok(await rig.queue_remove("PJSIP/agent1"))
    await rig.settle(0.5)


async def dialer_preview_busy(rig: Rig) -> None:
    await _dialer_rig(rig, agent_answers=False)
    rig.on_invite("carrier", Answer("busy", after=0.3))
    mark = rig.rec.mark()
    _preview_originate(rig, "preview-1", "+12025550132")
    mine = await rig.incoming("agent1")
    await asyncio.sleep(1.0)
    await rig.answer("agent1", mine)
    await rig.rec.event("UserEvent", since=mark, within=10, UserEvent="CtiDialerResult")
    await _all_hung_up(rig, mark)
    await rig.settle(1.5)
    _ok(await rig.queue_remove("PJSIP/agent1"))
    await rig.settle(0.5)


async def blind_transfer(rig: Rig) -> None:
    await rig.phone("agent1")
    await rig.phone("agent2")
    await rig.phone("carrier")
    await rig.settle(0.5)
    _ok(await rig.queue_add("PJSIP/agent1", "Ana Lima"))
    await rig.settle(1.0)
    mark = rig.rec.mark()
    await _queued_call(rig)
    await rig.settle(2.0)
    caller = next(
        get(m, "Channel")
        for m in rig.rec.messages[mark:]
        if get(m, "Event") == "Newchannel" and get(m, "Channel").startswith("PJSIP/carrier-in-")
    )
    _ok(
        await rig.rec.action(
            "Redirect",
            ("Channel", caller),
            ("Context", "from-agents"),
            ("Exten", "202"),
            ("Priority", "1"),
        )
    )
    transferred = await rig.incoming("agent2")
    await asyncio.sleep(1.0)
    await rig.answer("agent2", transferred)
    await rig.settle(3.0)
    await rig.hangup("carrier", rig.phones["carrier"].calls[-1])
    await _all_hung_up(rig, mark)
    await rig.settle(1.5)
    _ok(await rig.queue_remove("PJSIP/agent1"))
    await rig.settle(0.5)


CAPTURES: dict[str, Callable[[Rig], Awaitable[None]]] = {
    "member_unregistered": member_unregistered,
    "pbx_restart_idle": pbx_restart_idle,
    "pbx_killed_mid_call": pbx_killed_mid_call,
    "pbx_restart_mid_call": pbx_restart_mid_call,
    "chanspy_end": chanspy_end,
    "dialer_progressive": dialer_progressive,
    "dialer_abandoned": dialer_abandoned,
    "dialer_busy": dialer_busy,
    "dialer_preview": dialer_preview,
    "dialer_preview_busy": dialer_preview_busy,
    "blind_transfer": blind_transfer,
}


async def record(name: str, out: Path) -> None:
    prefix = asterisk_prefix()
    if prefix is None:
        raise SystemExit("no Asterisk installed (see tests/pbx/asterisk.py BUILD_HINT)")
    pbx = Asterisk(prefix)
    try:
        await asyncio.to_thread(pbx.start)
        rec = await AmiRecorder.open(
            out / f"{name}.ami", port=pbx.ports.ami, username="cti", secret=AMI_SECRET
        )
        rig = Rig(pbx, rec)
        try:
            await rig.settle(0.5)
            await CAPTURES[name](rig)
            if not rec.closed:
                rec.send("Logoff")
                await rec.wait_closed(5)
        finally:
            await rig.close()
            await rec.close()
    except BaseException:
        print(f"--- {name}: Asterisk messages.log ---\n{pbx.log_tail()}", file=sys.stderr)
        raise
    finally:
        await asyncio.to_thread(pbx.close)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(CAPTURES))
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in CAPTURES]
    if unknown:
        parser.error(f"no such capture: {', '.join(unknown)}")
    logging.basicConfig(level=logging.WARNING)
    for name in args.names or list(CAPTURES):
        print(f"recording {name} ...", flush=True)
        asyncio.run(record(name, args.out))
    print("done")


if __name__ == "__main__":
    main()
