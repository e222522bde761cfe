"""Reports, ``/api/v1/live`` and the wallboard show customers' names and callers' numbers only to
supervisors with personal_data; every reading of them is audited; a supervisor demoted to
operator loses an open wallboard within a second."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa

from cti.app import RunningService
from cti.db.models import AuditEvent
from cti.sim import PbxSimulator
from cti.web import supervisor_stream
from cti.web.supervisor_stream import WALLBOARD_SERVICE

from .conftest import Client, agent_of, open_wallboard
from .test_reports import seed

AGENT = "Local/101@sim-agent/n"
NUMBER, NAME = "+15550001", "Carlos Souza"


async def _audit(service: RunningService, actor: str) -> list[tuple[str, str, str]]:
    async with service.runtime.db.sessions() as s:
        rows = await s.execute(
            sa.select(AuditEvent.action, AuditEvent.subject, AuditEvent.details)
            .where(AuditEvent.actor == actor, AuditEvent.action.like("personal.%"))
            .order_by(AuditEvent.id)
        )
        return [(a, str(subj), d["purpose"]) for a, subj, d in rows.all()]


async def _sofia(users: dict[str, str], client_factory: Callable[[], Awaitable[Client]]) -> Client:
    sofia = await client_factory()  # a supervisor without personal_data
    assert (await sofia.login("sofia", users["sofia"])).status == 200
    return sofia


async def test_reports_mask_customers_without_personal_data_and_audit_each_reading(
    service: RunningService,
    supervisor: Client,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    d = (await seed(service))["d"]
    sofia = await _sofia(users, client_factory)
    path = f"/api/v1/reports/contact-frequency?from={d}&to={d}"
    masked = await (await sofia.get(path)).json()
    assert masked["masked"] is True
    assert {r["customer"] for r in masked["rows"]} >= {"Ac**", "Be**"}
    text = (await (await sofia.get(path + "&format=csv")).read()).decode("utf-8-sig")
    cells = {line[0] for line in csv.reader(io.StringIO(text))}
    assert "Ac**" in cells and "Acme" not in cells and "Beta" not in cells
    critical = await (await sofia.get(f"/api/v1/reports/critical?from={d}&to={d}")).json()
    assert critical["rows"] and all("*" in r["customer"] for r in critical["rows"])
    shown = await (await supervisor.get(path)).json()  # vera holds personal_data
    assert shown["masked"] is False and "Acme" in {r["customer"] for r in shown["rows"]}
    assert await _audit(service, "sofia") == [
        ("personal.masked", "report:contact-frequency", "report"),
        ("personal.masked", "report:contact-frequency", "report export"),
        ("personal.masked", "report:critical", "report"),
    ]
    assert await _audit(service, "vera") == [
        ("personal.read", "report:contact-frequency", "report")
    ]


async def test_live_views_mask_caller_ids_audit_them_and_a_demoted_supervisor_loses_the_board(
    service: RunningService,
    sim: PbxSimulator,
    supervisor: Client,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    sim.add_simulated_agent("support", AGENT, "Agent 101")
    sofia = await _sofia(users, client_factory)
    vera_wb = await open_wallboard(supervisor)
    sofia_wb = await open_wallboard(sofia)
    # The boards are only sent when they change: look from here, not from when each is awaited.
    vera_from, sofia_from = len(vera_wb.frames), len(sofia_wb.frames)
    sim.inbound_call("support", NUMBER, NAME, talk_seconds=600)
    await service.runtime.ami.flush("pbx1")
    await sim.advance(1)
    await service.runtime.ami.flush("pbx1")

    def in_call(frame: dict[str, Any]) -> bool:
        agent = agent_of(frame, AGENT)
        return agent is not None and agent["call"] is not None

    seen = (await vera_wb.next(in_call, since=vera_from))["agents"]
    call = next(a["call"] for a in seen if a["interface"] == AGENT)
    assert (call["caller_num"], call["caller_name"]) == (NUMBER, NAME)
    masked = agent_of(await sofia_wb.next(in_call, since=sofia_from), AGENT)
    assert masked is not None
    assert (masked["call"]["caller_num"], masked["call"]["caller_name"]) == (
        "+1555**01",
        "Car*** So***",
    )
    linkedid = call["linkedid"]

    live = await (await sofia.get("/api/v1/live")).json()
    board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
    for body in (live, board, sofia_wb.frames):
        text = json.dumps(body)
        assert "5550001" not in text and "Carlos" not in text and "Souza" not in text
    assert live["masked"] is True and board["masked"] is True
    assert NUMBER in json.dumps(await (await supervisor.get("/api/v1/live")).json())

    # The wallboard audits a call once per board, when it first shows it; REST reads each time.
    wallboard_line = ("personal.masked", f"call:{linkedid}", "wallboard")
    for _ in range(300):
        lines = await _audit(service, "sofia")
        if lines.count(wallboard_line) >= 2:
            break
        await asyncio.sleep(0.01)
    assert ("personal.masked", f"call:{linkedid}", "wallboard") in lines
    assert ("personal.masked", f"call:{linkedid}", "live") in lines
    assert lines.count(wallboard_line) == 2  # the stream's once, the GET's once
    assert ("personal.read", f"call:{linkedid}", "wallboard") in await _audit(service, "vera")

    # An admin demotes sofia: her open wallboard is closed within a second.
    root = await client_factory()
    assert (await root.login("root", users["root"])).status == 200
    resp = await root.patch(
        f"/api/v1/users/{sofia.user['id']}",
        json={"role": "operator", "routines": ["telemarketing"]},
    )
    assert resp.status == 200, await resp.text()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(sofia_wb.closed.wait(), timeout=3)
    assert loop.time() - started < 1.5
    assert sofia_wb.ws.close_code == 4003
    assert not vera_wb.closed.is_set()


async def test_a_wallboard_opened_while_a_tick_checks_who_may_watch_stays_open(
    service: RunningService,
    supervisor: Client,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    """A tick reads the role of everyone watching, then judges the boards: one opened while it
    reads was not in that reading, and must not be closed as if its supervisor were nobody."""
    vera_wb = await open_wallboard(supervisor)
    sofia_wb = await open_wallboard(await _sofia(users, client_factory))
    boards = service.app[WALLBOARD_SERVICE]
    ((client, watcher),) = [
        (c, w) for c, w in boards.watchers.items() if w.viewer.username == "sofia"
    ]
    # Sofia's board is registered just after a tick has started reading who watches.
    del boards.watchers[client]
    check = asyncio.create_task(boards.check_watchers())
    await asyncio.sleep(0)
    boards.watchers[client] = watcher
    await check
    await sofia_wb.next(since=len(sofia_wb.frames))
    assert not sofia_wb.closed.is_set() and sofia_wb.ws.close_code is None
    assert not vera_wb.closed.is_set()


async def test_a_wallboards_reading_is_audited_even_when_the_first_write_of_it_fails(
    service: RunningService,
    sim: PbxSimulator,
    supervisor: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The database refuses the first write of the wallboard's audit lines (a restart, a failover):
    # the lines are written at the next tick, not lost.
    failures: list[int] = []
    real = supervisor_stream.write_reads

    async def failing_once(db: Any, rows: Any) -> None:
        if not failures:
            failures.append(len(rows))
            raise ConnectionError("the database went away")
        await real(db, rows)

    monkeypatch.setattr(supervisor_stream, "write_reads", failing_once)
    sim.add_simulated_agent("support", AGENT, "Agent 101")
    vera_wb = await open_wallboard(supervisor)
    start = len(vera_wb.frames)
    sim.inbound_call("support", NUMBER, NAME, talk_seconds=600)
    await service.runtime.ami.flush("pbx1")
    await sim.advance(1)
    await service.runtime.ami.flush("pbx1")
    seen = await vera_wb.next(
        lambda f: (agent_of(f, AGENT) or {}).get("call") is not None, since=start
    )
    agent = agent_of(seen, AGENT)
    assert agent is not None
    linkedid = agent["call"]["linkedid"]
    line = ("personal.read", f"call:{linkedid}", "wallboard")
    for _ in range(300):
        if line in await _audit(service, "vera"):
            break
        await asyncio.sleep(0.01)
    assert failures, "the failing write was never tried"
    assert (await _audit(service, "vera")).count(line) == 1
