"""After-call work on a real Asterisk: a call that ends leaves agent1 in wrap-up (its member
paused for it, as ``queue show`` says); a queue call meanwhile is not offered to them, however long
Asterisk keeps the caller waiting; once the attention is disposed it is."""

from __future__ import annotations

import asyncio
import re

from tests.pbx.asterisk import ANSI, Asterisk
from tests.pbx.conftest import open_desk
from tests.pbx.cti_server import CtiServer
from tests.pbx.helpers import PBX_WAIT, Phones, SignedIn, members, sign_in_to_phone, wait_desk

WAITED = re.compile(r"\(wait: (\d+):(\d\d)")


async def _longest_wait(pbx: Asterisk, queue: str) -> int:
    """The longest wait of a caller in ``queue``, as Asterisk counts it (0: nobody waits)."""
    out = ANSI.sub("", await asyncio.to_thread(pbx.cli, f"queue show {queue}"))
    waits = [int(m) * 60 + int(s) for m, s in WAITED.findall(out)]
    return max(waits, default=0)


async def test_an_agent_in_wrap_up_is_offered_no_queue_call_until_the_attention_is_disposed(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones
) -> None:
    agent1, carrier = await phones("agent1"), await phones("carrier")
    ana = await signed_in("ana")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    sock = await open_desk(ana)
    try:
        first = await carrier.call(
            "5000", caller="2025550199", caller_name="Dora Cliente", target=pbx.trunk_address
        )
        ringing = await agent1.incoming(PBX_WAIT)
        await ringing.answer()
        attention = (await sock.next("attention"))["attention"]
        await first.hangup()  # the caller hangs up
        await sock.next("call_ended")
        wrap = (await sock.next("wrapup", lambda m: m["wrapup"] is not None))["wrapup"]
        assert wrap["attention_id"] == attention["id"]
        await sock.next("state", lambda m: m["state"] == "wrap_up")
        assert any("paused:wrap-up" in m for m in await members(pbx, "support"))

        # A second caller: Asterisk keeps them waiting, and never rings agent1.
        second = await carrier.call(
            "5000", caller="2025550188", caller_name="Eva Cliente", target=pbx.trunk_address
        )
        for _ in range(int(PBX_WAIT * 10)):
            if await _longest_wait(pbx, "support") >= 4:
                break
            await asyncio.sleep(0.1)
        assert await _longest_wait(pbx, "support") >= 4
        assert len(agent1.calls) == 1  # no INVITE for the waiting caller
        assert [m for m in sock.of("pop") if m["pop"]["caller_num"] == "2025550188"] == []
        assert sock.state() == "wrap_up"

        # Disposed: agent1 is ready again and Asterisk offers them the waiting caller.
        resp = await ana.patch(
            f"/api/v1/desk/attentions/{attention['id']}", json={"status": "closed"}
        )
        assert resp.status == 200, await resp.text()
        offered = await agent1.incoming(PBX_WAIT)
        pop = await sock.next("pop", lambda m: m["pop"]["caller_num"] == "2025550188")
        assert pop["pop"]["status"] == "ringing"
        await offered.answer()
        # This call's own connect (the first call's is on the socket too): hung up before it, the
        # caller would have abandoned, with no call to wrap up.
        await sock.next("connected", lambda m: m["call"]["caller_num"] == "2025550188")
        await second.hangup()
        await sock.next(
            "wrapup", lambda m: m["wrapup"] and m["wrapup"]["attention_id"] != attention["id"]
        )
    finally:
        await sock.close()
