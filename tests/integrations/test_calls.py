"""Call events and click-to-call against the PBX simulator: a CRM sees a call ring at an agent,
be answered and end (or be abandoned), in order, on the stream and at its webhook; it asks cti to
call a number for an agent, with the desk's rules."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa

from cti.app import RunningService, running_service
from cti.db.models import DncEntry
from cti.domain.desk_dial import DAYS
from cti.sim import PbxSimulator
from tests.desk.conftest import (
    answering_customers,
    at_desk,
    client_factory,
    customers,
    until,
    users,
)
from tests.web.conftest import Client, service_settings

from .conftest import Receiver, add_key, audit_lines, ok
from .test_stream_and_keys import call_with, streaming

__all__ = ["at_desk", "client_factory", "customers", "users"]

AtDesk = Callable[..., Awaitable[tuple[Client, Any]]]
CALL_EVENTS = ["call.ringing", "call.answered", "call.ended", "call.abandoned"]


@pytest.fixture
async def sim() -> AsyncIterator[PbxSimulator]:
    """Every dialled customer answers after 2 s; time moves when a test says."""
    traffic = answering_customers(ring=2.0, talk=60.0)
    async with PbxSimulator(manual_time=True, traffic=traffic) as simulator:
        yield simulator


@pytest.fixture
async def service(migrated_database: str, sim: PbxSimulator) -> AsyncIterator[RunningService]:
    """cti on the simulator; the desk may call all day; webhooks looked at often."""
    base = service_settings(ami_port=sim.port, remote_answer=True)
    settings = dataclasses.replace(
        base,
        desk=dataclasses.replace(
            base.desk,
            caller_id="5550000",
            calling_days=tuple(DAYS),
            calling_from="00:00",
            calling_until="23:59:59",
        ),
        webhooks=dataclasses.replace(base.webhooks, poll_seconds=0.05),
    )
    async with running_service(settings, database_url=migrated_database, migrate=False) as svc:
        await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        await svc.runtime.ami.flush("pbx1")
        yield svc


@pytest.fixture
async def root(
    service: RunningService,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> Client:
    client = await client_factory()
    assert (await client.login("root", users["root"])).status == 200
    return client


async def test_a_crm_sees_a_call_ring_be_answered_and_end_in_order(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    at_desk: AtDesk,
    root: Client,
    receiver: Receiver,
) -> None:
    await ok(await root.post("/api/v1/webhooks", json={"url": receiver.url, "events": CALL_EVENTS}))
    token = await add_key(root, "events:read")
    ana, ana_ws = await at_desk("ana")
    async with streaming(service, token) as stream:
        sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=30)
        await sim.advance(0.2)
        await ana_ws.next("pop")
        assert (await ana.post("/api/v1/desk/answer")).status == 200
        await ana_ws.next("connected")
        await sim.advance(30.5)
        await ana_ws.next("call_ended")
        await until(lambda: len(stream.events) >= 3, what="three call events")
        events = stream.events
    assert [e["type"] for e in events] == ["call.ringing", "call.answered", "call.ended"]
    assert len({e["data"]["linkedid"] for e in events}) == 1
    ringing = events[0]["data"]
    assert ringing["agent"] == {"interface": "PJSIP/agent1", "name": "Ana Lima"}
    assert ringing["caller"]["number"] == "+12025550101" and ringing["queue"] == "support"
    assert events[2]["data"]["talk_seconds"] >= 29
    await until(lambda: len(receiver.got) == 3, what="the three posts")
    assert [e["id"] for e in receiver.events()] == [e["id"] for e in events], "in order"


async def test_a_caller_who_hangs_up_waiting_is_an_abandoned_call(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    at_desk: AtDesk,
    root: Client,
) -> None:
    token = await add_key(root, "events:read")
    _, ana_ws = await at_desk("ana")
    async with streaming(service, token) as stream:
        sim.inbound_call("support", "+12025550101", "ACME", patience=3.0)
        await sim.advance(0.2)
        await ana_ws.next("pop")
        await sim.advance(4.0)
        await until(
            lambda: any(e["type"] == "call.abandoned" for e in stream.events), what="abandoned"
        )
        kinds = [e["type"] for e in stream.events]
    assert kinds[0] == "call.ringing" and kinds[-1] == "call.abandoned", kinds


async def test_click_to_call_rings_the_agent_then_the_number_with_the_desks_rules(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    at_desk: AtDesk,
    root: Client,
) -> None:
    token = await add_key(root, "calls:start", "events:read")
    path = "api/v1/integrations/calls"

    status, body = await call_with(
        service, token, "POST", path, json={"agent": "ana", "number": "+12025550101"}
    )
    assert status == 409 and body["field"] == "agent", "ana is not at her desk yet"

    _, ana_ws = await at_desk("ana")
    status, body = await call_with(
        service, token, "POST", path, json={"agent": "ana", "number": "letters"}
    )
    assert status == 400 and body["field"] == "number"

    async with service.runtime.db.sessions.begin() as s:
        s.add(DncEntry(phone="+12025550199", reason="asked"))
    status, body = await call_with(
        service, token, "POST", path, json={"agent": "ana", "number": "+12025550199"}
    )
    assert status == 409 and body["field"] == "number", "the do-not-call list applies"

    async with streaming(service, token) as stream:
        status, body = await call_with(
            service, token, "POST", path, json={"agent": "ana", "number": "+12025550101"}
        )
        assert (status, body) == (200, {"agent": "ana", "number": "+12025550101"})
        for _ in range(40):  # ana's own phone rings first
            await sim.advance(0.25)
            await service.runtime.ami.flush("pbx1")
            if sim.answer("PJSIP/agent1"):
                break
        else:
            raise AssertionError("ana's phone never rang")
        for _ in range(20):  # the customer answers after 2 s
            await sim.advance(0.25)
            await service.runtime.ami.flush("pbx1")
            if ana_ws.of("connected"):
                break
        connected = await ana_ws.next("connected")
        assert connected["pop"]["phone"] == "+12025550101"
        assert connected["pop"]["customer"]["id"] == customers["acme"]
        await sim.advance(61)  # the customer talks a minute and hangs up
        await service.runtime.ami.flush("pbx1")
        await until(lambda: len(stream.events) >= 2, what="the call's events")
    # The CRM hears the call it asked for: answered, then ended, as outbound.
    answered, ended = stream.events[:2]
    assert (answered["type"], ended["type"]) == ("call.answered", "call.ended")
    assert answered["data"]["direction"] == "outbound"
    assert answered["data"]["agent"] == {"interface": "PJSIP/agent1"}
    assert ended["data"]["linkedid"] == answered["data"]["linkedid"]
    lines = await audit_lines(service)
    assert ("api-key:crm", "integration.call", "phone:+12025550101") in lines


async def test_two_instances_on_one_pbx_tell_each_call_event_once(
    service: RunningService,
    migrated_database: str,
    sim: PbxSimulator,
    customers: dict[str, int],
    at_desk: AtDesk,
    root: Client,
    receiver: Receiver,
) -> None:
    # A second cti on the same database and PBX sees every call too (its own AMI link).
    other_settings = service_settings(ami_port=sim.port, remote_answer=True)
    async with running_service(
        other_settings, database_url=migrated_database, migrate=False
    ) as other:
        await until(lambda: other.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        await ok(
            await root.post("/api/v1/webhooks", json={"url": receiver.url, "events": CALL_EVENTS})
        )
        ana, ana_ws = await at_desk("ana")
        sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=30)
        await sim.advance(0.2)
        await ana_ws.next("pop")
        assert (await ana.post("/api/v1/desk/answer")).status == 200
        await ana_ws.next("connected")
        await sim.advance(30.5)
        await ana_ws.next("call_ended")
        await until(lambda: len(receiver.got) >= 3, what="the three posts")
        async with other.runtime.db.engine.connect() as conn:
            written = (
                (await conn.execute(sa.text("SELECT type FROM outbox_events ORDER BY id")))
                .scalars()
                .all()
            )
    assert list(written) == ["call.ringing", "call.answered", "call.ended"]
    assert [e["type"] for e in receiver.events()] == list(written)
