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
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.audit import audit_in
from cti.db.backoffice.common import (
    NotFound,
    Refused,
    check_attention,
    enforce_required,
    iso,
    money,
    must_exist,
    to_decimal,
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
from cti.domain.backoffice import (
    CUSTOMER_FIELDS,
    OPEN_CASE_STATES,
    Invoice,
    plan_status,
    position,
    promise_is_broken,
    split_instalments,
)
from cti.domain.model import AttentionKind, CaseStatus, PromiseStatus
from cti.errors import UserInputError

SCHEDULER = "scheduler"


def _invoice(r: Receivable) -> Invoice:
    return Invoice(r.id, r.invoice_number, r.due_on, r.amount, r.paid)


async def _receivables(session: AsyncSession, customer_id: int) -> list[Receivable]:
    rows = await session.execute(
        sa.select(Receivable)
        .where(Receivable.customer_id == customer_id)
        .order_by(Receivable.due_on)
    )
    return list(rows.scalars())


def _promise_json(p: PaymentPromise) -> dict[str, Any]:
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


async def _plan_json(session: AsyncSession, plan: PaymentPlan) -> dict[str, Any]:
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
            raise NotFound("customer", customer_id)
        receivables = await _receivables(s, customer_id)
        pos = position([_invoice(r) for r in receivables], today)
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
    amount: Any,
    today: date,
    attention_id: int | None = None,
    receivable_id: int | None = None,
) -> dict[str, Any]:
    """Record a promise to pay (date, amount) for the customer's open debt."""
    async with db.sessions.begin() as s:
        await enforce_required(
            s, "promise", {"attention_id": attention_id, "receivable_id": receivable_id}
        )
        await must_exist(s, Customer, customer_id, "customer_id")
        await check_attention(s, attention_id, customer_id)
        value = to_decimal(amount, "amount")
        if value <= 0 or value != value.quantize(Decimal("0.01")):
            raise UserInputError("amount", "must be more than 0, in cents")
        if promised_on < today:
            raise UserInputError("promised_on", "a promise to pay cannot be in the past")
        pos = position([_invoice(r) for r in await _receivables(s, customer_id)], today)
        if pos.open_amount <= 0:
            raise UserInputError("customer_id", "the customer owes nothing")
        if receivable_id is not None:
            receivable = await must_exist(s, Receivable, receivable_id, "receivable_id")
            if receivable.customer_id != customer_id:
                raise UserInputError("receivable_id", "that invoice is another customer's")
            if receivable.paid:
                raise UserInputError("receivable_id", "that invoice is paid")
            if value > receivable.amount:
                raise UserInputError(
                    "amount", f"more than the invoice ({money(receivable.amount)})"
                )
        elif value > pos.open_amount:
            raise UserInputError("amount", f"more than the open debt ({money(pos.open_amount)})")
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
) -> dict[str, Any]:
    """Mark an open promise kept, or broken (which returns the customer to collection)."""
    async with db.sessions.begin() as s:
        promise = await s.get(PaymentPromise, promise_id, with_for_update=True)
        if promise is None:
            raise NotFound("promise", promise_id)
        if promise.status is not PromiseStatus.OPEN:
            raise Refused(f"the promise is already {promise.status.value}", "status")
        promise.status = PromiseStatus.KEPT if kept else PromiseStatus.BROKEN
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
            if paid:
                promise.status = PromiseStatus.KEPT
                out["kept_promises"].append(promise.id)
            elif promise_is_broken(promise.status, promise.promised_on, today):
                promise.status = PromiseStatus.BROKEN
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
            dues = (
                await s.execute(
                    sa.select(Instalment.due_on, Instalment.paid_at.is_not(None)).where(
                        Instalment.plan_id == plan.id
                    )
                )
            ).all()
            status = plan_status([(d, bool(p)) for d, p in dues], today)
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
    instalments: Sequence[tuple[date, Any]] | None = None,
    total: Any = None,
    count: int | None = None,
    first_due_on: date | None = None,
    every_days: int = 30,
) -> dict[str, Any]:
    """A negotiated plan: explicit ``instalments`` (due date, amount), or ``total`` split in
    ``count`` instalments ``every_days`` apart from ``first_due_on``."""
    async with db.sessions.begin() as s:
        await enforce_required(s, "plan", {"attention_id": attention_id})
        await must_exist(s, Customer, customer_id, "customer_id")
        await check_attention(s, attention_id, customer_id)
        if instalments:
            parts = [
                (due, to_decimal(amount, f"instalments[{n}].amount"))
                for n, (due, amount) in enumerate(instalments)
            ]
        elif total is not None and count is not None and first_due_on is not None:
            parts = split_instalments(to_decimal(total, "total"), count, first_due_on, every_days)
        else:
            raise UserInputError(
                "instalments", "give the instalments, or total, count and first_due_on"
            )
        for n, (due, amount) in enumerate(parts):
            if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
                raise UserInputError(f"instalments[{n}].amount", "must be more than 0, in cents")
            if due < today:
                raise UserInputError(f"instalments[{n}].due_on", "is in the past")
        dues = [d for d, _ in parts]
        if dues != sorted(dues):
            raise UserInputError("instalments", "the due dates must go forward")
        pos = position([_invoice(r) for r in await _receivables(s, customer_id)], today)
        plan_total = sum((a for _, a in parts), Decimal(0))
        if plan_total > pos.open_amount:
            raise UserInputError(
                "instalments",
                f"the plan ({money(plan_total)}) is more than the open debt"
                f" ({money(pos.open_amount)})",
            )
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
) -> dict[str, Any]:
    """Record an instalment as paid; the plan is kept once all are."""
    async with db.sessions.begin() as s:
        plan = await s.get(PaymentPlan, plan_id, with_for_update=True)
        if plan is None:
            raise NotFound("plan", plan_id)
        instalment = (
            await s.execute(
                sa.select(Instalment).where(Instalment.plan_id == plan_id, Instalment.seq == seq)
            )
        ).scalar_one_or_none()
        if instalment is None:
            raise NotFound("instalment", f"{plan_id}/{seq}")
        if instalment.paid_at is not None:
            raise Refused(f"instalment {seq} is already paid", "seq")
        instalment.paid_at = sa.func.now()
        await s.flush()
        await s.refresh(instalment)
        dues = (
            await s.execute(
                sa.select(Instalment.due_on, Instalment.paid_at.is_not(None)).where(
                    Instalment.plan_id == plan.id
                )
            )
        ).all()
        if (
            plan.status is PromiseStatus.OPEN
            and plan_status([(d, bool(p)) for d, p in dues], today) is PromiseStatus.KEPT
        ):
            plan.status = PromiseStatus.KEPT
        await audit_in(s, viewer.username, "plan.instalment_paid", f"plan:{plan.id}", {"seq": seq})
        await s.flush()
        return await _plan_json(s, plan)


async def pay_receivable(db: Database, viewer: Viewer, receivable_id: int) -> dict[str, Any]:
    """Record an invoice as paid (finance's hand-off); open promises tied to it are kept."""
    async with db.sessions.begin() as s:
        receivable = await s.get(Receivable, receivable_id, with_for_update=True)
        if receivable is None:
            raise NotFound("invoice", receivable_id)
        if receivable.paid:
            raise Refused(f"invoice {receivable.invoice_number} is already paid", "paid")
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
