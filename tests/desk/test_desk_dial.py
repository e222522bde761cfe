"""Dialling out from the desk (click-to-call, the dial pad) and the agent's pending calls, against
the PBX simulator and real PostgreSQL: the agent's phone rings first, the number once they
answered; the call gets its pop, timer, outbound attention and after-call work like any call; the
do-not-call list and the calling hours refuse a call, saying why."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import sqlalchemy as sa

from cti.app import RunningService, running_service
from cti.db.models import Attention, AuditEvent, Callback, Campaign, DncEntry, Lead, Operator
from cti.domain.desk_dial import DAYS
from cti.domain.model import (
    AttentionKind,
    AttentionStatus,
    CampaignKind,
    CampaignMode,
    CampaignStatus,
    Direction,
    LeadStatus,
)
from cti.sim import Duration, OutboundCustomers, PbxSimulator, TrafficModel
from tests.desk.conftest import answering_customers, until
from tests.web.conftest import Client, service_settings

EVERY_DAY = tuple(DAYS)


@pytest.fixture
async def sim() -> AsyncIterator[PbxSimulator]:
    """Every dialled customer answers after 2 s and talks for a minute."""
    traffic = answering_customers(ring=2.0, talk=60.0)
    async with PbxSimulator(manual_time=True, traffic=traffic) as simulator:
        yield simulator


@pytest.fixture
def calling_hours() -> dict[str, Any]:
    """The desk's calling hours for the test: all day, every day (a test may narrow them)."""
    return {"calling_days": EVERY_DAY, "calling_from": "00:00", "calling_until": "23:59:59"}


@pytest.fixture
async def service(
    migrated_database: str, sim: PbxSimulator, calling_hours: dict[str, Any]
) -> AsyncIterator[RunningService]:
    base = service_settings(ami_port=sim.port, remote_answer=True)
    settings = dataclasses.replace(
        base, desk=dataclasses.replace(base.desk, caller_id="5550000", **calling_hours)
    )
    async with running_service(settings, database_url=migrated_database, migrate=False) as svc:
        await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        await svc.runtime.ami.flush("pbx1")
        yield svc


async def _past_attention(service: RunningService, operator: str, customer_id: int) -> int:
    operator_id = await _operator_id(service, operator)
    async with service.runtime.db.sessions.begin() as s:
        a = Attention(
            kind=AttentionKind.TELEMARKETING,
            direction=Direction.INBOUND,
            status=AttentionStatus.CLOSED,
            operator_id=operator_id,
            customer_id=customer_id,
            phone="+12025550101",
            subject="Invoice copy",
        )
        s.add(a)
        await s.flush()
        return int(a.id)


async def _pbx(service: RunningService, sim: PbxSimulator, seconds: float = 0.25) -> None:
    await sim.advance(seconds)
    await service.runtime.ami.flush("pbx1")


async def test_calling_a_history_entry_rings_the_agent_first_then_opens_an_outbound_attention(
    service: RunningService,
    sim: PbxSimulator,
    at_desk: Callable[..., Any],
    customers: dict[str, int],
) -> None:
    past = await _past_attention(service, "ana", customers["acme"])
    ana, ws = await at_desk("ana")

    resp = await ana.post("/api/v1/desk/dial", json={"attention_id": past})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["number"] == "+12025550101"

    # Ana's own phone rings first; nobody dials the customer before she answers.
    for _ in range(40):
        await _pbx(service, sim)
        if sim.answer("PJSIP/agent1"):
            break
    else:
        raise AssertionError("ana's phone never rang")
    for _ in range(20):  # the customer answers after 2 s
        await _pbx(service, sim)
        if ws.of("connected"):
            break
    connected = await ws.next("connected")
    assert connected["pop"]["customer"]["id"] == customers["acme"]
    assert connected["pop"]["phone"] == "+12025550101"
    assert connected["timer"] is not None
    attention = (await ws.next("attention"))["attention"]
    async with service.runtime.db.sessions() as s:
        stored = await s.get(Attention, attention["id"])
        assert stored is not None
        assert stored.direction is Direction.OUTBOUND
        assert stored.customer_id == customers["acme"]
        assert stored.campaign_id is None

    # Ana hangs up from the desk: after-call work until the attention is disposed.
    hung = await ana.post("/api/v1/desk/hangup")
    assert hung.status == 200, await hung.text()
    await _pbx(service, sim)
    await ws.next("call_ended")
    await ws.next("wrapup", lambda m: m["wrapup"] is not None)
    saved = await ana.patch(f"/api/v1/desk/attentions/{attention['id']}", json={"status": "closed"})
    assert saved.status == 200, await saved.text()
    await ws.next("wrapup", lambda m: m["wrapup"] is None)


async def test_a_number_on_the_do_not_call_list_is_refused_saying_why(
    service: RunningService, at_desk: Callable[..., Any], customers: dict[str, int]
) -> None:
    async with service.runtime.db.sessions.begin() as s:
        s.add(DncEntry(phone="+12025550101", campaign_id=None, reason="asked"))
    ana, _ = await at_desk("ana")
    resp = await ana.post("/api/v1/desk/dial", json={"customer_id": customers["acme"]})
    assert resp.status == 409
    body = await resp.json()
    assert body["field"] == "number"
    assert "do-not-call" in body["error"]
    # The attempt is on record: who tried to call whom, and why it was refused.
    async with service.runtime.db.sessions() as s:
        refused = (
            await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "desk.dial.refused"))
        ).scalar_one()
    assert (refused.actor, refused.subject) == ("ana", f"customer:{customers['acme']}")
    assert "do-not-call" in refused.details["reason"]
    # The contact's own number is not on it.
    ok = await ana.post("/api/v1/desk/dial", json={"contact_id": customers["laura"]})
    assert ok.status == 200, await ok.text()


class TestOutsideTheCallingHours:
    @pytest.fixture
    def calling_hours(self) -> dict[str, Any]:
        """Calls only on a day that is not today in New York."""
        today = datetime.now(UTC).astimezone(ZoneInfo("America/New_York")).weekday()
        return {
            "calling_days": (DAYS[(today + 3) % 7],),
            "calling_from": "09:00",
            "calling_until": "17:00",
        }

    async def test_a_typed_number_is_refused_saying_when_it_may_be_called(
        self, service: RunningService, at_desk: Callable[..., Any]
    ) -> None:
        ana, _ = await at_desk("ana")
        resp = await ana.post("/api/v1/desk/dial", json={"number": "(202) 555-0199"})
        assert resp.status == 409
        body = await resp.json()
        assert body["field"] == "number"
        assert "outside the calling hours" in body["error"]
        assert "09:00" in body["error"]


async def test_the_dial_pad_checks_the_number_and_the_agent(
    service: RunningService, at_desk: Callable[..., Any]
) -> None:
    ana, _ = await at_desk("ana")
    for typed, problem in (("12a456789", "digits only"), ("1234", "too short")):
        resp = await ana.post("/api/v1/desk/dial", json={"number": typed})
        assert resp.status == 400
        body = await resp.json()
        assert body["field"] == "number" and problem in body["error"], body
    both = await ana.post("/api/v1/desk/dial", json={"number": "2025550199", "customer_id": 1})
    assert both.status == 400
    # Paused: told to resume first.
    assert (await ana.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
    await until(lambda: service.runtime.ami.state("pbx1").agents["PJSIP/agent1"].paused)
    paused = await ana.post("/api/v1/desk/dial", json={"number": "2025550199"})
    assert paused.status == 409
    assert "resume" in (await paused.json())["error"]


async def _operator_id(service: RunningService, username: str) -> int:
    async with service.runtime.db.sessions() as s:
        found = await s.scalar(sa.select(Operator.id).where(Operator.username == username))
        assert found is not None
        return int(found)


async def test_my_pending_calls_are_sorted_by_due_time_and_the_due_ones_counted(
    service: RunningService, at_desk: Callable[..., Any], customers: dict[str, int]
) -> None:
    now = datetime.now(UTC)
    ana_id = await _operator_id(service, "ana")
    bruno_id = await _operator_id(service, "bruno")

    def planned(operator: int, minutes: int, **kw: Any) -> Attention:
        return Attention(
            kind=AttentionKind.TELEMARKETING,
            direction=Direction.INBOUND,
            status=AttentionStatus.PLANNED,
            operator_id=operator,
            next_call_at=now + timedelta(minutes=minutes),
            **kw,
        )

    async with service.runtime.db.sessions.begin() as s:
        later = planned(
            ana_id, 120, customer_id=customers["acme"], phone="+12025550101", subject="Send quote"
        )
        overdue = planned(
            ana_id, -5, contact_id=customers["laura"], phone="+12025550111", subject="Delivery"
        )
        theirs = planned(bruno_id, -5, phone="+12025550101")
        campaign = Campaign(
            name="Renewals",
            kind=CampaignKind.TELEMARKETING,
            mode=CampaignMode.PREVIEW,
            status=CampaignStatus.PAUSED,
            queue="support",
            windows=[],
            retry_rules={},
        )
        s.add_all([later, overdue, theirs, campaign])
        await s.flush()
        lead = Lead(campaign_id=campaign.id, phone="+12025550122", name="Pedro Alves")
        s.add(lead)
        await s.flush()
        cb = Callback(
            phone="+12025550122",
            due_at=now + timedelta(minutes=30),
            lead_id=lead.id,
            campaign_id=campaign.id,
            operator_id=ana_id,
        )
        s.add(cb)
        await s.flush()
        ids = {"later": later.id, "overdue": overdue.id, "callback": cb.id}

    ana, _ = await at_desk("ana", pbx=False)
    resp = await ana.get("/api/v1/desk/pending")
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert [(c["kind"], c["id"]) for c in body["calls"]] == [
        ("attention", ids["overdue"]),
        ("callback", ids["callback"]),
        ("attention", ids["later"]),
    ]
    assert [c["due"] for c in body["calls"]] == [True, False, False]
    assert body["due"] == 1
    assert body["calls"][0]["name"] == "Laura Smith"
    assert body["calls"][1]["name"] == "Pedro Alves"
    assert body["calls"][1]["about"] == "Renewals"
    assert body["masked"] is False


async def _call_and_take(
    service: RunningService, sim: PbxSimulator, ana: Any, ws: Any, body: dict[str, int]
) -> dict[str, Any]:
    """Ana dials from the desk, answers her phone, the customer answers: the call's attention."""
    after = len(ws.messages)
    resp = await ana.post("/api/v1/desk/dial", json=body)
    assert resp.status == 200, await resp.text()
    for _ in range(40):
        await _pbx(service, sim)
        if sim.answer("PJSIP/agent1"):
            break
    else:
        raise AssertionError("ana's phone never rang")
    for _ in range(20):
        await _pbx(service, sim)
        if any(m["type"] == "connected" for m in ws.messages[after:]):
            break
    await ws.next("connected", after=after)
    attention: dict[str, Any] = (await ws.next("attention", after=after))["attention"]
    return attention


async def _hang_up_and_dispose(
    service: RunningService, sim: PbxSimulator, ana: Any, ws: Any
) -> None:
    after = len(ws.messages)
    assert (await ana.post("/api/v1/desk/hangup")).status == 200
    await _pbx(service, sim)
    await ws.next("wrapup", lambda m: m["wrapup"] is not None, after=after)
    attention = (await ws.next("attention", after=after))["attention"]
    saved = await ana.patch(f"/api/v1/desk/attentions/{attention['id']}", json={"status": "closed"})
    assert saved.status == 200, await saved.text()
    await ws.next("wrapup", lambda m: m["wrapup"] is None, after=after)


async def test_a_pending_call_continues_its_attention_and_a_callback_is_kept_once_answered(
    service: RunningService,
    sim: PbxSimulator,
    at_desk: Callable[..., Any],
    customers: dict[str, int],
) -> None:
    ana_id = await _operator_id(service, "ana")
    now = datetime.now(UTC)
    async with service.runtime.db.sessions.begin() as s:
        planned = Attention(
            kind=AttentionKind.TELESALES,
            direction=Direction.INBOUND,
            status=AttentionStatus.PLANNED,
            operator_id=ana_id,
            customer_id=customers["acme"],
            phone="+12025550101",
            subject="Send the quote",
            next_call_at=now - timedelta(minutes=1),
        )
        campaign = Campaign(
            name="Renewals",
            kind=CampaignKind.TELEMARKETING,
            mode=CampaignMode.PREVIEW,
            status=CampaignStatus.PAUSED,
            queue="support",
            windows=[],
            retry_rules={},
        )
        s.add_all([planned, campaign])
        await s.flush()
        lead = Lead(
            campaign_id=campaign.id,
            phone="+12025550122",
            name="Pedro Alves",
            status=LeadStatus.CALLBACK,
        )
        s.add(lead)
        await s.flush()
        cb = Callback(
            phone="+12025550122",
            due_at=now - timedelta(minutes=1),
            lead_id=lead.id,
            campaign_id=campaign.id,
            operator_id=ana_id,
        )
        s.add(cb)
        await s.flush()
        planned_id, callback_id = int(planned.id), int(cb.id)

    ana, ws = await at_desk("ana")
    pending = await (await ana.get("/api/v1/desk/pending")).json()
    assert pending["due"] == 2

    # The planned call: the call's attention is that attention, pending again while on the call
    # (and not listed as a pending call while Ana is on it).
    attention = await _call_and_take(service, sim, ana, ws, {"attention_id": planned_id})
    assert attention["id"] == planned_id
    assert attention["status"] == "pending" and attention["kind"] == "telesales"
    listed = await (await ana.get("/api/v1/desk/pending")).json()
    assert [(c["kind"], c["id"]) for c in listed["calls"]] == [("callback", callback_id)]
    await _hang_up_and_dispose(service, sim, ana, ws)

    # The callback: kept once Pedro answered; it leaves the list. Its pop is Pedro's lead, and
    # the call's attention is the campaign's.
    mark = len(ws.messages)
    attention = await _call_and_take(service, sim, ana, ws, {"callback_id": callback_id})
    assert attention["id"] != planned_id and attention["direction"] == "outbound"
    popped = (await ws.next("connected", after=mark))["pop"]
    assert popped["campaign"]["lead"]["name"] == "Pedro Alves"
    assert popped["campaign"]["campaign"]["name"] == "Renewals"
    async with service.runtime.db.sessions() as s:
        stored = await s.get(Attention, attention["id"])
        assert stored is not None
        assert (stored.campaign_id, stored.lead_id) == (
            popped["campaign"]["campaign"]["id"],
            popped["campaign"]["lead"]["id"],
        )
        kept = await s.get(Callback, callback_id)
        assert kept is not None and kept.done_at is not None
        # Pedro's lead waited for that callback: it is done (the campaign counts it finished).
        pedro = await s.get(Lead, kept.lead_id)
        assert pedro is not None and pedro.status is LeadStatus.DONE
    await _hang_up_and_dispose(service, sim, ana, ws)
    assert (await (await ana.get("/api/v1/desk/pending")).json())["calls"] == []
    # A callback kept (or not Ana's) cannot be called again from the desk.
    again = await ana.post("/api/v1/desk/dial", json={"callback_id": callback_id})
    assert again.status == 404


async def test_a_typed_number_reaches_whoever_has_it_and_an_operator_without_personal_data_sees_it_masked(
    service: RunningService,
    sim: PbxSimulator,
    at_desk: Callable[..., Any],
    customers: dict[str, int],
) -> None:
    # Ana types Laura's number as she reads it: the pop finds Laura.
    ana, ws = await at_desk("ana")
    attention = await _call_and_take(service, sim, ana, ws, {"number": "(202) 555-0111"})
    connected = await ws.next("connected")
    assert connected["pop"]["match"]["kind"] == "contact"
    assert connected["pop"]["match"]["id"] == customers["laura"]
    assert attention["direction"] == "outbound"
    await _hang_up_and_dispose(service, sim, ana, ws)

    # Bruno has no personal_data: his pending call and the number he dials are masked, and
    # each showing is in the audit log.
    bruno_id = await _operator_id(service, "bruno")
    async with service.runtime.db.sessions.begin() as s:
        s.add(
            Attention(
                kind=AttentionKind.TELESALES,
                direction=Direction.INBOUND,
                status=AttentionStatus.PENDING,
                operator_id=bruno_id,
                customer_id=customers["acme"],
                phone="+12025550101",
            )
        )
    bruno, _ = await at_desk("bruno")
    pending = await (await bruno.get("/api/v1/desk/pending")).json()
    assert pending["masked"] is True
    (call,) = pending["calls"]
    assert call["name"] != "Acme Supplies" and call["name"].startswith("Ac")
    assert call["phone"] != "+12025550101" and call["phone"].endswith("01")
    dialled = await (
        await bruno.post("/api/v1/desk/dial", json={"attention_id": call["id"]})
    ).json()
    assert dialled["masked"] is True and dialled["number"] != "+12025550101"
    async with service.runtime.db.sessions() as s:
        audited = (
            await s.execute(
                sa.select(AuditEvent.action, AuditEvent.subject, AuditEvent.details).where(
                    AuditEvent.actor == "bruno"
                )
            )
        ).all()
    purposes = {(row.subject, (row.details or {}).get("purpose")) for row in audited}
    assert (f"attention:{call['id']}", "pending calls") in purposes
    assert (f"customer:{customers['acme']}", "desk dial") in purposes


class TestABusyNumber:
    @pytest.fixture
    async def sim(self) -> AsyncIterator[PbxSimulator]:
        """Every dialled customer is busy."""
        customers = OutboundCustomers(
            p_answer=0.0,
            p_busy=1.0,
            p_noanswer=0.0,
            p_congestion=0.0,
            ring=Duration(mean=1.0, spread=0.0, minimum=1.0, maximum=1.0),
        )
        traffic = TrafficModel(inbound_per_minute={}, customers=customers)
        async with PbxSimulator(manual_time=True, traffic=traffic) as simulator:
            yield simulator

    async def test_the_agent_is_told_the_number_is_busy_and_is_ready_again(
        self, service: RunningService, sim: PbxSimulator, at_desk: Callable[..., Any]
    ) -> None:
        ana, ws = await at_desk("ana")
        resp = await ana.post("/api/v1/desk/dial", json={"number": "2025550177"})
        assert resp.status == 200, await resp.text()
        for _ in range(40):
            await _pbx(service, sim)
            if sim.answer("PJSIP/agent1"):
                break
        else:
            raise AssertionError("ana's phone never rang")
        for _ in range(20):
            await _pbx(service, sim)
            if ws.of("dial_failed"):
                break
        failed = await ws.next("dial_failed")
        assert failed["reason"] == "the number is busy"
        assert not ws.of("connected")  # no call, no attention, no wrap-up
        await until(lambda: ws.state() == "ready", what="ready again")
        assert not ws.of("wrapup")


async def test_an_agent_who_does_not_pick_up_their_own_phone_is_told_nothing_was_dialled(
    service: RunningService, sim: PbxSimulator, at_desk: Callable[..., Any]
) -> None:
    ana, ws = await at_desk("ana")
    resp = await ana.post("/api/v1/desk/dial", json={"number": "2025550177"})
    assert resp.status == 200, await resp.text()
    # Her phone rings and rings: the desk's Originate gives up after its ring time.
    for _ in range(120):
        await _pbx(service, sim, 0.5)
        if ws.of("dial_failed"):
            break
    failed = await ws.next("dial_failed")
    assert failed["reason"] == "your phone was not answered: nothing was dialled"
    assert not ws.of("connected")
    # The next dial is hers to place again (nothing is left pending from this one).
    again = await ana.post("/api/v1/desk/dial", json={"number": "2025550177"})
    assert again.status == 200, await again.text()


async def test_an_attention_with_no_number_says_so_when_called(
    service: RunningService, at_desk: Callable[..., Any]
) -> None:
    ana_id = await _operator_id(service, "ana")
    async with service.runtime.db.sessions.begin() as s:
        silent = Attention(
            kind=AttentionKind.TELEMARKETING,
            direction=Direction.INBOUND,
            status=AttentionStatus.CLOSED,
            operator_id=ana_id,
            subject="Walk-in",
        )
        s.add(silent)
        await s.flush()
        silent_id = int(silent.id)
    ana, _ = await at_desk("ana")
    resp = await ana.post("/api/v1/desk/dial", json={"attention_id": silent_id})
    problem = await resp.json()
    assert resp.status == 400 and problem["field"] == "attention_id"
    assert problem["error"] == f"attention {silent_id} has no number to call"
    gone = await ana.post("/api/v1/desk/dial", json={"attention_id": 99999})
    assert gone.status == 404


async def test_the_wallboard_shows_a_desk_call_as_an_outbound_call_and_wrap_up_only_after_it(
    migrated_database: str,
    service: RunningService,
    sim: PbxSimulator,
    at_desk: Callable[..., Any],
    customers: dict[str, int],
    users: dict[str, str],
    client_factory: Callable[..., Any],
) -> None:
    sofia = await client_factory()
    assert (await sofia.login("sofia", users["sofia"])).status == 200

    async def tile() -> dict[str, Any]:
        board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
        found: dict[str, Any] = next(a for a in board["agents"] if a["interface"] == "PJSIP/agent1")
        return found

    ana, ws = await at_desk("ana")
    resp = await ana.post("/api/v1/desk/dial", json={"customer_id": customers["acme"]})
    assert resp.status == 200, await resp.text()
    for _ in range(40):
        await _pbx(service, sim)
        if sim.answer("PJSIP/agent1"):
            break
    for _ in range(20):  # the customer answers after 2 s
        await _pbx(service, sim)
        if ws.of("connected"):
            break
    await ws.next("connected")
    # The desk pauses ana's member at once, for the wrap-up to come: she is on a call all the same.
    await until(lambda: service.runtime.ami.state("pbx1").agents["PJSIP/agent1"].paused)
    on_call = await tile()
    assert on_call["state"] == "in_call" and on_call["call"]["kind"] == "outbound"
    # They talk a while (cti stamps a dialled call's answer and end when it reads them).
    await asyncio.sleep(1.1)

    hung_up = service.runtime.clock.now()
    assert (await ana.post("/api/v1/desk/hangup")).status == 200
    await _pbx(service, sim)
    await ws.next("call_ended")
    wrapping = await tile()
    assert wrapping["state"] == "wrap_up" and wrapping["call"] is None
    assert wrapping["since_ms"] >= int(hung_up.timestamp() * 1000)

    # The call she dialled is one she took and talked on, in no queue's figures; an instance
    # started now (as after a restart) reads the same from the call log.
    talked = wrapping["talk_seconds"]
    assert wrapping["calls_taken"] == 1 and talked > 0, wrapping
    board = await (await sofia.get("/api/v1/supervisor/wallboard")).json()
    assert all(q["name"] for q in board["queues"]) and board["totals"]["answered"] == 0
    base = service_settings(ami_port=sim.port, remote_answer=True)
    async with running_service(base, database_url=migrated_database, migrate=False) as again:
        await until(lambda: again.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        other = Client(
            http=aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)), base=again.url
        )
        try:
            assert (await other.login("sofia", users["sofia"])).status == 200
            seen = await (await other.get("/api/v1/supervisor/wallboard")).json()
        finally:
            await other.http.close()
    seeded = next(a for a in seen["agents"] if a["interface"] == "PJSIP/agent1")
    assert (seeded["calls_taken"], seeded["talk_seconds"]) == (1, talked)
    assert all(q["name"] for q in seen["queues"]) and seen["totals"]["answered"] == 0
