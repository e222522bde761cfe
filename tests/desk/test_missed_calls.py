"""An agent who lets queue calls ring out is paused, so that callers go to the colleagues who are
there (redirection on no answer): cti over TCP to the PBX simulator, real PostgreSQL, real sockets.

Each attention group says after how many missed calls in a row (1 unless an admin changes it;
empty: never). The desk says why; Resume takes calls again. The same is proven against a real
Asterisk in tests/pbx/test_missed_calls.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import sqlalchemy as sa

from cti.app import RunningService
from cti.db.engine import Database
from cti.domain.no_answer import MISSED_REASON
from cti.sim import PbxSimulator

from .conftest import Client, DeskSocket, admin_and_fast_group, until

AtDesk = Callable[..., Awaitable[tuple[Client, DeskSocket]]]


async def pause_after(db: Database, missed: int | None) -> None:
    """The rule of ana's group (Fast)."""
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text("UPDATE attention_groups SET pause_after_missed = :m WHERE name = 'Fast'"),
            {"m": missed},
        )


async def ring_out(sim: PbxSimulator, ws: DeskSocket, seen: int) -> None:
    """The simulator's clock goes on until a queue call rings ana's phone, then to the queue's
    timeout: the pop says missed."""
    member = sim.pbx.queues["support"].members["PJSIP/agent1"]
    for _ in range(60):
        if member.ringing:
            break
        await sim.advance(0.5)
    await ws.next("pop", lambda m: m["pop"]["status"] == "ringing", after=seen)
    await sim.advance(sim.pbx.queues["support"].timeout + 0.5)
    await ws.next("pop_update", lambda m: m["pop"]["status"] == "missed", after=seen)


async def test_a_call_that_rings_out_pauses_the_agent_and_its_caller_goes_to_a_colleague(
    service: RunningService, sim: PbxSimulator, at_desk: AtDesk
) -> None:
    ana, ws = await at_desk("ana")
    member = sim.pbx.queues["support"].members["PJSIP/agent1"]
    # A colleague rung only while ana is busy or paused (a higher penalty): while she is ready,
    # the caller rings her alone.
    sim.add_simulated_agent("support", "PJSIP/backup", "Backup", penalty=1, ring_seconds=1.0)
    backup = sim.pbx.queues["support"].members["PJSIP/backup"]

    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=60)
    await sim.advance(0.2)
    await ring_out(sim, ws, 0)
    told = await ws.next("missed_pause")
    assert told["missed"] == 1
    await until(lambda: ws.state() == "paused", what="ana paused")
    assert member.paused and member.paused_reason == MISSED_REASON
    desk = (await (await ana.get("/api/v1/desk")).json())["desk"]
    assert (desk["state"], desk["reason"]) == ("paused", MISSED_REASON)

    # The queue's retry: the caller goes to the colleague, not to ana's empty desk.
    await sim.advance(sim.pbx.queues["support"].retry + 1.5)
    await until(lambda: backup.in_call, what="the caller with the colleague")
    assert not member.ringing and not member.in_call

    # Back at her desk, ana resumes and takes the next call.
    seen = len(ws.messages)
    assert (await ana.post("/api/v1/desk/resume")).status == 200
    await until(lambda: ws.state() == "ready", what="ana ready again")
    sim.inbound_call("support", "+12025550102", "ACME", talk_seconds=10)
    await sim.advance(0.2)
    await ws.next("pop", lambda m: m["pop"]["phone"] == "+12025550102", after=seen)
    assert (await ana.post("/api/v1/desk/answer")).status == 200
    await ws.next("connected", after=seen)


async def test_a_group_pauses_after_its_number_of_misses_in_a_row_or_never(
    service: RunningService, sim: PbxSimulator, at_desk: AtDesk
) -> None:
    db = service.runtime.db
    await pause_after(db, 2)
    ana, ws = await at_desk("ana")
    member = sim.pbx.queues["support"].members["PJSIP/agent1"]

    # One miss: still ready, and the same caller rings her again after the queue's retry.
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=10)
    await sim.advance(0.2)
    await ring_out(sim, ws, 0)
    await until(lambda: ws.state() == "ready", what="ready after one miss")
    assert not member.paused and not ws.of("missed_pause")
    seen = len(ws.messages)
    # The second in a row pauses her.
    await ring_out(sim, ws, seen)
    assert (await ws.next("missed_pause", after=seen))["missed"] == 2
    await until(lambda: member.paused, what="paused after two misses")
    assert member.paused_reason == MISSED_REASON

    # A pause starts the count again: after Resume one more miss leaves her ready.
    assert (await ana.post("/api/v1/desk/resume")).status == 200
    await until(lambda: ws.state() == "ready", what="ready again")
    seen = len(ws.messages)
    await ring_out(sim, ws, seen)
    await until(lambda: ws.state() == "ready", what="ready after one more miss")
    assert not member.paused and len(ws.of("missed_pause")) == 1

    # A group that never pauses: misses in a row leave her ready.
    await pause_after(db, None)
    for _ in range(2):
        seen = len(ws.messages)
        await ring_out(sim, ws, seen)
        await until(lambda: ws.state() == "ready", what="ready after a miss")
    assert not member.paused and len(ws.of("missed_pause")) == 1


async def test_an_admin_sets_a_groups_misses_and_bad_values_are_named(
    service: RunningService,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    admin, fast = await admin_and_fast_group(users, client_factory)
    assert fast["pause_after_missed"] == 1  # the default
    path = f"/api/v1/config/attention-groups/{fast['id']}"
    for bad in (0, 21, "two"):
        resp = await admin.patch(path, json={"pause_after_missed": bad})
        assert resp.status == 400 and (await resp.json())["field"] == "pause_after_missed"
    resp = await admin.patch(path, json={"pause_after_missed": 3})
    assert resp.status == 200 and (await resp.json())["pause_after_missed"] == 3
    resp = await admin.patch(path, json={"pause_after_missed": None})
    assert resp.status == 200 and (await resp.json())["pause_after_missed"] is None
    resp = await admin.post(
        "/api/v1/config/attention-groups", json={"name": "Night", "ideal_talk_seconds": 200}
    )
    assert resp.status in (200, 201) and (await resp.json())["pause_after_missed"] == 1
