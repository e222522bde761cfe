"""Collection: a delinquent customer's financial position, promises to pay, instalment plans.

A promise whose day passed unpaid, or a plan with an instalment due and unpaid, is broken; a broken
one returns the customer to collection: their open collection cases become ``delinquent`` (a new
delinquent case is opened when there is none). :func:`break_overdue` does it for every customer and
is what the scheduler calls once a day (and on start); the API can also mark one promise broken.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.audit import audit_in
from cti.db.backoffice.common import (
    check_attention,
    enforce_required,
    iso,
    money,
    must_exist,
)
from cti.db.backoffice.personal import Viewer, show_personal
from cti.db.engine import Database
from cti.db.models import (
    Case,
    Customer,
    Instalment,
    PaymentPlan,
    PaymentPromise,
    Receivable,
)
from cti.domain import collection as rules
from cti.domain.amounts import Amount, to_decimal
from cti.domain.backoffice import (
    CUSTOMER_FIELDS,
    OPEN_CASE_STATES,
    Invoice,
    Position,
    plan_status,
    position,
)
from cti.domain.model import AttentionKind, CaseStatus, PromiseStatus
from cti.errors import NotFound
from cti.i18n import _

SCHEDULER = "scheduler"


def _invoice(r: Receivable) -> Invoice:
    return Invoice(r.id, r.invoice_number, r.due_on, r.amount, r.paid, r.customer_id)


async def _receivables(session: AsyncSession, customer_id: int) -> list[Receivable]:
    rows = await session.execute(
        sa.select(Receivable)
        .where(Receivable.customer_id == customer_id)
        .order_by(Receivable.due_on)
    )
    return list(rows.scalars())


async def _debt(session: AsyncSession, customer_id: int, today: date) -> Position:
    """The customer's financial position on ``today``."""
    return position([_invoice(r) for r in await _receivables(session, customer_id)], today)


async def _plan_dues(session: AsyncSession, plan_id: int) -> list[tuple[date, bool]]:
    """Each instalment of the plan: (due on, paid)."""
    rows = await session.execute(
        sa.select(Instalment.due_on, Instalment.paid_at.is_not(None)).where(
            Instalment.plan_id == plan_id
        )
    )
    return [(due, bool(paid)) for due, paid in rows.all()]


class PromiseJson(TypedDict):
    """A promise to pay, as the collection endpoints answer it."""

    id: int
    customer_id: int
    attention_id: int | None
    receivable_id: int | None
    promised_on: str | None
    amount: str
    status: str
    created_by: int | None
    created_at: str | None


class SettledPromiseJson(PromiseJson):
    """A settled promise and the cases a broken one made delinquent."""

    delinquent_cases: list[int]


class InstalmentJson(TypedDict):
    """An instalment of a plan."""

    seq: int
    due_on: str | None
    amount: str
    paid_at: str | None


class PlanJson(TypedDict):
    """A payment plan with its instalments."""

    id: int
    customer_id: int
    attention_id: int | None
    status: str
    created_at: str | None
    total: str
    instalments: list[InstalmentJson]


class PaidInvoiceJson(TypedDict):
    """An invoice recorded as paid and the promises that kept."""

    id: int
    paid: bool
    kept_promises: list[int]


def _promise_json(p: PaymentPromise) -> PromiseJson:
    return {
        "id": p.id,
        "customer_id": p.customer_id,
        "attention_id": p.attention_id,
        "receivable_id": p.receivable_id,
        "promised_on": iso(p.promised_on),
        "amount": money(p.amount),
        "status": str(p.status),
        "created_by": p.created_by,
        "created_at": iso(p.created_at),
    }


async def _plan_json(session: AsyncSession, plan: PaymentPlan) -> PlanJson:
    rows = await session.execute(
        sa.select(Instalment).where(Instalment.plan_id == plan.id).order_by(Instalment.seq)
    )
    instalments = list(rows.scalars())
    return {
        "id": plan.id,
        "customer_id": plan.customer_id,
        "attention_id": plan.attention_id,
        "status": str(plan.status),
        "created_at": iso(plan.created_at),
        "total": money(sum((i.amount for i in instalments), Decimal(0))),
        "instalments": [
            {
                "seq": i.seq,
                "due_on": iso(i.due_on),
                "amount": money(i.amount),
                "paid_at": iso(i.paid_at),
            }
            for i in instalments
        ],
    }


async def return_to_collection(
    session: AsyncSession, customer_id: int, *, actor: str, reason: str
) -> list[int]:
    """Make the customer's open collection cases delinquent (or open one); the case ids."""
    cases = list(
        (
            await session.execute(
                sa.select(Case)
                .where(
                    Case.customer_id == customer_id,
                    Case.kind == AttentionKind.COLLECTION,
                    Case.status.in_(OPEN_CASE_STATES),
                )
                .with_for_update()
            )
        ).scalars()
    )
    if not cases:
        case = Case(
            customer_id=customer_id,
            kind=AttentionKind.COLLECTION,
            status=CaseStatus.DELINQUENT,
            subject=reason,
        )
        session.add(case)
        await session.flush()
        cases = [case]
    for case in cases:
        old = case.status
        case.status = CaseStatus.DELINQUENT
        await audit_in(
            session,
            actor,
            "case.delinquent",
            f"case:{case.id}",
            {"from": str(old), "reason": reason, "customer_id": customer_id},
        )
    await session.flush()
    return [c.id for c in cases]


async def delinquents(db: Database, viewer: Viewer, today: date) -> list[dict[str, Any]]:
    """Customers with overdue invoices, the oldest debt first (names as the viewer may see them)."""
    overdue = (
        sa.select(
            Receivable.customer_id,
            sa.func.sum(Receivable.amount).label("amount"),
            sa.func.count().label("invoices"),
            sa.func.min(Receivable.due_on).label("oldest"),
        )
        .where(~Receivable.paid, Receivable.due_on < today)
        .group_by(Receivable.customer_id)
        .subquery()
    )
    stmt = (
        sa.select(Customer, overdue.c.amount, overdue.c.invoices, overdue.c.oldest)
        .join(overdue, overdue.c.customer_id == Customer.id)
        .order_by(overdue.c.oldest, Customer.code)
    )
    async with db.sessions.begin() as s:
        rows = (await s.execute(stmt)).all()
        records = [
            (
                f"customer:{c.id}",
                {
                    "id": c.id,
                    "code": c.code,
                    "name": c.name,
                    "overdue_amount": money(amount),
                    "overdue_invoices": int(count),
                    "oldest_days": (today - oldest).days,
                },
            )
            for c, amount, count, oldest in rows
        ]
        return await show_personal(
            s, viewer, records, {"name": CUSTOMER_FIELDS["name"]}, purpose="delinquent list"
        )


async def financial_position(
    db: Database, viewer: Viewer, customer_id: int, today: date
) -> dict[str, Any]:
    """The customer's overdue invoices with days overdue, totals, promises, plans and cases."""
    async with db.sessions.begin() as s:
        customer = await s.get(Customer, customer_id)
        if customer is None:
            raise NotFound(_("customer"), customer_id)
        pos = await _debt(s, customer_id, today)
        promises = (
            await s.execute(
                sa.select(PaymentPromise)
                .where(PaymentPromise.customer_id == customer_id)
                .order_by(PaymentPromise.promised_on.desc(), PaymentPromise.id.desc())
            )
        ).scalars()
        plans = (
            await s.execute(
                sa.select(PaymentPlan)
                .where(PaymentPlan.customer_id == customer_id)
                .order_by(PaymentPlan.id.desc())
            )
        ).scalars()
        cases = (
            await s.execute(
                sa.select(Case)
                .where(Case.customer_id == customer_id, Case.kind == AttentionKind.COLLECTION)
                .order_by(Case.id)
            )
        ).scalars()
        promise_list = [_promise_json(p) for p in promises]
        plan_list = [await _plan_json(s, p) for p in plans]
        [shown] = await show_personal(
            s,
            viewer,
            [
                (
                    f"customer:{customer.id}",
                    {
                        "id": customer.id,
                        "code": customer.code,
                        "name": customer.name,
                        "tax_id": customer.tax_id,
                    },
                )
            ],
            CUSTOMER_FIELDS,
            purpose="financial position",
        )
        promised = sum(
            (Decimal(p["amount"]) for p in promise_list if p["status"] == "open"), Decimal(0)
        )
        return {
            "customer": shown,
            "today": iso(today),
            "delinquent": pos.delinquent,
            "overdue": [
                {
                    "id": inv.id,
                    "invoice_number": inv.number,
                    "due_on": iso(inv.due_on),
                    "amount": money(inv.amount),
                    "days_overdue": days,
                }
                for inv, days in pos.overdue
            ],
            "not_due": [
                {
                    "id": inv.id,
                    "invoice_number": inv.number,
                    "due_on": iso(inv.due_on),
                    "amount": money(inv.amount),
                }
                for inv in pos.open_not_due
            ],
            "totals": {
                "overdue_amount": money(pos.overdue_amount),
                "open_amount": money(pos.open_amount),
                "overdue_invoices": len(pos.overdue),
                "oldest_days": pos.oldest_days,
                "promised_amount": money(promised),
            },
            "promises": promise_list,
            "plans": plan_list,
            "cases": [
                {
                    "id": c.id,
                    "status": str(c.status),
                    "assignee_id": c.assignee_id,
                    "subject": c.subject,
                }
                for c in cases
            ],
        }


async def add_promise(
    db: Database,
    viewer: Viewer,
    *,
    customer_id: int,
    promised_on: date,
    amount: Amount,
    today: date,
    attention_id: int | None = None,
    receivable_id: int | None = None,
) -> PromiseJson:
    """Record a promise to pay (date, amount) for the customer's open debt."""
    async with db.sessions.begin() as s:
        await enforce_required(
            s, "promise", {"attention_id": attention_id, "receivable_id": receivable_id}
        )
        await must_exist(s, Customer, customer_id, "customer_id")
        await check_attention(s, attention_id, customer_id)
        value = to_decimal(amount, "amount")
        invoice = None
        if receivable_id is not None:
            invoice = _invoice(await must_exist(s, Receivable, receivable_id, "receivable_id"))
        rules.check_promise(
            value,
            promised_on,
            today=today,
            debt=await _debt(s, customer_id, today),
            customer_id=customer_id,
            invoice=invoice,
        )
        promise = PaymentPromise(
            customer_id=customer_id,
            attention_id=attention_id,
            receivable_id=receivable_id,
            promised_on=promised_on,
            amount=value,
            created_by=viewer.id,
        )
        s.add(promise)
        await s.flush()
        await audit_in(
            s,
            viewer.username,
            "promise.made",
            f"promise:{promise.id}",
            {"customer_id": customer_id, "amount": money(value), "promised_on": iso(promised_on)},
        )
        return _promise_json(promise)


async def settle_promise(
    db: Database, viewer: Viewer, promise_id: int, *, kept: bool
) -> SettledPromiseJson:
    """Mark an open promise kept, or broken (which returns the customer to collection)."""
    async with db.sessions.begin() as s:
        promise = await s.get(PaymentPromise, promise_id, with_for_update=True)
        if promise is None:
            raise NotFound(_("promise"), promise_id)
        promise.status = rules.settle_promise(promise.status, kept=kept)
        await audit_in(
            s,
            viewer.username,
            "promise.kept" if kept else "promise.broken",
            f"promise:{promise.id}",
            {"customer_id": promise.customer_id},
        )
        cases: list[int] = []
        if not kept:
            cases = await return_to_collection(
                s, promise.customer_id, actor=viewer.username, reason="broken promise to pay"
            )
        await s.flush()
        return {**_promise_json(promise), "delinquent_cases": cases}


async def break_overdue(
    db: Database, today: date, *, actor: str = SCHEDULER
) -> dict[str, list[int]]:
    """Settle every open promise and plan whose date passed: the scheduler's daily job.

    A promise tied to an invoice that is now paid is kept; any other open promise dated before
    ``today`` is broken, and so is an open plan with an instalment due before ``today`` unpaid (a
    plan with every instalment paid is kept). Each broken one returns its customer to collection.

    Returns:
        ``{"broken_promises": [...], "kept_promises": [...], "broken_plans": [...],
        "kept_plans": [...]}`` (ids).
    """
    out: dict[str, list[int]] = {
        "broken_promises": [],
        "kept_promises": [],
        "broken_plans": [],
        "kept_plans": [],
    }
    async with db.sessions.begin() as s:
        rows = await s.execute(
            sa.select(PaymentPromise, Receivable.paid)
            .outerjoin(Receivable, Receivable.id == PaymentPromise.receivable_id)
            .where(PaymentPromise.status == PromiseStatus.OPEN)
            .with_for_update(of=PaymentPromise, skip_locked=True)
        )
        back: set[int] = set()
        for promise, paid in rows.all():
            status = rules.promise_outcome(
                promise.status, promise.promised_on, today, invoice_paid=bool(paid)
            )
            if status is promise.status:
                continue
            promise.status = status
            if status is PromiseStatus.KEPT:
                out["kept_promises"].append(promise.id)
            else:
                out["broken_promises"].append(promise.id)
                back.add(promise.customer_id)
                await audit_in(s, actor, "promise.broken", f"promise:{promise.id}", {})
        plans = (
            await s.execute(
                sa.select(PaymentPlan)
                .where(PaymentPlan.status == PromiseStatus.OPEN)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
        for plan in list(plans):
            status = plan_status(await _plan_dues(s, plan.id), today)
            if status is PromiseStatus.OPEN:
                continue
            plan.status = status
            key = "broken_plans" if status is PromiseStatus.BROKEN else "kept_plans"
            out[key].append(plan.id)
            if status is PromiseStatus.BROKEN:
                back.add(plan.customer_id)
                await audit_in(s, actor, "plan.broken", f"plan:{plan.id}", {})
        for customer_id in sorted(back):
            await return_to_collection(s, customer_id, actor=actor, reason="broken promise to pay")
    return out


async def add_plan(
    db: Database,
    viewer: Viewer,
    *,
    customer_id: int,
    today: date,
    attention_id: int | None = None,
    instalments: Sequence[tuple[date, Amount]] | None = None,
    total: Amount | None = None,
    count: int | None = None,
    first_due_on: date | None = None,
    every_days: int = 30,
) -> PlanJson:
    """A negotiated plan: explicit ``instalments`` (due date, amount), or ``total`` split in
    ``count`` instalments ``every_days`` apart from ``first_due_on``."""
    async with db.sessions.begin() as s:
        await enforce_required(s, "plan", {"attention_id": attention_id})
        await must_exist(s, Customer, customer_id, "customer_id")
        await check_attention(s, attention_id, customer_id)
        parts = rules.plan_instalments(
            today=today,
            debt=await _debt(s, customer_id, today),
            instalments=instalments,
            total=total,
            count=count,
            first_due_on=first_due_on,
            every_days=every_days,
        )
        plan_total = sum((a for _, a in parts), Decimal(0))
        plan = PaymentPlan(customer_id=customer_id, attention_id=attention_id, created_by=viewer.id)
        s.add(plan)
        await s.flush()
        s.add_all(
            Instalment(plan_id=plan.id, seq=n, due_on=due, amount=amount)
            for n, (due, amount) in enumerate(parts, start=1)
        )
        await s.flush()
        await audit_in(
            s,
            viewer.username,
            "plan.made",
            f"plan:{plan.id}",
            {"customer_id": customer_id, "total": money(plan_total), "instalments": len(parts)},
        )
        return await _plan_json(s, plan)


async def pay_instalment(
    db: Database, viewer: Viewer, plan_id: int, seq: int, today: date
) -> PlanJson:
    """Record an instalment as paid; the plan is kept once all are."""
    async with db.sessions.begin() as s:
        plan = await s.get(PaymentPlan, plan_id, with_for_update=True)
        if plan is None:
            raise NotFound(_("plan"), plan_id)
        instalment = (
            await s.execute(
                sa.select(Instalment).where(Instalment.plan_id == plan_id, Instalment.seq == seq)
            )
        ).scalar_one_or_none()
        if instalment is None:
            raise NotFound(_("instalment"), f"{plan_id}/{seq}")
        rules.check_instalment_unpaid(seq, paid=instalment.paid_at is not None)
        instalment.paid_at = sa.func.now()
        await s.flush()
        await s.refresh(instalment)
        if (
            plan.status is PromiseStatus.OPEN
            and plan_status(await _plan_dues(s, plan.id), today) is PromiseStatus.KEPT
        ):
            plan.status = PromiseStatus.KEPT
        await audit_in(s, viewer.username, "plan.instalment_paid", f"plan:{plan.id}", {"seq": seq})
        await s.flush()
        return await _plan_json(s, plan)


async def pay_receivable(db: Database, viewer: Viewer, receivable_id: int) -> PaidInvoiceJson:
    """Record an invoice as paid (finance's hand-off); open promises tied to it are kept."""
    async with db.sessions.begin() as s:
        receivable = await s.get(Receivable, receivable_id, with_for_update=True)
        if receivable is None:
            raise NotFound(_("invoice"), receivable_id)
        rules.check_invoice_unpaid(receivable.invoice_number, paid=receivable.paid)
        receivable.paid = True
        receivable.paid_at = sa.func.now()
        kept = (
            await s.execute(
                sa.update(PaymentPromise)
                .where(
                    PaymentPromise.receivable_id == receivable_id,
                    PaymentPromise.status == PromiseStatus.OPEN,
                )
                .values(status=PromiseStatus.KEPT)
                .returning(PaymentPromise.id)
            )
        ).scalars()
        kept_ids = list(kept)
        await audit_in(
            s, viewer.username, "invoice.paid", f"invoice:{receivable.id}", {"kept": kept_ids}
        )
        return {"id": receivable.id, "paid": True, "kept_promises": kept_ids}


__all__ = [
    "SCHEDULER",
    "add_plan",
    "add_promise",
    "break_overdue",
    "delinquents",
    "financial_position",
    "pay_instalment",
    "pay_receivable",
    "return_to_collection",
    "settle_promise",
]
