"""Redirection on no answer on a real Asterisk: a queue call rings ana's phone (agent1) out, cti
pauses her member (``queue show`` says ``paused:missed calls``) and tells her desk, and the
waiting caller goes to the backup (agent2, penalty 1), not to ana's phone again; Resume gives her
the queue's calls again. Without cti (Asterisk's ``autopause`` is off) the person rings again and
again: tests/pbx/test_queue_penalty.py."""

from __future__ import annotations

import asyncio

import pytest

from cti.domain.no_answer import MISSED_REASON
from tests.pbx.asterisk import Asterisk
from tests.pbx.conftest import open_desk, until
from tests.pbx.cti_server import CtiServer
from tests.pbx.helpers import PBX_WAIT, Phones, SignedIn, members, sign_in_to_phone, wait_desk
from tests.pbx.sipua import SipError

# The queue's ring timeout (config/asterisk/queues.conf): the call rings agent1 this long.
RING_TIMEOUT = 15.0


async def test_a_call_that_rings_out_pauses_the_agent_and_its_caller_goes_to_the_backup(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones
) -> None:
    agent1, backup, carrier = (
        await phones("agent1"),
        await phones("agent2"),
        await phones("carrier"),
    )
    ana = await signed_in("ana")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    await asyncio.to_thread(pbx.cli, "queue add member PJSIP/agent2 to support penalty 1")
    sock = await open_desk(ana)
    try:
        caller = await carrier.call("5000", caller="2025550199", target=pbx.trunk_address)
        missed = await agent1.incoming(PBX_WAIT)
        with pytest.raises(SipError):
            await backup.incoming(3.0)  # ana is ready: the caller rings her alone
        # The ring timeout goes by unanswered.
        told = await until(
            lambda: sock.of("missed_pause"), RING_TIMEOUT + PBX_WAIT, "the desk told of a pause"
        )
        assert told[0]["missed"] == 1
        await sock.next("state", lambda m: m["state"] == "paused")
        mine = [m for m in await members(pbx, "support") if "PJSIP/agent1" in m]
        assert len(mine) == 1 and f"paused:{MISSED_REASON}" in mine[0]
        assert await missed.ended(PBX_WAIT) == "cancelled"  # Asterisk stopped ringing it

        # The queue's retry: the caller rings the backup, and ana's phone no more.
        taken = await backup.incoming(PBX_WAIT)
        await taken.answer()
        assert len(agent1.calls) == 1

        # Back at her desk she resumes: her member takes the queue's calls again.
        assert (await ana.post("/api/v1/desk/resume")).status == 200
        await wait_desk(ana, "ready again", lambda d: d["state"] == "ready")
        mine = [m for m in await members(pbx, "support") if "PJSIP/agent1" in m]
        assert "paused" not in mine[0]
        await caller.hangup()
        assert await taken.ended(PBX_WAIT) == "bye-received"

        # The supervisors' pauses report counts it: one pause of ana for missed calls, ended.
        sofia = await signed_in("sofia")
        rows = (await (await sofia.get("/api/v1/reports/pauses")).json())["rows"]
        assert [(r["operator"], r["reason"], r["pauses"]) for r in rows] == [
            ("Ana Lima", MISSED_REASON, 1)
        ]
        await asyncio.sleep(1.1)
        again = (await (await sofia.get("/api/v1/reports/pauses")).json())["rows"]
        assert again == rows  # ended at the Resume: no longer growing
    finally:
        await sock.close()
