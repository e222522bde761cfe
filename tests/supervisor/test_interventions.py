"""Interventions: listen/whisper/barge, pause/resume an agent, reassign attentions; all audited."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cti.app import RunningService
from cti.db.engine import Database
from cti.db.models import Attention, AuditEvent, Operator
from cti.domain.model import AttentionKind, AttentionStatus, Direction
from cti.sim import PbxSimulator

from .conftest import Client, agent_of, open_wallboard, until

AGENT = "Local/101@sim-agent/n"


async def audit_lines(db: Database, action_prefix: str) -> list[AuditEvent]:
    async with db.sessions() as s:
        rows = await s.execute(
            sa.select(AuditEvent)
            .where(AuditEvent.action.startswith(action_prefix))
            .order_by(AuditEvent.id)
        )
        return list(rows.scalars())


async def test_pause_and_resume_an_agent_show_on_the_wallboard_and_are_audited(
    service: RunningService, sim: PbxSimulator, supervisor: Client
) -> None:
    sim.add_simulated_agent("support", AGENT, "Agent 101")
    wb = await open_wallboard(supervisor)
    await wb.next(lambda f: (a := agent_of(f, AGENT)) is not None and a["state"] == "ready")

    resp = await supervisor.post(
        "/api/v1/supervisor/pause", json={"interface": AGENT, "reason": "nap"}
    )
    assert resp.status == 400 and (await resp.json())["field"] == "reason"
    resp = await supervisor.post(
        "/api/v1/supervisor/pause", json={"interface": AGENT, "reason": "coaching"}
    )
    assert resp.status == 200, await resp.text()
    paused = await wb.next(lambda f: agent_of(f, AGENT)["state"] == "paused")  # type: ignore[index]
    assert agent_of(paused, AGENT)["reason"] == "coaching"  # type: ignore[index]
    assert sim.pbx.queues["support"].members[AGENT].paused

    # A caller now waits: the paused agent is not rung.
    sim.inbound_call("support", "+15550001", "C1", talk_seconds=30)
    await sim.advance(1)
    await wb.next(lambda f: f["totals"]["waiting"] == 1)

    resp = await supervisor.post("/api/v1/supervisor/resume", json={"interface": AGENT})
    assert resp.status == 200, await resp.text()
    await sim.advance(1)
    busy = await wb.next(lambda f: agent_of(f, AGENT)["state"] == "in_call")  # type: ignore[index]
    assert busy["totals"]["waiting"] == 0

    resp = await supervisor.post("/api/v1/supervisor/resume", json={"interface": "PJSIP/nobody"})
    assert resp.status == 404 and (await resp.json())["field"] == "interface"

    lines = await audit_lines(service.runtime.db, "supervisor.")
    assert [(a.actor, a.action, a.subject) for a in lines] == [
        ("vera", "supervisor.pause", f"agent:{AGENT}"),
        ("vera", "supervisor.resume", f"agent:{AGENT}"),
    ]
    assert lines[0].details == {"pbx": "pbx1", "reason": "coaching"}
    await wb.close()


async def test_listen_whisper_barge_ring_the_supervisors_phone_into_chanspy_on_the_agent(
    service: RunningService, sim: PbxSimulator, supervisor: Client
) -> None:
    sim.add_simulated_agent("support", AGENT, "Agent 101")
    await sim.advance(0.5)
    await service.runtime.ami.flush("pbx1")
    resp = await supervisor.post(
        "/api/v1/supervisor/spy", json={"interface": AGENT, "mode": "listen"}
    )
    assert resp.status == 409  # no call yet: nothing to listen to

    sim.inbound_call("support", "+15550001", "C1", talk_seconds=60)
    await sim.advance(1)
    await service.runtime.ami.flush("pbx1")
    seen: set[int] = set()
    for mode in ("listen", "whisper", "barge"):
        resp = await supervisor.post(
            "/api/v1/supervisor/spy", json={"interface": AGENT, "mode": mode}
        )
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert body["target"] == "Local/101@sim-agent-"

        # On the PBX: the supervisor's own phone is originated into the spy context.
        def spy_leg() -> Any:
            for ch in sim.pbx.channels.values():
                origin = ch.owner
                if (
                    ch.name.startswith("Local/900@sim-agent-")
                    and getattr(origin, "context", None)
                    and id(origin) not in seen
                ):
                    return origin
            return None

        origin = await until(spy_leg, what="the supervisor's phone to be originated")
        seen.add(id(origin))
        assert (origin.context, origin.exten) == ("cti-spy", mode)
        assert origin.one.variables["CTI_SPY_TARGET"] == "Local/101@sim-agent-"

        asked = [
            line
            for line in await audit_lines(service.runtime.db, "supervisor.")
            if line.action == f"supervisor.{mode}"
        ]
        (line,) = asked
        assert (line.actor, line.subject) == ("vera", f"agent:{AGENT}")
        assert line.details["phone"] == "Local/900@sim-agent"
        assert line.details["action_id"] == body["action_id"]

        # The phone answers and ChanSpy starts: that too is written, by the same supervisor.
        async def started(mode: str = mode) -> bool:
            lines = await audit_lines(service.runtime.db, f"supervisor.{mode}.started")
            return any(line.actor == "vera" for line in lines)

        for _ in range(100):
            await sim.advance(0.2)
            await service.runtime.ami.flush("pbx1")
            if await started():
                break
        assert await started(), f"no supervisor.{mode}.started line"


async def _attentions(db: Database, operator_id: int, statuses: list[AttentionStatus]) -> list[int]:
    async with db.sessions.begin() as s:
        made = [
            Attention(
                kind=AttentionKind.TELEMARKETING,
                direction=Direction.INBOUND,
                status=st,
                operator_id=operator_id,
                next_call_at=sa.func.now() if st is AttentionStatus.PLANNED else None,
            )
            for st in statuses
        ]
        s.add_all(made)
        await s.flush()
        return [a.id for a in made]


async def _owner(db: Database, ids: list[int]) -> list[int | None]:
    async with db.sessions() as s:
        rows = await s.execute(
            sa.select(Attention.operator_id).where(Attention.id.in_(ids)).order_by(Attention.id)
        )
        return list(rows.scalars())


async def test_reassign_attentions_between_operators(
    service: RunningService, supervisor: Client
) -> None:
    db = service.runtime.db
    async with db.sessions() as s:
        ids = dict((await s.execute(sa.select(Operator.username, Operator.id))).all())
    ana, bruno = ids["ana"], ids["bruno"]
    pending, planned, closed, other = await _attentions(
        db,
        ana,
        [
            AttentionStatus.PENDING,
            AttentionStatus.PLANNED,
            AttentionStatus.CLOSED,
            AttentionStatus.PENDING,
        ],
    )

    lists = await (await supervisor.get("/api/v1/supervisor/lists")).json()
    by_name = {o["username"]: o for o in lists["operators"]}
    assert by_name["ana"]["open_attentions"] == 3 and by_name["bruno"]["open_attentions"] == 0
    assert lists["pause_reasons"] == ["backoffice", "break", "coaching", "lunch", "training"]

    resp = await supervisor.post(
        "/api/v1/supervisor/attentions/reassign",
        json={"to_operator_id": bruno, "attention_ids": [pending, closed]},
    )
    assert resp.status == 400
    assert (await resp.json())["field"] == "attention_ids"
    assert await _owner(db, [pending, closed]) == [ana, ana]  # nothing moved

    resp = await supervisor.post(
        "/api/v1/supervisor/attentions/reassign",
        json={"to_operator_id": bruno, "attention_ids": [pending, planned]},
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["moved"] == [pending, planned]
    assert await _owner(db, [pending, planned, closed, other]) == [bruno, bruno, ana, ana]

    # Everything still open of Ana's goes to Bruno; the closed one stays hers.
    resp = await supervisor.post(
        "/api/v1/supervisor/attentions/reassign",
        json={"to_operator_id": bruno, "from_operator_id": ana},
    )
    assert (await resp.json())["moved"] == [other]
    resp = await supervisor.post(
        "/api/v1/supervisor/attentions/reassign",
        json={"to_operator_id": 999999, "from_operator_id": ana},
    )
    assert resp.status == 400 and (await resp.json())["field"] == "to_operator_id"

    lines = await audit_lines(db, "attention.reassign")
    assert [(a.actor, a.subject, a.details) for a in lines] == [
        (
            "vera",
            f"attention:{aid}",
            {"from_operator_id": ana, "to_operator_id": bruno},
        )
        for aid in (pending, planned, other)
    ]


INTERVENTIONS: list[tuple[str, dict[str, Any]]] = [
    ("/api/v1/supervisor/spy", {"interface": AGENT, "mode": "listen"}),
    ("/api/v1/supervisor/pause", {"interface": AGENT, "reason": "lunch"}),
    ("/api/v1/supervisor/resume", {"interface": AGENT}),
    ("/api/v1/supervisor/attentions/reassign", {"to_operator_id": 1, "from_operator_id": 2}),
]


async def test_an_operator_is_refused_every_intervention_and_the_reports(
    service: RunningService, sim: PbxSimulator, operator: Client, supervisor: Client
) -> None:
    sim.add_simulated_agent("support", AGENT, "Agent 101")
    for path, body in INTERVENTIONS:
        resp = await operator.post(path, json=body)
        assert resp.status == 403, path
        assert "supervisor" in (await resp.json())["error"]
    for path in (
        "/api/v1/supervisor/lists",
        "/api/v1/reports",
        "/api/v1/reports/productivity",
        "/api/v1/reports/productivity?format=csv",
    ):
        assert (await operator.get(path)).status == 403, path
    assert (await audit_lines(service.runtime.db, "supervisor.")) == []
    assert not sim.pbx.queues["support"].members[AGENT].paused
    # Without the CSRF token even a supervisor is refused.
    supervisor.csrf, token = "", supervisor.csrf
    resp = await supervisor.post("/api/v1/supervisor/pause", json=INTERVENTIONS[1][1])
    assert resp.status == 403 and "CSRF" in (await resp.json())["error"]
    supervisor.csrf = token
