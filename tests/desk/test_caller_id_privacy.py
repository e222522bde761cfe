"""The caller id (number and name as the PBX gives them) is personal data: a desk without the
personal_data permission gets it masked in every frame and every answer, beside the masked match,
and each reading of a pop is audited."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import sqlalchemy as sa

from cti.app import RunningService
from cti.db.models import AuditEvent
from cti.sim import PbxSimulator

from .conftest import Client, DeskSocket

AtDesk = Callable[..., Awaitable[tuple[Client, DeskSocket]]]
NUMBER = "+12025550177"
NAME = "Maria Jones"
CLEAR = (NUMBER, NUMBER[1:], NUMBER[2:], NAME, "Maria", "Jones")


def _leaks(value: object) -> list[str]:
    text = json.dumps(value)
    return [c for c in CLEAR if c in text]


async def _audit_lines(service: RunningService, actor: str) -> list[tuple[str, str, str]]:
    async with service.runtime.db.sessions() as s:
        rows = await s.execute(
            sa.select(AuditEvent.action, AuditEvent.subject, AuditEvent.details)
            .where(AuditEvent.actor == actor, AuditEvent.action.like("personal.%"))
            .order_by(AuditEvent.id)
        )
        return [(a, str(subj), d["purpose"]) for a, subj, d in rows.all()]


async def _call(sim: PbxSimulator, client: Client, ws: DeskSocket) -> str:
    sim.inbound_call("sales", NUMBER, NAME, talk_seconds=5)
    await sim.advance(0.2)
    pop = (await ws.next("pop"))["pop"]
    assert (await client.post("/api/v1/desk/answer")).status == 200
    await ws.next("connected")
    await ws.next("attention")
    return str(pop["id"])


async def test_the_caller_id_is_masked_everywhere_without_personal_data(
    service: RunningService, sim: PbxSimulator, at_desk: AtDesk
) -> None:
    bruno, ws = await at_desk("bruno")  # telesales, no personal_data
    pop_id = await _call(sim, bruno, ws)
    pop = ws.of("pop")[-1]["pop"]
    assert pop["masked"] is True
    assert pop["caller_num"] == "+12025****77"
    assert pop["caller_name"] == "Ma*** Jo***"
    assert pop["phone"] == "+12025****77"
    connected = ws.of("connected")[-1]
    assert connected["call"]["caller_num"] == "+12025****77"
    attention = ws.of("attention")[-1]["attention"]
    assert attention["call"]["caller"] == "+12025****77"
    desk = await (await bruno.get("/api/v1/desk")).json()
    assert desk["desk"]["pop"]["caller_num"] == "+12025****77" and desk["desk"]["pop"]["masked"]
    assert desk["desk"]["call"]["caller_name"] == "Ma*** Jo***"
    again = await (await bruno.get(f"/api/v1/desk/pops/{pop_id}")).json()
    assert again["pop"]["caller_name"] == "Ma*** Jo***"
    detail = await (await bruno.get(f"/api/v1/desk/attentions/{attention['id']}")).json()
    assert detail["call"]["caller_name"] == "Ma*** Jo***"

    await sim.advance(5.5)  # the caller hangs up: the footer names the last call
    ended = await ws.next("call_ended")
    assert ended["footer"]["last_call"]["caller"] == "Ma*** Jo***"
    assert ended["footer"]["last_call"]["number"] == "+12025****77"
    await ws.send({"type": "resync"})
    await ws.next("snapshot", after=len(ws.messages))
    assert _leaks(ws.messages) == []
    assert _leaks(desk) == [] and _leaks(again) == [] and _leaks(detail) == []

    # The pop's reading (pushed, then read back twice) is audited each time.
    for _ in range(300):
        lines = await _audit_lines(service, "bruno")
        if sum(1 for _, subj, _ in lines if subj.startswith("call:")) >= 3:
            break
        await asyncio.sleep(0.01)
    calls = [line for line in lines if line[1].startswith("call:")]
    assert [(a, p) for a, _, p in calls] == [("personal.masked", "screen-pop")] * 3


async def test_a_desk_with_personal_data_sees_the_caller_id(
    service: RunningService, sim: PbxSimulator, at_desk: AtDesk, users: dict[str, str]
) -> None:
    from cti.db.users import add_user

    await add_user(
        service.runtime.db,
        username="vera",
        password="vera-secret-1",
        role="operator",
        routines=["telesales"],
        extension="PJSIP/agent3",
        full_name="Vera Lopes",
        personal_data=True,
    )
    vera, ws = await at_desk("vera", password="vera-secret-1")
    await _call(sim, vera, ws)
    pop = ws.of("pop")[-1]["pop"]
    assert pop["masked"] is False
    assert (pop["caller_num"], pop["caller_name"]) == (NUMBER, NAME)
    assert ws.of("attention")[-1]["attention"]["call"]["caller_name"] == NAME
    # A caller who withholds their number: nothing to look up, yet she still may see what
    # the PBX gives (the caller id name), unmasked.
    await sim.advance(6.0)
    await ws.next("call_ended")
    attention = ws.of("attention")[-1]["attention"]
    saved = await vera.patch(
        f"/api/v1/desk/attentions/{attention['id']}", json={"status": "closed"}
    )
    assert saved.status == 200
    seen = len(ws.messages)
    sim.inbound_call("sales", "anonymous", NAME, talk_seconds=5)
    await sim.advance(0.2)
    withheld = (await ws.next("pop", after=seen))["pop"]
    assert withheld["masked"] is False and withheld["caller_name"] == NAME


async def test_a_permission_taken_away_or_given_reaches_the_open_desk_at_once(
    service: RunningService,
    sim: PbxSimulator,
    at_desk: AtDesk,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    ana, ws = await at_desk("ana")  # telemarketing, personal_data
    sim.inbound_call("support", NUMBER, NAME, talk_seconds=60)
    await sim.advance(0.2)
    assert (await ws.next("pop"))["pop"]["caller_name"] == NAME
    assert (await ana.post("/api/v1/desk/answer")).status == 200
    await ws.next("attention")
    root = await client_factory()
    assert (await root.login("root", users["root"])).status == 200

    # An admin takes the permission away mid-call: her open desk is masked, with no new pop.
    seen = len(ws.messages)
    resp = await root.patch(f"/api/v1/users/{ana.user['id']}", json={"personal_data": False})
    assert resp.status == 200, await resp.text()
    snapshot = await ws.next("snapshot", after=seen)
    assert snapshot["desk"]["pop"]["masked"] is True
    assert _leaks(snapshot) == []
    await ws.send({"type": "resync"})
    await ws.next("snapshot", after=len(ws.messages))
    assert _leaks(ws.messages[seen:]) == []

    # Given back, the same desk shows the caller again.
    seen = len(ws.messages)
    resp = await root.patch(f"/api/v1/users/{ana.user['id']}", json={"personal_data": True})
    assert resp.status == 200, await resp.text()
    snapshot = await ws.next("snapshot", after=seen)
    assert snapshot["desk"]["pop"]["caller_name"] == NAME


async def test_a_masked_caller_name_is_never_registered_as_the_callers_name(
    service: RunningService, sim: PbxSimulator, at_desk: AtDesk
) -> None:
    # The desk's "unknown number" form offered the pop's name as the new suspect's: masked, it
    # was stored as "Ma*** Jo***".
    bruno, ws = await at_desk("bruno")  # telesales, no personal_data
    sim.inbound_call("sales", NUMBER, NAME, talk_seconds=None)
    await sim.advance(0.2)
    pop = (await ws.next("pop"))["pop"]
    assert pop["masked"] and pop["known"] is False and pop["caller_name"] == "Ma*** Jo***"
    resp = await bruno.post(
        "/api/v1/desk/register", json={"kind": "suspect", "name": pop["caller_name"]}
    )
    assert resp.status == 400, await resp.text()
    problem = await resp.json()
    assert problem["field"] == "name" and "masked" in problem["error"], problem
    async with service.runtime.db.engine.connect() as conn:
        assert await conn.scalar(sa.text("SELECT count(*) FROM suspects")) == 0
    # The name the caller gives, typed, is taken.
    resp = await bruno.post("/api/v1/desk/register", json={"kind": "suspect", "name": "Maria Lee"})
    assert resp.status == 200, await resp.text()
