"""Reports against seeded rows: each figure checked by hand; CSV export audited; date filters."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from cti.app import RunningService
from cti.db.models import (
    AgentPause,
    Attempt,
    Attention,
    AuditEvent,
    Call,
    Campaign,
    ClosingReason,
    Customer,
    Lead,
    Operator,
    PaymentPromise,
)
from cti.db.reports import run_report
from cti.domain.model import (
    AttentionKind,
    AttentionStatus,
    CallOutcome,
    CampaignKind,
    CampaignMode,
    Direction,
    LeadStatus,
)
from cti.domain.reporting import Period

from .conftest import Client


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


async def seed(service: RunningService) -> dict[str, Any]:
    """One day D (ten days ago) of work by Ana and Bruno, and one attention before it."""
    db = service.runtime.db
    d = (service.runtime.clock.now() - timedelta(days=10)).date()
    async with db.sessions.begin() as s:
        ops = dict((await s.execute(sa.select(Operator.username, Operator.id))).all())
        ana, bruno = ops["ana"], ops["bruno"]
        acme = Customer(code="C1", name="Acme", region="US")
        beta = Customer(code="C2", name="Beta", region="BR")
        gamma = Customer(code="C3", name="Gamma")
        solved, wrong = ClosingReason(name="Solved"), ClosingReason(name="Wrong number")
        s.add_all([acme, beta, gamma, solved, wrong])
        await s.flush()

        def attention(op: int, cust: Customer, status: AttentionStatus, **kw: Any) -> Attention:
            created = kw.pop("created", at(d, 10))
            closed = (
                created if status in (AttentionStatus.CLOSED, AttentionStatus.CANCELLED) else None
            )
            return Attention(
                kind=AttentionKind.TELEMARKETING,
                direction=Direction.INBOUND,
                status=status,
                operator_id=op,
                customer_id=cust.id,
                created_at=created,
                closed_at=closed,
                **kw,
            )

        closed_1 = attention(ana, acme, AttentionStatus.CLOSED, closing_reason_id=solved.id)
        s.add_all(
            [
                closed_1,
                attention(ana, acme, AttentionStatus.CLOSED, closing_reason_id=solved.id),
                attention(ana, beta, AttentionStatus.CLOSED, closing_reason_id=wrong.id),
                attention(ana, acme, AttentionStatus.PENDING),
                attention(
                    ana, beta, AttentionStatus.PLANNED, next_call_at=at(d + timedelta(1), 10)
                ),
                attention(bruno, gamma, AttentionStatus.PENDING),
                attention(bruno, beta, AttentionStatus.CANCELLED),
                # Before the period: counted nowhere.
                attention(
                    ana,
                    acme,
                    AttentionStatus.CLOSED,
                    closing_reason_id=solved.id,
                    created=at(d - timedelta(5), 10),
                ),
            ]
        )
        await s.flush()

        def call(
            n: int, queue: str, outcome: CallOutcome, op: int | None, talk: int | None
        ) -> Call:
            ring = at(d, 11, n)
            return Call(
                pbx="pbx1",
                uniqueid=f"u{n}",
                queue=queue,
                operator_id=op,
                direction=Direction.INBOUND,
                ring_at=ring,
                answered_at=ring + timedelta(seconds=5) if talk is not None else None,
                ended_at=ring + timedelta(seconds=5 + (talk or 0)),
                outcome=outcome,
                attention_id=closed_1.id if n == 1 else None,
            )

        s.add_all(
            [
                call(1, "support", CallOutcome.ANSWERED, ana, 60),
                call(2, "support", CallOutcome.ANSWERED, ana, 120),
                call(3, "support", CallOutcome.ABANDONED, None, None),
                call(4, "sales", CallOutcome.ANSWERED, bruno, 30),
                call(5, "sales", CallOutcome.NO_ANSWER, None, None),
            ]
        )
        winter = Campaign(
            name="Winter",
            kind=CampaignKind.TELESALES,
            mode=CampaignMode.PREDICTIVE,
            queue="sales",
            abandon_cap=Decimal("0.03"),
        )
        s.add(winter)
        await s.flush()
        leads = [
            Lead(campaign_id=winter.id, phone=f"+1555100{i}", status=st)
            for i, st in enumerate(
                [LeadStatus.NEW] * 3 + [LeadStatus.DONE, LeadStatus.RETRY], start=1
            )
        ]
        s.add_all(leads)
        await s.flush()
        for i, (answered, outcome) in enumerate(
            [
                (True, CallOutcome.ANSWERED),
                (True, CallOutcome.ANSWERED),
                (True, CallOutcome.ABANDONED),
                (False, CallOutcome.NO_ANSWER),
            ]
        ):
            start = at(d, 12, i)
            s.add(
                Attempt(
                    lead_id=leads[i].id,
                    campaign_id=winter.id,
                    action_id=f"orig-{i}",
                    started_at=start,
                    answered_at=start + timedelta(seconds=8) if answered else None,
                    connected_at=start + timedelta(seconds=9)
                    if outcome is CallOutcome.ANSWERED
                    else None,
                    ended_at=start + timedelta(seconds=60),
                    outcome=outcome,
                )
            )
        # Pauses at the desk: ana's lunch on D, her break from the evening before into D (its
        # 10 minutes on D count), bruno's break from 23:00 on D still going on (its hour on D).
        s.add_all(
            [
                AgentPause(
                    operator_id=ana, reason="lunch", started_at=at(d, 13), ended_at=at(d, 13, 20)
                ),
                AgentPause(
                    operator_id=ana,
                    reason="break",
                    started_at=at(d, 0) - timedelta(minutes=10),
                    ended_at=at(d, 0, 10),
                ),
                AgentPause(operator_id=bruno, reason="break", started_at=at(d, 23)),
            ]
        )
        s.add(
            PaymentPromise(
                customer_id=acme.id,
                promised_on=d + timedelta(days=1),
                amount=Decimal("120.50"),
                created_by=ana,
                created_at=at(d, 15),
            )
        )
    return {"d": d, "ana": ana, "bruno": bruno}


async def report(client: Client, name: str, d: date, **extra: str) -> dict[str, Any]:
    params = "&".join(f"{k}={v}" for k, v in {"from": d, "to": d, **extra}.items())
    resp = await client.get(f"/api/v1/reports/{name}?{params}")
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


def by(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in rows}


async def test_reports_count_the_seeded_rows(service: RunningService, supervisor: Client) -> None:
    s = await seed(service)
    d = s["d"]

    prod = by((await report(supervisor, "productivity", d))["rows"], "operator")
    ana, bruno = prod["Ana Lima"], prod["Bruno Dias"]
    assert (ana["calls"], ana["talk_seconds"], ana["avg_talk_seconds"]) == (2, 180, 90.0)
    assert (ana["closed"], ana["pending"], ana["planned"], ana["cancelled"]) == (3, 1, 1, 0)
    assert ana["attentions"] == 5
    assert (bruno["calls"], bruno["talk_seconds"]) == (1, 30)
    assert (bruno["pending"], bruno["cancelled"], bruno["attentions"]) == (1, 1, 2)
    assert (ana["paused_seconds"], bruno["paused_seconds"]) == (1800, 3600)

    paused = {
        (r["operator"], r["reason"]): (r["pauses"], r["paused_seconds"], r["longest_seconds"])
        for r in (await report(supervisor, "pauses", d))["rows"]
    }
    assert paused == {
        ("Ana Lima", "lunch"): (1, 1200, 1200),
        ("Ana Lima", "break"): (1, 600, 600),
        ("Bruno Dias", "break"): (1, 3600, 3600),
    }

    disp = await report(supervisor, "dispositions", d)
    counts = {(r["status"], r["closing_reason"]): r["attentions"] for r in disp["rows"]}
    assert counts == {
        ("closed", "Solved"): 2,
        ("closed", "Wrong number"): 1,
        ("cancelled", "(no reason)"): 1,
        ("pending", ""): 2,
        ("planned", ""): 1,
    }
    assert disp["chart"]["labels"][0] == "Solved"

    freq = await report(supervisor, "contact-frequency", d)
    assert {r["customer"]: r["contacts"] for r in freq["rows"]} == {
        "Acme": 3,
        "Beta": 3,
        "Gamma": 1,
    }
    assert dict(zip(freq["chart"]["labels"], freq["chart"]["series"][0]["data"], strict=True)) == {
        "1": 1,
        "2": 0,
        "3": 2,
        "4–5": 0,
        "6+": 0,
    }

    crit = (await report(supervisor, "critical", d))["rows"]
    problems = sorted(r["problem"] for r in crit)
    assert problems == [
        "overdue next call",
        "pending over 3 days",
        "pending over 3 days",
        "promise to pay $120.50 overdue",
    ]
    # Pending for less than 11 days is not critical with pending_days=11 (D was 10 days ago).
    crit_11 = (await report(supervisor, "critical", d, pending_days="11"))["rows"]
    assert sorted(r["problem"] for r in crit_11) == [
        "overdue next call",
        "promise to pay $120.50 overdue",
    ]

    queues = by((await report(supervisor, "queues", d))["rows"], "queue")
    assert {
        k: queues["support"][k] for k in ("calls", "answered", "abandoned", "not_answered")
    } == {
        "calls": 3,
        "answered": 2,
        "abandoned": 1,
        "not_answered": 0,
    }
    assert queues["support"]["avg_talk_seconds"] == 90.0
    assert queues["support"]["answer_rate"] == round(2 / 3, 4)
    assert (queues["sales"]["answered"], queues["sales"]["not_answered"]) == (1, 1)

    camp = by((await report(supervisor, "campaigns", d))["rows"], "campaign")["Winter"]
    assert (camp["attempts"], camp["answered"], camp["connected"], camp["abandoned"]) == (
        4,
        3,
        2,
        1,
    )
    assert camp["answer_rate"] == 0.75 and camp["abandon_rate"] == round(1 / 3, 4)
    assert (camp["abandon_cap"], camp["leads"], camp["leads_left"]) == (0.03, 5, 4)

    areas = by((await report(supervisor, "areas", d))["rows"], "region")
    assert {k: (v["attentions"], v["closed"], v["open"]) for k, v in areas.items()} == {
        "US": (3, 2, 1),
        "BR": (3, 1, 1),
        "(unknown)": (1, 0, 1),
    }
    assert areas["US"]["calls"] == 1

    # The day before D has none of it but the first ten minutes of ana's break.
    before = await report(supervisor, "productivity", d - timedelta(days=1))
    assert [
        (r["operator"], r["calls"], r["attentions"], r["paused_seconds"]) for r in before["rows"]
    ] == [("Ana Lima", 0, 0, 600)]


async def paused_figures(
    service: RunningService, day: date, now: datetime
) -> tuple[dict[tuple[str, str], tuple[int, int, int]], dict[str, int]]:
    """The pauses report of ``day`` at the instant ``now``: (operator, reason) -> pauses, seconds
    paused, the longest; and the productivity report's seconds paused per operator."""
    period = Period.of(day, day)
    pauses = await run_report(service.runtime.db, "pauses", period, now)
    prod = await run_report(service.runtime.db, "productivity", period, now)
    return (
        {
            (r["operator"], r["reason"]): (r["pauses"], r["paused_seconds"], r["longest_seconds"])
            for r in pauses.rows
        },
        {r["operator"]: r["paused_seconds"] for r in prod.rows},
    )


async def test_a_day_counts_only_its_part_of_each_pause(
    service: RunningService, users: dict[str, str]
) -> None:
    """A pause counts in a day for the part of it within the day: not one that ended the instant
    the day began, nor one that began the instant it ended; one still going on counts until now,
    and not at all in a day that has not begun by now."""
    d = (service.runtime.clock.now() - timedelta(days=5)).date()
    day_before, day_after = d - timedelta(days=1), d + timedelta(days=1)
    async with service.runtime.db.sessions.begin() as s:
        ops = dict((await s.execute(sa.select(Operator.username, Operator.id))).all())
        ana, bruno = ops["ana"], ops["bruno"]
        s.add_all(
            [
                # Ana's the evening before D: a meeting, then coaching until D began.
                AgentPause(
                    operator_id=ana,
                    reason="meeting",
                    started_at=at(day_before, 20),
                    ended_at=at(day_before, 21),
                ),
                AgentPause(
                    operator_id=ana,
                    reason="coaching",
                    started_at=at(day_before, 23, 30),
                    ended_at=at(d, 0),
                ),
                # Bruno's break from 23:45 the evening before to 00:15 on D; another from 20:00.
                AgentPause(
                    operator_id=bruno,
                    reason="break",
                    started_at=at(day_before, 23, 45),
                    ended_at=at(d, 0, 15),
                ),
                AgentPause(operator_id=bruno, reason="break", started_at=at(d, 20)),
            ]
        )

    # At 21:00 on D, bruno's second break has lasted an hour.
    now = at(d, 21)
    assert await paused_figures(service, day_before, now) == (
        {
            ("Ana Lima", "meeting"): (1, 3600, 3600),
            ("Ana Lima", "coaching"): (1, 1800, 1800),
            ("Bruno Dias", "break"): (1, 900, 900),
        },
        {"Ana Lima": 5400, "Bruno Dias": 900},
    )
    assert await paused_figures(service, d, now) == (
        {("Bruno Dias", "break"): (2, 900 + 3600, 3600)},
        {"Bruno Dias": 4500},
    )
    # The next day has not begun (nor at its very first instant): nothing paused in it yet.
    assert await paused_figures(service, day_after, now) == ({}, {})
    assert await paused_figures(service, day_after, at(day_after, 0)) == ({}, {})
    second = at(day_after, 0) + timedelta(seconds=1)
    assert await paused_figures(service, day_after, second) == (
        {("Bruno Dias", "break"): (1, 1, 1)},
        {"Bruno Dias": 1},
    )

    # Ana's break from the instant D ended (00:00 the day after) for half an hour.
    async with service.runtime.db.sessions.begin() as s:
        s.add(
            AgentPause(
                operator_id=ana,
                reason="break",
                started_at=at(day_after, 0),
                ended_at=at(day_after, 0, 30),
            )
        )
    # At noon the day after, bruno's break goes on: the rest of D, and the day after until now.
    now = at(day_after, 12)
    assert await paused_figures(service, d, now) == (
        {("Bruno Dias", "break"): (2, 900 + 4 * 3600, 4 * 3600)},
        {"Bruno Dias": 900 + 4 * 3600},
    )
    assert await paused_figures(service, day_after, now) == (
        {("Ana Lima", "break"): (1, 1800, 1800), ("Bruno Dias", "break"): (1, 43200, 43200)},
        {"Ana Lima": 1800, "Bruno Dias": 43200},
    )


async def test_csv_export_is_audited_and_filters_are_checked(
    service: RunningService, supervisor: Client
) -> None:
    s = await seed(service)
    d = s["d"]
    resp = await supervisor.get(f"/api/v1/reports/queues?from={d}&to={d}&format=csv")
    assert resp.status == 200
    assert resp.content_type == "text/csv"
    assert f'filename="cti-queues-{d}-{d}.csv"' in resp.headers["Content-Disposition"]
    raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads it as UTF-8
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert lines[0][:4] == ["Queue", "Calls", "Answered", "Abandoned"]
    assert [line[:4] for line in lines[1:]] == [
        ["sales", "2", "1", "0"],
        ["support", "3", "2", "1"],
    ]
    async with service.runtime.db.sessions() as session:
        audits = list(
            (
                await session.execute(
                    sa.select(AuditEvent).where(AuditEvent.action == "report.export")
                )
            ).scalars()
        )
    assert [(a.actor, a.subject) for a in audits] == [("vera", "report:queues")]
    assert audits[0].details == {"from": str(d), "to": str(d), "tz": "UTC", "rows": 2}

    for query, field in (
        (f"from={d}&to={d - timedelta(days=1)}", "to"),
        ("from=yesterday", "from"),
        ("tz=Mars/Olympus", "tz"),
        ("pending_days=0", "pending_days"),
        ("format=xml", "format"),
    ):
        resp = await supervisor.get(f"/api/v1/reports/critical?{query}")
        assert resp.status == 400, query
        assert (await resp.json())["field"] == field
    assert (await supervisor.get("/api/v1/reports/nope")).status == 404
    listed = await (await supervisor.get("/api/v1/reports")).json()
    assert listed["reports"] == [
        "productivity",
        "dispositions",
        "contact-frequency",
        "critical",
        "queues",
        "campaigns",
        "areas",
        "pauses",
    ]
