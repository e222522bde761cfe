"""Queue members' penalties on a real Asterisk: a free member with the lowest penalty is rung before
the others, who ring only while it is busy (the demo's simulated agents wait behind the people at a
desk this way; ``tests/sim/test_queue_penalty.py`` holds the simulator to the same)."""

from __future__ import annotations

import asyncio

import pytest

from tests.pbx.asterisk import Asterisk
from tests.pbx.helpers import PBX_WAIT, Phones
from tests.pbx.sipua import Phone, SipError


async def _backup_and_person(pbx: Asterisk, phones: Phones) -> tuple[Phone, Phone, Phone]:
    """The backup (agent1, penalty 1) then the person (agent2, penalty 0) in support, and the
    carrier: round robin alone would ring the backup first."""
    backup, person = await phones("agent1"), await phones("agent2")
    for interface, penalty in (("PJSIP/agent1", 1), ("PJSIP/agent2", 0)):
        await asyncio.to_thread(
            pbx.cli, f"queue add member {interface} to support penalty {penalty}"
        )
    return backup, person, await phones("carrier")


async def test_the_free_member_with_the_lowest_penalty_is_rung_first(
    pbx: Asterisk, phones: Phones
) -> None:
    backup, person, carrier = await _backup_and_person(pbx, phones)
    first = await carrier.dial("5000", caller="2025550101", target=pbx.trunk_address)
    taken = await person.incoming(PBX_WAIT)
    with pytest.raises(SipError):
        await backup.incoming(3.0)  # not rung while the person's phone rings
    await taken.answer()

    second = await carrier.dial("5000", caller="2025550102", target=pbx.trunk_address)
    overflow = await backup.incoming(PBX_WAIT)  # the person is busy: the backup rings
    await overflow.answer()
    for call in (first, second):
        await call.hangup()
    for call in (taken, overflow):
        assert await call.ended(PBX_WAIT) == "bye-received"


async def test_a_person_who_does_not_answer_is_rung_again_not_the_backup(
    pbx: Asterisk, phones: Phones
) -> None:
    """After the ring timeout (15 s) and the retry (2 s) the lowest penalty still wins: the person
    rings again and the backup does not: Asterisk's autopause is off (with cti, a desk agent who
    lets a call ring out is paused instead: tests/pbx/test_missed_calls.py)."""
    backup, person, carrier = await _backup_and_person(pbx, phones)
    caller = await carrier.dial("5000", caller="2025550101", target=pbx.trunk_address)
    missed = await person.incoming(PBX_WAIT)
    # Its 15 s of ringing go by unanswered; 2 s later it rings again.
    again = await person.incoming(15.0 + 2.0 + PBX_WAIT)
    assert again is not missed
    with pytest.raises(SipError):
        await backup.incoming(1.0)
    await again.answer()
    await caller.hangup()
    assert await again.ended(PBX_WAIT) == "bye-received"
