"""A transfer between desks held by two cti instances (one database, one PBX): ana's desk is at
one, bruno's at the other. Bruno is offered among the free agents, gets the caller's pop with
ana's attention, and, once the consultation is completed, the call is his; a cancelled one tells
his desk so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from cti.app import RunningService, running_service
from cti.sim import PbxSimulator
from tests.web.conftest import service_settings

from .conftest import Client, DeskSocket, open_desk, until
from .test_transfer import AtDesk, _ana_on_a_call, _bridged, _caller


@pytest.fixture
async def other(migrated_database: str, sim: PbxSimulator) -> AsyncIterator[RunningService]:
    """A second instance on the same database and PBX."""
    settings = service_settings(ami_port=sim.port, remote_answer=True)
    async with running_service(settings, database_url=migrated_database, migrate=False) as svc:
        await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        await svc.runtime.ami.flush("pbx1")
        yield svc


@pytest.fixture
async def bruno_there(
    other: RunningService, users: dict[str, str]
) -> AsyncIterator[tuple[Client, DeskSocket]]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        bruno = Client(http=http, base=other.url)
        assert (await bruno.login("bruno", users["bruno"])).status == 200
        sock = await open_desk(bruno)
        assert (await bruno.post("/api/v1/desk/signin", json={})).status == 200
        await until(lambda: sock.state() == "ready", what="bruno ready")
        yield bruno, sock
        await sock.close()


async def _free_agents(ana: Client) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for _ in range(100):
        found = (await (await ana.get("/api/v1/desk/transfer/targets")).json())["agents"]
        if found:
            return found
        await asyncio.sleep(0.05)
    return found


async def test_a_transfer_reaches_a_desk_held_by_another_instance(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    at_desk: AtDesk,
    bruno_there: tuple[Client, DeskSocket],
) -> None:
    bruno, bruno_ws = bruno_there
    ana, ana_ws, attention = await _ana_on_a_call(sim, at_desk)
    # Bruno sits at the other instance's desk: he is offered all the same (once its lease is
    # seen here, within a second).
    free = await _free_agents(ana)
    assert [a["name"] for a in free] == ["Bruno Dias"]

    # A consultation cancelled: his desk hears it from the other instance.
    body = {"kind": "agent", "agent_id": free[0]["user_id"]}
    assert (await ana.post("/api/v1/desk/transfer/consult", json=body)).status == 200
    pop = (await bruno_ws.next("pop"))["pop"]
    assert pop["status"] == "transfer"
    assert pop["transfer"]["from"] == "Ana Lima"
    assert [n["text"] for n in pop["transfer"]["attention"]["notes"]] == ["asks for a refund"]
    # Looked up at bruno's instance, for him: he may not see personal data.
    assert pop["masked"] is True
    assert pop["customer"]["name"] == "Ac** Sup*****"
    assert (await bruno.post("/api/v1/desk/answer")).status == 200
    assert (await ana.post("/api/v1/desk/transfer/cancel")).status == 200
    update = await bruno_ws.next("pop_update")
    assert update["pop"]["status"] == "transfer_cancelled"
    await until(lambda: _bridged(sim, "PJSIP/carrier", "PJSIP/agent1-"), what="back with ana")

    # Consulted again and completed: the call is bruno's, with his own attention.
    await until(lambda: bruno_ws.state() == "ready", what="bruno free again")
    mark = len(bruno_ws.messages)
    assert (await ana.post("/api/v1/desk/transfer/consult", json=body)).status == 200
    await bruno_ws.next("pop", after=mark)
    assert (await bruno.post("/api/v1/desk/answer")).status == 200
    assert (await ana.post("/api/v1/desk/transfer/complete")).status == 200
    await ana_ws.next("call_ended")
    await until(lambda: _bridged(sim, "PJSIP/carrier", "PJSIP/agent2-"), what="caller to bruno")
    connected = await bruno_ws.next("connected", after=mark)
    assert connected["call"]["caller_num"] == "+12025****01"
    theirs = (await bruno_ws.next("attention", after=mark))["attention"]
    assert theirs["id"] != attention["id"]
    assert theirs["customer_id"] == customers["acme"]
    sim.hangup(_caller(sim))
    await bruno_ws.next("call_ended")


async def test_a_supervisor_at_one_instance_releases_a_wrap_up_held_at_the_other(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
    bruno_there: tuple[Client, DeskSocket],
) -> None:
    bruno, bruno_ws = bruno_there
    sim.inbound_call("sales", "+12025550101", "ACME", talk_seconds=600)
    await sim.advance(0.2)
    await bruno_ws.next("pop")
    assert (await bruno.post("/api/v1/desk/answer")).status == 200
    await bruno_ws.next("attention")
    sim.hangup(_caller(sim))
    await bruno_ws.next("wrapup", lambda m: m["wrapup"] is not None)

    sofia = await client_factory()  # at the first instance
    assert (await sofia.login("sofia", users["sofia"])).status == 200
    # Her wallboard names who sits at the other instance's desk (once its lease is seen here).
    for _ in range(100):
        board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
        row = next(a for a in board["agents"] if a["interface"] == "PJSIP/agent2")
        if row["operator_id"] == bruno.user["id"]:
            break
        await asyncio.sleep(0.05)
    assert row["operator_id"] == bruno.user["id"] and row["name"] == "Bruno Dias"
    seated = (await (await sofia.get("/api/v1/desk/agents")).json())["agents"]
    assert [(a["name"], a["interface"], a["state"]) for a in seated] == [
        ("Bruno Dias", "PJSIP/agent2", "wrap_up")
    ]
    resp = await sofia.post("/api/v1/supervisor/resume", json={"interface": "PJSIP/agent2"})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["wrapup_released"] is True
    # Bruno's own instance released it as his desk would: the wrap-up ends, the attention is
    # left pending and flagged, and he is ready.
    await bruno_ws.next("wrapup", lambda m: m["wrapup"] is None and m["released"])
    flagged = await bruno_ws.next("attention", lambda m: m["attention"]["wrapup_overrun"])
    assert flagged["attention"]["status"] == "pending"
    await until(lambda: bruno_ws.state() == "ready", what="bruno ready")
