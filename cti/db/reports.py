"""Supervisor reports over the call log, attentions, campaigns and customers; reassignment.

Every report takes a :class:`Period` (``[start, end)`` instants, built from two calendar dates in a
time zone) and returns a :class:`Report`: its columns, its rows and what its chart plots. The web
layer turns a report into JSON or CSV; nothing here knows about HTTP.

Reports (``REPORTS`` by name):

``productivity``       per operator: calls, talk, wrap-up and paused time, attentions by status
``dispositions``       attentions closed in the period by closing reason, and by status
``contact-frequency``  how often each customer (or number) was contacted
``critical``           overdue next calls, long-pending attentions, overdue promises to pay
``queues``             calls per queue: answered, abandoned, not answered, talk time
``campaigns``          dial attempts per campaign: answer and abandon rates, leads left
``areas``              attentions and calls per region of the customer
``pauses``             per operator and reason: pauses at a desk, time paused, the longest
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.audit import audit_row
from cti.db.desk.lists import pause_reason_exists
from cti.db.engine import Database
from cti.db.models import (
    AgentPause,
    Attempt,
    Attention,
    Call,
    Campaign,
    ClosingReason,
    Customer,
    Lead,
    Operator,
    PauseReason,
    PaymentPromise,
    Wrapup,
)
from cti.domain.accounts import check_active_user
from cti.domain.attentions import OPEN_STATUSES, check_movable, check_reassignment
from cti.domain.backoffice import PersonalKind
from cti.domain.model import AttentionStatus, CallOutcome, LeadStatus, PromiseStatus
from cti.domain.no_answer import MISSED_REASON
from cti.domain.reporting import MAX_DAYS, Period, check_report
from cti.errors import UserInputError
from cti.i18n import _

# The supervisor's pause form asks the same as the desk's.
pause_reason_active = pause_reason_exists
STATUSES = tuple(s.value for s in AttentionStatus)
# Column labels: how many attentions an operator has in each status.
STATUS_LABELS = {
    "pending": _("Pending|attentions"),
    "planned": _("Planned|attentions"),
    "closed": _("Closed|attentions"),
    "cancelled": _("Cancelled|attentions"),
}
# The colour each status's series is drawn in (the page's TONES): done in green, to do in amber.
STATUS_TONES = {"pending": "warn", "planned": "info", "closed": "good", "cancelled": "muted"}
# The critical report's problems (``problem_kind``: overdue, pending, promise).
PROBLEMS = {
    "overdue": _("overdue next call"),
    "pending": _("pending over {days} days"),
    "promise": _("promise to pay {amount} overdue"),
}
# "customer" is the customer's name, else the number of the attention (a caller id's text).
WHO: Mapping[str, PersonalKind] = {"customer": PersonalKind.CALLER_ID}
LEADS_LEFT = (LeadStatus.NEW, LeadStatus.RETRY, LeadStatus.CALLBACK)
FREQUENCY_BUCKETS = (("1", 1, 1), ("2", 2, 2), ("3", 3, 3), ("4–5", 4, 5), ("6+", 6, 10**9))


@dataclass(slots=True)
class Report:
    """A report: its columns (key, label), rows, and what its chart shows."""

    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    # {"type": "bar"|"doughnut"|..., "labels": [...], "series": [{"label": .., "data": [...]}]};
    # a series may carry a ``tone`` (good, bad, warn, info, muted: the report page's TONES), the
    # colour it is drawn in: what was answered or closed in green, abandoned in red...; and
    # ``named``: its label is a name someone gave (a pause reason), shown as given, not translated.
    chart: dict[str, Any] = field(default_factory=dict)
    # The personal columns of its rows (masked for a viewer without personal_data).
    personal: Mapping[str, PersonalKind] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": [{"key": k, "label": label} for k, label in self.columns],
            "rows": self.rows,
            "chart": self.chart,
        }


def _seconds(expr: Any) -> Any:
    return sa.func.extract("epoch", expr)


def _name(op: Any) -> Any:
    return sa.func.coalesce(op.full_name, op.username)


def _in(col: Any, p: Period) -> Any:
    return sa.and_(col >= p.start, col < p.end)


def _num(value: float | Decimal | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


# --- the reports -----------------------------------------------------------------------------


async def productivity(s: AsyncSession, p: Period, now: datetime) -> Report:
    talk = _seconds(Call.ended_at - Call.answered_at)
    calls = (
        sa.select(
            Call.operator_id.label("op"),
            sa.func.count().label("calls"),
            sa.func.coalesce(sa.func.sum(talk), 0).label("talk"),
        )
        .where(
            Call.operator_id.is_not(None),
            Call.answered_at.is_not(None),
            _in(Call.answered_at, p),
        )
        .group_by(Call.operator_id)
    )
    by_op: dict[int, dict[str, Any]] = {}
    for op, n, secs in (await s.execute(calls)).all():
        by_op[op] = {"calls": int(n), "talk_seconds": int(secs or 0)}
    # After-call work, counted by the day it ended (as the wallboard counts it).
    wraps = (
        sa.select(Wrapup.operator_id, sa.func.count(), sa.func.sum(Wrapup.seconds))
        .where(Wrapup.operator_id.is_not(None), _in(Wrapup.ended_at, p))
        .group_by(Wrapup.operator_id)
    )
    wrapped: dict[int, tuple[int, int]] = {
        op: (int(n), int(secs or 0))
        for op, n, secs in (await s.execute(wraps)).all()
        if op is not None
    }
    # Paused at the desk (any reason) within the period: the pauses report in one figure.
    seconds, overlaps = _paused(p, now)
    paused_q = (
        sa.select(AgentPause.operator_id, sa.func.sum(seconds))
        .where(overlaps)
        .group_by(AgentPause.operator_id)
    )
    paused: dict[int, int] = {op: int(secs or 0) for op, secs in (await s.execute(paused_q)).all()}
    att = (
        sa.select(Attention.operator_id, Attention.status, sa.func.count())
        .where(Attention.operator_id.is_not(None), _in(Attention.created_at, p))
        .group_by(Attention.operator_id, Attention.status)
    )
    statuses: dict[int, dict[str, int]] = {}
    for op, status, n in (await s.execute(att)).all():
        if op is not None:
            statuses.setdefault(op, {})[str(status)] = int(n)
    ids = sorted(set(by_op) | set(statuses) | set(wrapped) | set(paused))
    names: dict[int, str] = {
        i: n
        for i, n in (
            await s.execute(sa.select(Operator.id, _name(Operator)).where(Operator.id.in_(ids)))
        ).all()
    }
    rows: list[dict[str, Any]] = []
    for op in ids:
        c = by_op.get(op, {"calls": 0, "talk_seconds": 0})
        st = statuses.get(op, {})
        rows.append(
            {
                "operator_id": op,
                "operator": names.get(op, f"#{op}"),
                "calls": c["calls"],
                "talk_seconds": c["talk_seconds"],
                "avg_talk_seconds": _num(c["talk_seconds"] / c["calls"]) if c["calls"] else None,
                "wrapups": wrapped.get(op, (0, 0))[0],
                "wrapup_seconds": wrapped.get(op, (0, 0))[1],
                "paused_seconds": paused.get(op, 0),
                **{s_: st.get(s_, 0) for s_ in STATUSES},
                "attentions": sum(st.values()),
            }
        )
    rows.sort(key=lambda r: (-r["calls"], -r["attentions"], r["operator"]))
    return Report(
        name="productivity",
        title=_("Operator productivity"),
        columns=[
            ("operator", _("Operator")),
            ("calls", _("Calls")),
            ("talk_seconds", _("Talk time (s)")),
            ("avg_talk_seconds", _("Average talk (s)")),
            ("wrapups", _("Wrap-ups")),
            ("wrapup_seconds", _("Wrap-up time (s)")),
            ("paused_seconds", _("Paused time (s)")),
            ("attentions", _("Attentions")),
            *((s_, STATUS_LABELS[s_]) for s_ in STATUSES),
        ],
        rows=rows,
        chart={
            "type": "bar",
            "stacked": True,
            "labels": [r["operator"] for r in rows],
            # Counts of attentions, as the table's columns say them.
            "series": [
                {
                    "label": STATUS_LABELS[s_],
                    "data": [r[s_] for r in rows],
                    "tone": STATUS_TONES[s_],
                }
                for s_ in STATUSES
            ],
        },
    )


async def dispositions(s: AsyncSession, p: Period, now: datetime) -> Report:
    reason = sa.func.coalesce(ClosingReason.name, "(no reason)")
    closed_at = sa.func.coalesce(Attention.closed_at, Attention.updated_at)
    q = (
        sa.select(Attention.status, reason, Attention.kind, sa.func.count())
        .select_from(Attention)
        .join(ClosingReason, ClosingReason.id == Attention.closing_reason_id, isouter=True)
        .where(
            sa.or_(
                sa.and_(
                    Attention.status.in_([AttentionStatus.CLOSED, AttentionStatus.CANCELLED]),
                    _in(closed_at, p),
                ),
                sa.and_(Attention.status.in_(OPEN_STATUSES), _in(Attention.created_at, p)),
            )
        )
        .group_by(Attention.status, reason, Attention.kind)
    )
    rows: list[dict[str, Any]] = [
        {
            "status": str(status),
            "closing_reason": name if str(status) in ("closed", "cancelled") else "",
            "kind": str(kind),
            "attentions": int(n),
        }
        for status, name, kind, n in (await s.execute(q)).all()
    ]
    rows.sort(key=lambda r: (-r["attentions"], r["status"], r["closing_reason"], r["kind"]))
    by_reason: dict[str, int] = {}
    for r in rows:
        if r["closing_reason"]:
            by_reason[r["closing_reason"]] = by_reason.get(r["closing_reason"], 0) + r["attentions"]
    labels = sorted(by_reason, key=lambda k: -by_reason[k])
    return Report(
        name="dispositions",
        title=_("Dispositions and closing reasons"),
        columns=[
            ("status", _("Status")),
            ("closing_reason", _("Closing reason")),
            ("kind", _("Routine")),
            ("attentions", _("Attentions")),
        ],
        rows=rows,
        chart={
            "type": "doughnut",
            "labels": labels,
            "series": [{"label": _("closed"), "data": [by_reason[k] for k in labels]}],
        },
    )


async def contact_frequency(s: AsyncSession, p: Period, now: datetime) -> Report:
    who = sa.func.coalesce(Customer.name, Attention.phone, "(unknown)")
    q = (
        sa.select(
            Attention.customer_id,
            who.label("who"),
            sa.func.count().label("n"),
            sa.func.min(Attention.created_at),
            sa.func.max(Attention.created_at),
        )
        .select_from(Attention)
        .join(Customer, Customer.id == Attention.customer_id, isouter=True)
        .where(_in(Attention.created_at, p))
        .group_by(Attention.customer_id, who)
        .order_by(sa.desc("n"), who)
    )
    rows: list[dict[str, Any]] = [
        {
            "customer_id": cid,
            "customer": name,
            "contacts": int(n),
            "first": first.isoformat(),
            "last": last.isoformat(),
        }
        for cid, name, n, first, last in (await s.execute(q)).all()
    ]
    buckets = [sum(1 for r in rows if lo <= r["contacts"] <= hi) for _, lo, hi in FREQUENCY_BUCKETS]
    return Report(
        name="contact-frequency",
        title=_("Contact frequency"),
        personal=WHO,
        columns=[
            ("customer", _("Customer or number")),
            ("contacts", _("Contacts")),
            ("first", _("First")),
            ("last", _("Last")),
        ],
        rows=rows,
        chart={
            "type": "bar",
            "labels": [b[0] for b in FREQUENCY_BUCKETS],
            "series": [{"label": _("customers contacted this many times"), "data": buckets}],
        },
    )


async def critical(s: AsyncSession, p: Period, now: datetime, *, pending_days: int = 3) -> Report:
    op_name = _name(Operator)
    cust = sa.func.coalesce(Customer.name, Attention.phone, "")
    base = (
        sa.select(
            Attention.id,
            Attention.status,
            Attention.kind,
            op_name,
            cust,
            Attention.next_call_at,
            Attention.created_at,
        )
        .select_from(Attention)
        .join(Operator, Operator.id == Attention.operator_id, isouter=True)
        .join(Customer, Customer.id == Attention.customer_id, isouter=True)
        .where(_in(Attention.created_at, p))
    )
    rows: list[dict[str, Any]] = []
    overdue = base.where(
        Attention.status.in_(OPEN_STATUSES),
        Attention.next_call_at.is_not(None),
        Attention.next_call_at < now,
    ).order_by(Attention.next_call_at)
    for aid, status, kind, op, who, nxt, _created in (await s.execute(overdue)).all():
        rows.append(
            {
                "problem": PROBLEMS["overdue"],
                "problem_kind": "overdue",
                "attention_id": aid,
                "status": str(status),
                "kind": str(kind),
                "operator": op or "",
                "customer": who,
                "due": nxt.isoformat(),
                "overdue_hours": _num((now - nxt).total_seconds() / 3600),
            }
        )
    cutoff = now - timedelta(days=pending_days)
    stale = base.where(
        Attention.status == AttentionStatus.PENDING,
        Attention.next_call_at.is_(None),
        Attention.created_at < cutoff,
    ).order_by(Attention.created_at)
    for aid, status, kind, op, who, _nxt, created in (await s.execute(stale)).all():
        rows.append(
            {
                "problem": PROBLEMS["pending"].format(days=pending_days),
                "problem_kind": "pending",
                "attention_id": aid,
                "status": str(status),
                "kind": str(kind),
                "operator": op or "",
                "customer": who,
                "due": created.isoformat(),
                "overdue_hours": _num((now - created).total_seconds() / 3600),
            }
        )
    promises = (
        sa.select(
            PaymentPromise.id,
            PaymentPromise.attention_id,
            Customer.name,
            PaymentPromise.promised_on,
            PaymentPromise.amount,
            _name(Operator),
        )
        .join(Customer, Customer.id == PaymentPromise.customer_id)
        .join(Operator, Operator.id == PaymentPromise.created_by, isouter=True)
        .where(
            PaymentPromise.status == PromiseStatus.OPEN,
            PaymentPromise.promised_on < now.date(),
            _in(PaymentPromise.created_at, p),
        )
        .order_by(PaymentPromise.promised_on)
    )
    for _pid, aid, who, on, amount, op in (await s.execute(promises)).all():
        due = datetime.combine(on, time(0), tzinfo=p.start.tzinfo)
        rows.append(
            {
                "problem": PROBLEMS["promise"].format(amount=amount),
                "problem_kind": "promise",
                "amount": float(amount),
                "attention_id": aid,
                "status": "open",
                "kind": "collection",
                "operator": op or "",
                "customer": who,
                "due": on.isoformat(),
                "overdue_hours": _num((now - due).total_seconds() / 3600),
            }
        )
    counts: dict[str, int] = {}
    for r in rows:
        key = _("promises to pay") if r["problem_kind"] == "promise" else r["problem"]
        counts[key] = counts.get(key, 0) + 1
    return Report(
        name="critical",
        title=_("Critical states"),
        personal=WHO,
        columns=[
            ("problem", _("Problem")),
            ("attention_id", _("Attention")),
            ("status", _("Status")),
            ("kind", _("Routine")),
            ("operator", _("Operator")),
            ("customer", _("Customer")),
            ("due", _("Due since")),
            ("overdue_hours", _("Overdue (h)")),
            ("amount", _("Amount")),
        ],
        rows=rows,
        chart={
            "type": "bar",
            "labels": list(counts),
            "series": [{"label": _("items"), "data": list(counts.values())}],
        },
    )


def _outcomes(answered: list[int], abandoned: list[int], unanswered: list[int]) -> list[Any]:
    """A chart's series of calls by outcome, each in the colour its outcome has everywhere."""
    return [
        {"label": _("answered|calls"), "data": answered, "tone": "good"},
        {"label": _("abandoned|calls"), "data": abandoned, "tone": "bad"},
        {"label": _("not answered|calls"), "data": unanswered, "tone": "muted"},
    ]


async def queues(s: AsyncSession, p: Period, now: datetime) -> Report:
    queue = sa.func.coalesce(Call.queue, "(no queue)")
    talk = sa.case(
        (Call.answered_at.is_not(None), _seconds(Call.ended_at - Call.answered_at)), else_=None
    )
    q = (
        sa.select(
            queue,
            sa.func.count(),
            sa.func.count().filter(Call.outcome == CallOutcome.ANSWERED),
            sa.func.count().filter(Call.outcome == CallOutcome.ABANDONED),
            sa.func.count().filter(
                Call.outcome.in_([CallOutcome.NO_ANSWER, CallOutcome.BUSY, CallOutcome.FAILED])
            ),
            sa.func.avg(talk),
            sa.func.coalesce(sa.func.sum(talk), 0),
        )
        .where(_in(Call.ring_at, p))
        .group_by(queue)
        .order_by(queue)
    )
    rows: list[dict[str, Any]] = [
        {
            "queue": name,
            "calls": int(n),
            "answered": int(ans),
            "abandoned": int(ab),
            "not_answered": int(na),
            "answer_rate": _rate(int(ans), int(n)),
            "avg_talk_seconds": _num(avg),
            "talk_seconds": int(total or 0),
        }
        for name, n, ans, ab, na, avg, total in (await s.execute(q)).all()
    ]
    return Report(
        name="queues",
        title=_("Results by queue"),
        columns=[
            ("queue", _("Queue")),
            ("calls", _("Calls")),
            ("answered", _("Answered")),
            ("abandoned", _("Abandoned")),
            ("not_answered", _("Not answered|calls")),
            ("answer_rate", _("Answer rate")),
            ("avg_talk_seconds", _("Average talk (s)")),
            ("talk_seconds", _("Talk time (s)")),
        ],
        rows=rows,
        chart={
            "type": "bar",
            "stacked": True,
            "labels": [r["queue"] for r in rows],
            "series": _outcomes(
                [r["answered"] for r in rows],
                [r["abandoned"] for r in rows],
                [r["not_answered"] for r in rows],
            ),
        },
    )


async def _attempt_counts(s: AsyncSession, p: Period) -> dict[int, tuple[int, int, int, int]]:
    """Per campaign: dial attempts started in the period, answered, connected, abandoned."""
    att = (
        sa.select(
            Attempt.campaign_id,
            sa.func.count(),
            sa.func.count().filter(Attempt.answered_at.is_not(None)),
            sa.func.count().filter(Attempt.connected_at.is_not(None)),
            sa.func.count().filter(Attempt.outcome == CallOutcome.ABANDONED),
        )
        .where(_in(Attempt.started_at, p))
        .group_by(Attempt.campaign_id)
    )
    return {
        cid: (int(a), int(b), int(c), int(d)) for cid, a, b, c, d in (await s.execute(att)).all()
    }


async def campaign_attempts(db: Database, p: Period) -> dict[int, tuple[int, int, int, int]]:
    """What the campaigns report counts of attempts, per campaign: the wallboard's day."""
    async with db.sessions() as s:
        return await _attempt_counts(s, p)


async def campaigns(s: AsyncSession, p: Period, now: datetime) -> Report:
    by_campaign = await _attempt_counts(s, p)
    left = dict(
        (
            await s.execute(
                sa.select(Lead.campaign_id, sa.func.count())
                .where(Lead.status.in_(LEADS_LEFT))
                .group_by(Lead.campaign_id)
            )
        ).all()
    )
    leads_total = dict(
        (
            await s.execute(sa.select(Lead.campaign_id, sa.func.count()).group_by(Lead.campaign_id))
        ).all()
    )
    closed = dict(
        (
            await s.execute(
                sa.select(Attention.campaign_id, sa.func.count())
                .where(
                    Attention.campaign_id.is_not(None),
                    Attention.status == AttentionStatus.CLOSED,
                    _in(Attention.created_at, p),
                )
                .group_by(Attention.campaign_id)
            )
        ).all()
    )
    rows: list[dict[str, Any]] = []
    for cid, name, status, mode, cap in (
        await s.execute(
            sa.select(
                Campaign.id, Campaign.name, Campaign.status, Campaign.mode, Campaign.abandon_cap
            ).order_by(Campaign.name)
        )
    ).all():
        attempts, answered, connected, abandoned = by_campaign.get(cid, (0, 0, 0, 0))
        if attempts == 0 and cid not in leads_total:
            continue
        rows.append(
            {
                "campaign_id": cid,
                "campaign": name,
                "status": str(status),
                "mode": str(mode),
                "attempts": attempts,
                "answered": answered,
                "connected": connected,
                "abandoned": abandoned,
                "answer_rate": _rate(answered, attempts),
                "abandon_rate": _rate(abandoned, answered),
                "abandon_cap": None if cap is None else float(cap),
                "leads": int(leads_total.get(cid, 0)),
                "leads_left": int(left.get(cid, 0)),
                "closed_attentions": int(closed.get(cid, 0)),
            }
        )
    return Report(
        name="campaigns",
        title=_("Results by campaign"),
        columns=[
            ("campaign", _("Campaign")),
            ("status", _("Status")),
            ("mode", _("Mode")),
            ("attempts", _("Attempts")),
            ("answered", _("Answered")),
            ("connected", _("Connected")),
            ("abandoned", _("Abandoned")),
            ("answer_rate", _("Answer rate")),
            ("abandon_rate", _("Abandon rate")),
            ("abandon_cap", _("Abandon cap")),
            ("leads", _("Leads")),
            ("leads_left", _("Leads left")),
            ("closed_attentions", _("Closed attentions")),
        ],
        rows=rows,
        chart={
            "type": "bar",
            "labels": [r["campaign"] for r in rows],
            "series": _outcomes(
                [r["answered"] for r in rows],
                [r["abandoned"] for r in rows],
                [r["attempts"] - r["answered"] for r in rows],
            ),
        },
    )


async def areas(s: AsyncSession, p: Period, now: datetime) -> Report:
    region = sa.func.coalesce(Customer.region, "(unknown)")
    q = (
        sa.select(
            region,
            sa.func.count(sa.distinct(Attention.customer_id)),
            sa.func.count(),
            sa.func.count().filter(Attention.status == AttentionStatus.CLOSED),
            sa.func.count().filter(Attention.status.in_(OPEN_STATUSES)),
        )
        .select_from(Attention)
        .join(Customer, Customer.id == Attention.customer_id, isouter=True)
        .where(_in(Attention.created_at, p))
        .group_by(region)
        .order_by(region)
    )
    calls_q = (
        sa.select(region, sa.func.count())
        .select_from(Call)
        .join(Attention, Attention.id == Call.attention_id)
        .join(Customer, Customer.id == Attention.customer_id, isouter=True)
        .where(_in(Call.ring_at, p))
        .group_by(region)
    )
    calls_by = dict((await s.execute(calls_q)).all())
    rows: list[dict[str, Any]] = [
        {
            "region": name,
            "customers": int(cust),
            "attentions": int(n),
            "closed": int(closed),
            "open": int(open_),
            "close_rate": _rate(int(closed), int(n)),
            "calls": int(calls_by.get(name, 0)),
        }
        for name, cust, n, closed, open_ in (await s.execute(q)).all()
    ]
    return Report(
        name="areas",
        title=_("Results by area (region)"),
        columns=[
            ("region", _("Region")),
            ("customers", _("Customers")),
            ("attentions", _("Attentions")),
            ("closed", _("Closed|attentions")),
            ("open", _("Open|attentions")),
            ("close_rate", _("Close rate")),
            ("calls", _("Calls")),
        ],
        rows=rows,
        chart={
            "type": "bar",
            "labels": [r["region"] for r in rows],
            "series": [
                {
                    "label": _("closed|attentions"),
                    "data": [r["closed"] for r in rows],
                    "tone": "good",
                },
                {"label": _("open|attentions"), "data": [r["open"] for r in rows], "tone": "warn"},
            ],
        },
    )


def _paused(p: Period, now: datetime) -> tuple[Any, Any]:
    """The whole seconds of each pause at a desk within the period (one still going on counts
    until now), and the condition that it overlaps the period."""
    until = sa.func.coalesce(AgentPause.ended_at, sa.literal(now, sa.DateTime(timezone=True)))
    start = sa.func.greatest(AgentPause.started_at, sa.literal(p.start, sa.DateTime(timezone=True)))
    end = sa.func.least(until, sa.literal(p.end, sa.DateTime(timezone=True)))
    # Whole seconds per pause, so that a total, an average and the longest agree.
    seconds = sa.func.greatest(sa.func.round(_seconds(end - start)), 0)
    # ``until > p.start``, said so that PostgreSQL reads only the pauses that ended after the start
    # and the open ones (both from ix_agent_pauses_ended), not every pause begun before the end.
    # An open pause counts until now: none of them if now is not after the start.
    ended_after = AgentPause.ended_at > p.start
    after = sa.or_(ended_after, AgentPause.ended_at.is_(None)) if now > p.start else ended_after
    return seconds, sa.and_(AgentPause.started_at < p.end, after)


async def pauses(s: AsyncSession, p: Period, now: datetime) -> Report:
    """Per operator and reason: the pauses at a desk that overlap the period, and the time paused
    within it (a pause still going on counts until now)."""
    paused, overlaps = _paused(p, now)
    q = (
        sa.select(
            _name(Operator),
            AgentPause.reason,
            sa.func.count(),
            sa.func.sum(paused),
            sa.func.max(paused),
        )
        .join(Operator, Operator.id == AgentPause.operator_id)
        .where(overlaps)
        .group_by(_name(Operator), AgentPause.reason)
    )
    rows: list[dict[str, Any]] = [
        {
            "operator": name,
            "reason": reason,
            "pauses": int(n),
            "paused_seconds": int(total or 0),
            "avg_pause_seconds": _num((total or 0) / n) if n else None,
            "longest_seconds": int(longest or 0),
        }
        for name, reason, n, total, longest in (await s.execute(q)).all()
    ]
    rows.sort(key=lambda r: (r["operator"], -r["paused_seconds"], r["reason"]))
    operators = list(dict.fromkeys(r["operator"] for r in rows))
    reasons = sorted({r["reason"] for r in rows})
    paused_by = {(r["operator"], r["reason"]): r["paused_seconds"] for r in rows}
    return Report(
        name="pauses",
        title=_("Pauses by operator and reason"),
        columns=[
            ("operator", _("Operator")),
            ("reason", _("Reason")),
            ("pauses", _("Pauses")),
            ("paused_seconds", _("Paused time (s)")),
            ("avg_pause_seconds", _("Average pause (s)")),
            ("longest_seconds", _("Longest pause (s)")),
        ],
        rows=rows,
        chart={
            "type": "bar",
            "stacked": True,
            "labels": operators,
            # Seconds paused per operator (the table's unit), one series per reason (cti's
            # missed calls in red), each reason as named (``named``: not translated), as the
            # wallboard and the table show it.
            "series": [
                {
                    "label": reason,
                    "named": True,
                    "data": [paused_by.get((op, reason), 0) for op in operators],
                    **({"tone": "bad"} if reason == MISSED_REASON else {}),
                }
                for reason in reasons
            ],
        },
    )


ReportFn = Callable[[AsyncSession, Period, datetime], Awaitable[Report]]
REPORTS: dict[str, ReportFn] = {
    "productivity": productivity,
    "dispositions": dispositions,
    "contact-frequency": contact_frequency,
    "critical": critical,
    "queues": queues,
    "campaigns": campaigns,
    "areas": areas,
    "pauses": pauses,
}


async def run_report(
    db: Database, name: str, period: Period, now: datetime, *, pending_days: int = 3
) -> Report:
    """Run one report by name (``pending_days``: when a pending attention becomes critical)."""
    check_report(name, REPORTS)
    fn = REPORTS[name]
    async with db.sessions() as s:
        if fn is critical:
            return await critical(s, period, now, pending_days=pending_days)
        return await fn(s, period, now)


# --- supervisor writes and lists ----------------------------------------------------------------


async def supervisor_lists(db: Database) -> dict[str, Any]:
    """Operators (with their open attentions), pause reasons: what the wallboard's forms offer."""
    open_count = (
        sa.select(Attention.operator_id, sa.func.count().label("n"))
        .where(Attention.status.in_(OPEN_STATUSES))
        .group_by(Attention.operator_id)
        .subquery()
    )
    async with db.sessions() as s:
        ops = (
            await s.execute(
                sa.select(
                    Operator.id,
                    Operator.username,
                    _name(Operator),
                    Operator.role,
                    sa.func.coalesce(open_count.c.n, 0),
                )
                .join(open_count, open_count.c.operator_id == Operator.id, isouter=True)
                .where(Operator.active)
                .order_by(Operator.username)
            )
        ).all()
        pauses = (
            await s.execute(
                sa.select(PauseReason.name).where(PauseReason.active).order_by(PauseReason.name)
            )
        ).scalars()
        pause_list = list(pauses)
    return {
        "operators": [
            {"id": i, "username": u, "name": n, "role": str(r), "open_attentions": int(c)}
            for i, u, n, r, c in ops
        ],
        "pause_reasons": pause_list,
    }


async def reassign_attentions(
    db: Database,
    *,
    actor: str,
    to_operator_id: int,
    attention_ids: list[int] | None = None,
    from_operator_id: int | None = None,
) -> list[int]:
    """Move open (pending or planned) attentions to another operator; audited, one line each.

    Either ``attention_ids`` (each must exist and be open) or ``from_operator_id`` (all of that
    operator's open attentions). Returns the ids moved.
    """
    check_reassignment(attention_ids, from_operator_id, to_operator_id)
    async with db.sessions.begin() as s:
        active = await s.scalar(sa.select(Operator.active).where(Operator.id == to_operator_id))
        if active is None:
            raise UserInputError(
                "to_operator_id",
                _("there is no user {to_operator_id}"),
                to_operator_id=to_operator_id,
            )
        check_active_user("to_operator_id", to_operator_id, active=active)
        q = sa.select(Attention.id, Attention.operator_id, Attention.status).with_for_update()
        if attention_ids is not None:
            wanted = list(dict.fromkeys(attention_ids))
            found = {
                row.id: row for row in (await s.execute(q.where(Attention.id.in_(wanted)))).all()
            }
            for aid in wanted:
                row = found.get(aid)
                if row is None:
                    raise UserInputError("attention_ids", _("there is no attention {aid}"), aid=aid)
                check_movable(aid, row.status)
            rows = [found[a] for a in wanted]
        else:
            rows = list(
                (
                    await s.execute(
                        q.where(
                            Attention.operator_id == from_operator_id,
                            Attention.status.in_(OPEN_STATUSES),
                        ).order_by(Attention.id)
                    )
                ).all()
            )
        moving = [r for r in rows if r.operator_id != to_operator_id]
        if not moving:
            return []
        ids = [r.id for r in moving]
        await s.execute(
            sa.update(Attention).where(Attention.id.in_(ids)).values(operator_id=to_operator_id)
        )
        for r in moving:
            await s.execute(
                audit_row(
                    actor,
                    "attention.reassign",
                    f"attention:{r.id}",
                    {"from_operator_id": r.operator_id, "to_operator_id": to_operator_id},
                )
            )
    return ids


__all__ = [
    "MAX_DAYS",
    "REPORTS",
    "Period",
    "Report",
    "pause_reason_active",
    "reassign_attentions",
    "run_report",
    "supervisor_lists",
]
