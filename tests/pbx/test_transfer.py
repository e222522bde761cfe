"""Attended transfer on a real Asterisk: agent1 (ana) takes a queue call, consults agent2 (bruno,
picked from the free agents) while the caller waits on hold, and completes the transfer (the
caller is bruno's, with ana's attention and notes on his screen) or cancels it (ana is back with
the caller, bruno's phone hangs up)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from tests.pbx.asterisk import ANSI, Asterisk
from tests.pbx.conftest import DeskSocket, open_desk
from tests.pbx.cti_server import CtiServer
from tests.pbx.helpers import (
    PBX_WAIT,
    Phones,
    SignedIn,
    desk,
    dispose_after_call,
    sign_in_to_phone,
    wait_desk,
)
from tests.pbx.sipua import Answer, Call, Phone
from tests.web.conftest import Client


async def _eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll an async ``check`` until it holds; fail after ``PBX_WAIT`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PBX_WAIT
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def _bridges(pbx: Asterisk) -> list[list[str]]:
    """The channels of each of Asterisk's bridges (``core show channels concise``)."""
    out = ANSI.sub("", await asyncio.to_thread(pbx.cli, "core show channels concise"))
    bridges: dict[str, list[str]] = {}
    for line in out.splitlines():
        fields = line.split("!")
        if len(fields) > 12 and fields[12]:
            bridges.setdefault(fields[12], []).append(fields[0])
    return list(bridges.values())


async def _tile(sofia: Client, interface: str, state: str) -> dict[str, Any]:
    """The agent's tile on the wallboard once in ``state``."""
    found: dict[str, Any] = {}

    async def there() -> bool:
        board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
        found.update(next(a for a in board["agents"] if a["interface"] == interface))
        return found["state"] == state

    await _eventually(there, f"{interface} {state} on the wallboard")
    return found


def _of(chans: list[str], prefix: str) -> bool:
    return any(ch.startswith(prefix) for ch in chans)


async def _bridged(pbx: Asterisk, *names: str) -> bool:
    """Whether one bridge holds a channel of each phone named (``agent1``, ``carrier-in``...)."""
    return any(all(_of(b, f"PJSIP/{n}-") for n in names) for b in await _bridges(pbx))


async def _consulting(pbx: Asterisk) -> bool:
    """Agent1 talks to agent2 through the transfer's Local channel; the caller is alone (on
    hold)."""
    bridges = await _bridges(pbx)
    return (
        any(_of(b, "PJSIP/agent1-") and _of(b, "Local/agent@cti-transfer") for b in bridges)
        and any(_of(b, "PJSIP/agent2-") and _of(b, "Local/agent@cti-transfer") for b in bridges)
        and any(b == [c] for b in bridges for c in b if c.startswith("PJSIP/carrier-in-"))
    )


async def _call_with_note(
    pbx: Asterisk, ana: Client, agent1: Phone, carrier: Phone
) -> tuple[Call, DeskSocket, dict[str, Any]]:
    """A caller queued to support, answered by ana, who writes a note on its attention."""
    sock = await open_desk(ana)
    caller = await carrier.call(
        "5000", caller="2025550199", caller_name="Dora Cliente", target=pbx.trunk_address
    )
    ringing = await agent1.incoming(PBX_WAIT)
    await ringing.answer()
    attention = (await sock.next("attention"))["attention"]
    resp = await ana.post(
        f"/api/v1/desk/attentions/{attention['id']}/notes",
        json={"text": "wants the invoice of March reissued"},
    )
    assert resp.status == 200, await resp.text()
    return caller, sock, attention


async def _consult_bruno(ana: Client, bruno: Client, agent2: Phone, bruno_sock: DeskSocket) -> Call:
    """Ana picks bruno among the free agents and consults him; he answers. His desk shows the
    caller's pop with ana's attention and note before he even picks up."""
    await wait_desk(bruno, "ready", lambda d: d["state"] == "ready")
    resp = await ana.get("/api/v1/desk/transfer/targets")
    assert resp.status == 200, await resp.text()
    free = (await resp.json())["agents"]
    assert [a["name"] for a in free] == ["Bruno Dias"]
    resp = await ana.post(
        "/api/v1/desk/transfer/consult", json={"kind": "agent", "agent_id": free[0]["user_id"]}
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["target"]["label"] == "Bruno Dias"
    pop = (await bruno_sock.next("pop"))["pop"]
    assert pop["status"] == "transfer"
    assert pop["caller_num"] == "2025550199"
    assert pop["transfer"]["from"] == "Ana Lima"
    notes = [n["text"] for n in pop["transfer"]["attention"]["notes"]]
    assert notes == ["wants the invoice of March reissued"]
    consulted = await agent2.incoming(PBX_WAIT)
    await consulted.answer()

    async def target_up() -> bool:
        resp = await ana.get("/api/v1/desk/transfer")
        return bool((await resp.json())["target_up"])

    await _eventually(target_up, "the consulted leg up")
    return consulted


async def test_an_attended_transfer_completes_to_the_consulted_agent(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones
) -> None:
    agent1, agent2, carrier = (
        await phones("agent1"),
        await phones("agent2"),
        await phones("carrier"),
    )
    ana, bruno = await signed_in("ana"), await signed_in("bruno")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    caller, ana_sock, attention = await _call_with_note(pbx, ana, agent1, carrier)
    await sign_in_to_phone(bruno)
    bruno_sock = await open_desk(bruno)
    try:
        consulted = await _consult_bruno(ana, bruno, agent2, bruno_sock)
        await _eventually(lambda: _consulting(pbx), "ana talking to bruno, the caller on hold")
        # The supervisor sees bruno on a call (the consultation), not ready nor in wrap-up.
        sofia = await signed_in("sofia")
        tile = await _tile(sofia, "PJSIP/agent2", "in_call")
        assert tile["call"]["kind"] == "consult"

        resp = await ana.post("/api/v1/desk/transfer/complete")
        assert resp.status == 200, await resp.text()
        # Ana's phone is hung up, her call ends and she is in wrap-up with her attention.
        await agent1.calls[-1].ended(PBX_WAIT)
        await ana_sock.next("call_ended")
        await dispose_after_call(ana)
        # The caller talks to bruno, whose desk has the call with his own attention.
        await _eventually(
            lambda: _bridged(pbx, "carrier-in", "agent2"), "the caller bridged to bruno"
        )
        assert caller.is_up and consulted.is_up
        connected = await bruno_sock.next("connected")
        assert connected["call"]["caller_num"] == "2025550199"
        theirs = (await bruno_sock.next("attention"))["attention"]
        assert theirs["id"] != attention["id"]
        body = (await desk(bruno))["desk"]
        assert body["timer"] is not None
        assert body["pop"]["transfer"]["from"] == "Ana Lima"
        # Paused by his desk for the wrap-up to come, he is on the call: talking, not wrapping up.
        assert (await _tile(sofia, "PJSIP/agent2", "in_call"))["call"]["kind"] == "direct"

        await caller.hangup()
        await bruno_sock.next("call_ended")
        assert (await _tile(sofia, "PJSIP/agent2", "wrap_up"))["call"] is None
        await dispose_after_call(bruno)
    finally:
        await ana_sock.close()
        await bruno_sock.close()


async def test_a_cancelled_attended_transfer_brings_the_agent_back_to_the_caller(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones
) -> None:
    agent1, agent2, carrier = (
        await phones("agent1"),
        await phones("agent2"),
        await phones("carrier"),
    )
    ana, bruno = await signed_in("ana"), await signed_in("bruno")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    caller, ana_sock, _ = await _call_with_note(pbx, ana, agent1, carrier)
    await sign_in_to_phone(bruno)
    bruno_sock = await open_desk(bruno)
    try:
        consulted = await _consult_bruno(ana, bruno, agent2, bruno_sock)

        resp = await ana.post("/api/v1/desk/transfer/cancel")
        assert resp.status == 200, await resp.text()
        await consulted.ended(PBX_WAIT)  # bruno's phone is hung up
        await _eventually(lambda: _bridged(pbx, "carrier-in", "agent1"), "ana back with the caller")
        assert caller.is_up and agent1.calls[-1].is_up
        state = await (await ana.get("/api/v1/desk/transfer")).json()
        assert state["phase"] == "none"
        assert (await desk(ana))["desk"]["timer"] is not None  # still her call
        update = await bruno_sock.next("pop_update")
        assert update["pop"]["status"] == "transfer_cancelled"
        await wait_desk(bruno, "ready again", lambda d: d["state"] == "ready")

        await caller.hangup()
        await ana_sock.next("call_ended")
        await dispose_after_call(ana)
    finally:
        await ana_sock.close()
        await bruno_sock.close()


async def test_a_blind_transfer_to_an_agent_is_theirs_once_they_answer(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones
) -> None:
    agent1, agent2, carrier = (
        await phones("agent1"),
        await phones("agent2"),
        await phones("carrier"),
    )
    ana, bruno = await signed_in("ana"), await signed_in("bruno")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    caller, ana_sock, attention = await _call_with_note(pbx, ana, agent1, carrier)
    await sign_in_to_phone(bruno)
    bruno_sock = await open_desk(bruno)
    try:
        await wait_desk(bruno, "ready", lambda d: d["state"] == "ready")
        bruno_id = (await desk(bruno))["user"]["id"]
        resp = await ana.post(
            "/api/v1/desk/transfer/blind", json={"kind": "agent", "agent_id": bruno_id}
        )
        assert resp.status == 200, await resp.text()
        await agent1.calls[-1].ended(PBX_WAIT)  # Asterisk takes the caller away from ana
        pop = (await bruno_sock.next("pop"))["pop"]
        assert pop["status"] == "transfer" and pop["transfer"]["kind"] == "blind"
        ringing = await agent2.incoming(PBX_WAIT)
        await ringing.answer()
        # Dial's U() tells cti bruno answered: the call is his, with Ana's attention shown.
        connected = await bruno_sock.next("connected")
        assert connected["pop"]["transfer"]["from"] == "Ana Lima"
        assert connected["pop"]["caller_num"] == "2025550199"
        theirs = (await bruno_sock.next("attention"))["attention"]
        assert theirs["id"] != attention["id"]
        await _eventually(lambda: _bridged(pbx, "carrier-in", "agent2"), "the caller with bruno")

        await caller.hangup()
        await bruno_sock.next("call_ended")
        await dispose_after_call(bruno)
        await ana_sock.next("call_ended")
        await dispose_after_call(ana)
    finally:
        await ana_sock.close()
        await bruno_sock.close()


async def test_a_blind_transfer_to_a_queue_pops_at_its_agent_with_the_attention_so_far(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones
) -> None:
    agent1, agent2, carrier = (
        await phones("agent1"),
        await phones("agent2"),
        await phones("carrier"),
    )
    ana, bruno = await signed_in("ana"), await signed_in("bruno")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    caller, ana_sock, _ = await _call_with_note(pbx, ana, agent1, carrier)
    await sign_in_to_phone(bruno)
    bruno_sock = await open_desk(bruno)
    try:
        await wait_desk(bruno, "ready", lambda d: d["state"] == "ready")
        resp = await ana.post(
            "/api/v1/desk/transfer/blind", json={"kind": "queue", "queue": "support"}
        )
        assert resp.status == 200, await resp.text()
        ringing = await agent2.incoming(PBX_WAIT)  # ana is held for her wrap-up: not offered
        pop = (await bruno_sock.next("pop"))["pop"]
        assert pop["queue"] == "support"
        assert pop["transfer"]["from"] == "Ana Lima"
        notes = [n["text"] for n in pop["transfer"]["attention"]["notes"]]
        assert notes == ["wants the invoice of March reissued"]
        await ringing.answer()
        await bruno_sock.next("connected")
        await _eventually(lambda: _bridged(pbx, "carrier-in", "agent2"), "the caller with bruno")
        await caller.hangup()
        await bruno_sock.next("call_ended")
        await dispose_after_call(bruno)
        await ana_sock.next("call_ended")
        await dispose_after_call(ana)
    finally:
        await ana_sock.close()
        await bruno_sock.close()


async def test_an_attended_transfer_to_a_number_goes_out_through_the_carrier(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones
) -> None:
    agent1, carrier = await phones("agent1"), await phones("carrier")
    carrier.on_invite(lambda number: Answer("answer", after=0.3))
    ana = await signed_in("ana")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    caller, ana_sock, _ = await _call_with_note(pbx, ana, agent1, carrier)
    try:
        resp = await ana.post(
            "/api/v1/desk/transfer/consult", json={"kind": "number", "number": "+55 11 5555-0142"}
        )
        assert resp.status == 200, await resp.text()
        outbound = await carrier.incoming(PBX_WAIT)
        assert outbound.number.endswith("551155550142")

        async def target_up() -> bool:
            return bool((await (await ana.get("/api/v1/desk/transfer")).json())["target_up"])

        await _eventually(target_up, "the number answered")
        await outbound.wait_answered(PBX_WAIT)
        resp = await ana.post("/api/v1/desk/transfer/complete")
        assert resp.status == 200, await resp.text()
        await agent1.calls[-1].ended(PBX_WAIT)

        async def caller_with_number() -> bool:
            return any(
                _of(b, "PJSIP/carrier-in-") and len(b) == 2 and not _of(b, "PJSIP/agent")
                for b in await _bridges(pbx)
            )

        await _eventually(caller_with_number, "the caller bridged to the number")
        assert caller.is_up and outbound.is_up
        await ana_sock.next("call_ended")
        await dispose_after_call(ana)
        await caller.hangup()
        await outbound.ended(PBX_WAIT)
    finally:
        await ana_sock.close()


async def test_an_attended_transfer_to_a_queue_consults_its_agent_then_hands_the_caller_over(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones
) -> None:
    agent1, agent2, carrier = (
        await phones("agent1"),
        await phones("agent2"),
        await phones("carrier"),
    )
    ana, bruno = await signed_in("ana"), await signed_in("bruno")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    caller, ana_sock, _ = await _call_with_note(pbx, ana, agent1, carrier)
    await sign_in_to_phone(bruno)
    bruno_sock = await open_desk(bruno)
    try:
        await wait_desk(bruno, "ready", lambda d: d["state"] == "ready")
        resp = await ana.post(
            "/api/v1/desk/transfer/consult", json={"kind": "queue", "queue": "support"}
        )
        assert resp.status == 200, await resp.text()
        ringing = await agent2.incoming(PBX_WAIT)
        # The queue's pop: the caller as Ana's pop had them, with her attention and note.
        pop = (await bruno_sock.next("pop"))["pop"]
        assert pop["queue"] == "support"
        assert pop["caller_num"] == "2025550199"
        assert pop["transfer"]["from"] == "Ana Lima"
        notes = [n["text"] for n in pop["transfer"]["attention"]["notes"]]
        assert notes == ["wants the invoice of March reissued"]
        await ringing.answer()
        await bruno_sock.next("connected")

        async def target_up() -> bool:
            return bool((await (await ana.get("/api/v1/desk/transfer")).json())["target_up"])

        await _eventually(target_up, "the queue's agent on the line")
        resp = await ana.post("/api/v1/desk/transfer/complete")
        assert resp.status == 200, await resp.text()
        await agent1.calls[-1].ended(PBX_WAIT)
        await ana_sock.next("call_ended")
        await dispose_after_call(ana)
        assert caller.is_up and ringing.is_up  # the caller talks to bruno now
        await caller.hangup()
        await ringing.ended(PBX_WAIT)
        await bruno_sock.next("call_ended")
        await dispose_after_call(bruno)
    finally:
        await ana_sock.close()
        await bruno_sock.close()
