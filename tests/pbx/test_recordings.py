"""Call recordings on the real Asterisk: the shipped dialplan records a queue call (MixMonitor),
cti ties the file to the call, a user with the permission plays it (a range request answered 206),
one without is refused and the refusal audited, an agent stops the recording at the caller's
request, and the retention purge deletes an old recording with its row."""

from __future__ import annotations

import asyncio

import aiohttp

from cti.db.engine import Database
from cti.db.users import add_user
from tests.pbx.asterisk import Asterisk
from tests.pbx.conftest import until
from tests.pbx.cti_server import CtiServer
from tests.pbx.helpers import (
    PBX_WAIT,
    Phones,
    SignedIn,
    dispose_after_call,
    sign_in_to_phone,
    wait_desk,
)
from tests.pbx.test_dialer import campaign, carrier_policy, rows, start, until_rows
from tests.web.conftest import Client

DIEGO = "diego-secret-pbx-1"


async def _queue_call(pbx: Asterisk, phones: Phones, ana: Client, talk: float) -> None:
    """A caller reaches ana (agent1) through the support queue; they talk ``talk`` s; the caller
    hangs up."""
    agent1, carrier = await phones("agent1"), await phones("carrier")
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    caller = await carrier.call("5000", caller="2025550199", target=pbx.trunk_address)
    leg = await agent1.incoming(PBX_WAIT)
    await leg.answer()
    await wait_desk(ana, "in_call", lambda d: d["state"] == "in_call")
    await asyncio.sleep(talk)
    await caller.hangup()
    await leg.ended(PBX_WAIT)


async def test_a_recorded_call_is_played_with_the_permission_and_refused_without(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones, migrated_database: str
) -> None:
    async with Database(migrated_database) as db:
        await add_user(
            db, username="diego", password=DIEGO, role="operator", routines=["telemarketing"]
        )
    ana = await signed_in("ana")
    await sign_in_to_phone(ana)
    await _queue_call(pbx, phones, ana, talk=1.5)

    (rec,) = await until_rows(
        migrated_database,
        "SELECT r.id, r.file, r.bytes, c.uniqueid FROM recordings r JOIN calls c"
        " ON c.id = r.call_id",
        1,
    )
    path = pbx.recordings / rec["file"]
    assert rec["file"] == f"{rec['uniqueid']}.wav" and path.is_file()
    assert rec["bytes"] == path.stat().st_size > 8000  # about 1.5 s of 8 kHz 16-bit audio

    # Ana may hear personal data: the browser's player asks for ranges, answered 206.
    url = f"/api/v1/recordings/{rec['id']}"
    part = await ana.get(url, headers={"Range": "bytes=0-99"})
    assert part.status == 206, await part.text()
    assert part.headers["Content-Type"] == "audio/wav"
    assert part.headers["Content-Range"] == f"bytes 0-99/{rec['bytes']}"
    assert (await part.read()).startswith(b"RIFF")
    seek = await ana.get(url, headers={"Range": f"bytes=1000-{rec['bytes'] - 1}"})
    assert seek.status == 206
    played = await rows(
        migrated_database,
        "SELECT actor FROM audit_log WHERE action = 'personal.recording.played' AND subject = $1",
        f"recording:{rec['id']}",
    )
    assert [r["actor"] for r in played] == ["ana"]  # one playback, its seek not counted again

    # Diego may not: 403, and the refusal is audited.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        diego = Client(http=http, base=cti.url)
        assert (await diego.login("diego", DIEGO)).status == 200
        refused = await diego.get(url)
        assert refused.status == 403
        assert "personal data" in (await refused.json())["error"]
    refusals = await rows(
        migrated_database,
        "SELECT actor FROM audit_log WHERE action = 'personal.recording.refused'",
    )
    assert [r["actor"] for r in refusals] == ["diego"]

    # The retention purge deletes a recording past its time, file and row.
    conn_rows = await rows(
        migrated_database,
        "UPDATE recordings SET created_at = now() - interval '400 days' WHERE id = $1 RETURNING id",
        rec["id"],
    )
    assert conn_rows
    await until(lambda: not path.exists(), PBX_WAIT, "the old recording's file deleted")
    await until_rows(
        migrated_database,
        "SELECT 1 FROM audit_log WHERE action = 'recording.deleted' AND subject = $1",
        1,
        f"recording:{rec['id']}",
    )
    assert await rows(migrated_database, "SELECT id FROM recordings") == []


async def test_an_agent_stops_the_recording_when_the_caller_refuses_it(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones, migrated_database: str
) -> None:
    agent1, carrier = await phones("agent1"), await phones("carrier")
    ana = await signed_in("ana")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    caller = await carrier.call("5000", caller="2025550198", target=pbx.trunk_address)
    leg = await agent1.incoming(PBX_WAIT)
    await leg.answer()
    await wait_desk(ana, "in_call", lambda d: d["state"] == "in_call")
    await until(lambda: any(pbx.recordings.glob("*.wav")), PBX_WAIT, "the recording started")
    (path,) = list(pbx.recordings.glob("*.wav"))
    await asyncio.sleep(0.5)

    stop = await ana.post("/api/v1/desk/recording/stop", json={})
    assert stop.status == 200, await stop.text()
    await asyncio.sleep(0.3)  # MixMonitor writes what it had buffered and closes the file
    size = path.stat().st_size
    await asyncio.sleep(1.5)  # still talking: the file no longer grows
    assert path.stat().st_size == size
    again = await ana.post("/api/v1/desk/recording/stop", json={})
    assert again.status == 409
    assert "not being recorded" in (await again.json())["error"]

    await caller.hangup()
    await leg.ended(PBX_WAIT)
    (rec,) = await until_rows(migrated_database, "SELECT stopped_by, bytes FROM recordings", 1)
    assert rec["stopped_by"] == "ana" and rec["bytes"] == size


async def test_dialer_calls_are_recorded_unless_their_campaign_says_not_to(
    pbx: Asterisk, cti: CtiServer, signed_in: SignedIn, phones: Phones, migrated_database: str
) -> None:
    carrier = await phones("carrier")
    carrier.on_invite(carrier_policy)
    agent1 = await phones("agent1")
    agent1.auto_answer = 0.0  # the dialplan asks the softphone to answer at once
    ana, sofia = await signed_in("ana"), await signed_in("sofia")
    await sign_in_to_phone(ana)
    await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
    recorded_sql = (
        "SELECT r.file, r.bytes, c.uniqueid, c.campaign_id FROM recordings r"
        " JOIN calls c ON c.id = r.call_id WHERE c.campaign_id = $1"
    )

    # A progressive campaign's call: recorded from the moment ana is bridged in.
    cid = await campaign(sofia, name="Recorded", mode="progressive", phones=["+12025550161"])
    await start(sofia, cid)
    customer = await carrier.incoming(PBX_WAIT)
    await customer.answered.wait()
    await (await agent1.incoming(PBX_WAIT)).answered.wait()
    await wait_desk(ana, "in_call", lambda d: d["state"] == "in_call")
    await asyncio.sleep(1.0)
    await customer.hangup()
    (rec,) = await until_rows(migrated_database, recorded_sql, 1, cid)
    assert rec["file"] == f"{rec['uniqueid']}.wav"
    assert rec["bytes"] == (pbx.recordings / rec["file"]).stat().st_size > 4000
    await dispose_after_call(ana)

    # A preview call: the customer's channel is recorded once they answer.
    vid = await campaign(sofia, name="Looked at", mode="preview", phones=["+12025550162"])
    await start(sofia, vid)
    pop = await (await ana.post(f"/api/v1/campaigns/{vid}/preview/next", json={})).json()
    lead = pop["lead"]["lead"]["id"]
    resp = await ana.post(f"/api/v1/campaigns/{vid}/preview/{lead}/dial", json={})
    assert resp.status == 200, await resp.text()
    await (await agent1.incoming(PBX_WAIT)).answer()
    customer = await carrier.incoming(PBX_WAIT)
    await customer.answered.wait()
    await wait_desk(ana, "in_call", lambda d: d["state"] == "in_call")
    await asyncio.sleep(1.0)
    await customer.hangup()
    (rec,) = await until_rows(migrated_database, recorded_sql, 1, vid)
    assert rec["bytes"] == (pbx.recordings / rec["file"]).stat().st_size > 4000
    await dispose_after_call(ana)

    # A campaign set not to record: its call leaves no file and no row.
    quiet = await campaign(sofia, name="Unrecorded", mode="progressive", phones=["+12025550163"])
    resp = await sofia.patch(f"/api/v1/campaigns/{quiet}", json={"record": False})
    assert resp.status == 200, await resp.text()
    files = set(pbx.recordings.iterdir())
    await start(sofia, quiet)
    customer = await carrier.incoming(PBX_WAIT)
    await customer.answered.wait()
    await (await agent1.incoming(PBX_WAIT)).answered.wait()
    await wait_desk(ana, "in_call", lambda d: d["state"] == "in_call")
    await asyncio.sleep(1.0)
    await customer.hangup()
    await dispose_after_call(ana)
    (logged,) = await until_rows(
        migrated_database,
        "SELECT uniqueid FROM calls WHERE campaign_id = $1 AND ended_at IS NOT NULL",
        1,
        quiet,
    )
    assert not (pbx.recordings / f"{logged['uniqueid']}.wav").exists()
    assert set(pbx.recordings.iterdir()) == files
    assert await rows(migrated_database, recorded_sql, quiet) == []
