"""Collection endpoints: the delinquent list, a customer's financial position, promises, plans.

``GET  /api/v1/collection/delinquents``                     customers with overdue invoices
``GET  /api/v1/collection/customers/{id}/position``         a customer's financial position
``POST /api/v1/collection/promises``                        {customer_id, promised_on, amount, ...}
``POST /api/v1/collection/promises/{id}/kept|broken``       settle an open promise
``POST /api/v1/collection/break-overdue``                   the daily job, now (supervisors)
``POST /api/v1/collection/plans``                           an instalment plan
``POST /api/v1/collection/plans/{id}/instalments/{seq}/paid``
``POST /api/v1/collection/invoices/{id}/paid``              finance's hand-off (supervisors)

Every endpoint but the supervisors' needs the collection routine. Amounts are answered as text
with two decimals; a body's amount is a JSON number or numeric text, never anything else.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from aiohttp import web
from pydantic import Field, RootModel

from cti.db.backoffice import collection as repo
from cti.domain.model import CaseStatus, PromiseStatus
from cti.i18n import _
from cti.web.api import Api, Body, HTTPProblem, Route, RouteMaker, body_of
from cti.web.backoffice.common import TAG, ok, path_id, require_routine, today, viewer
from cti.web.models import Answer, Id, Money, MoneyText
from cti.web.state import web_state

ROUTINE = "collection"
route = RouteMaker(TAG, "operator")

# --- bodies -------------------------------------------------------------------------------------


class NewPromise(Body):
    customer_id: Id
    attention_id: Id | None = None
    receivable_id: Id | None = Field(default=None, description="the invoice it is for, if one")
    promised_on: dt.date
    amount: Money


class InstalmentIn(Body):
    due_on: dt.date
    amount: Money


class NewPlan(Body):
    """Explicit ``instalments``, or ``total`` split in ``count`` from ``first_due_on``."""

    customer_id: Id
    attention_id: Id | None = None
    instalments: Annotated[list[InstalmentIn], Field(max_length=120)] | None = None
    total: Money | None = None
    count: Annotated[int, Field(ge=1, le=120)] | None = None
    first_due_on: dt.date | None = None
    every_days: Annotated[int, Field(ge=1, le=366, description="days between instalments")] = 30


# --- answers ------------------------------------------------------------------------------------


class Delinquent(Answer):
    """A customer with overdue invoices (the name masked without personal_data)."""

    id: int
    code: str
    name: str
    overdue_amount: MoneyText
    overdue_invoices: int
    oldest_days: int
    masked: bool


class Delinquents(RootModel[list[Delinquent]]):
    """Customers with overdue invoices, oldest debt first."""


class PositionCustomer(Answer):
    id: int
    code: str
    name: str
    tax_id: str | None
    masked: bool


class OverdueInvoice(Answer):
    id: int
    invoice_number: str
    due_on: dt.date
    amount: MoneyText
    days_overdue: int


class OpenInvoice(Answer):
    id: int
    invoice_number: str
    due_on: dt.date
    amount: MoneyText


class PositionTotals(Answer):
    overdue_amount: MoneyText
    open_amount: MoneyText
    overdue_invoices: int
    oldest_days: int
    promised_amount: MoneyText = Field(description="the open promises' amounts")


class PaymentPromise(Answer):
    """A promise to pay."""

    id: int
    customer_id: int
    attention_id: int | None
    receivable_id: int | None
    promised_on: dt.date
    amount: MoneyText
    status: PromiseStatus
    created_by: int | None
    created_at: dt.datetime


class SettledPaymentPromise(PaymentPromise):
    delinquent_cases: list[int] = Field(
        description="the customer's collection cases made delinquent (a broken promise)"
    )


class InstalmentAnswer(Answer):
    seq: int
    due_on: dt.date
    amount: MoneyText
    paid_at: dt.datetime | None


class PaymentPlan(Answer):
    """An instalment plan."""

    id: int
    customer_id: int
    attention_id: int | None
    status: PromiseStatus
    created_at: dt.datetime
    total: MoneyText
    instalments: list[InstalmentAnswer]


class PositionCase(Answer):
    id: int
    status: CaseStatus
    assignee_id: int | None
    subject: str | None


class FinancialPosition(Answer):
    """A customer's financial position on the service's today."""

    customer: PositionCustomer
    today: dt.date
    delinquent: bool
    overdue: list[OverdueInvoice] = Field(description="oldest debt first")
    not_due: list[OpenInvoice]
    totals: PositionTotals
    promises: list[PaymentPromise]
    plans: list[PaymentPlan]
    cases: list[PositionCase] = Field(description="the customer's collection cases")


class OverdueRun(Answer):
    """What the daily job settled (ids)."""

    broken_promises: list[int]
    kept_promises: list[int]
    broken_plans: list[int]
    kept_plans: list[int]


class PaidInvoice(Answer):
    id: int
    paid: bool
    kept_promises: list[int] = Field(description="the promises tied to it, now kept")


# --- handlers -----------------------------------------------------------------------------------


async def delinquents(request: web.Request) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    rt = web_state(request).runtime
    return ok(await repo.delinquents(rt.db, viewer(request), today(request)))


async def position(request: web.Request) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    rt = web_state(request).runtime
    return ok(
        await repo.financial_position(rt.db, viewer(request), path_id(request), today(request))
    )


async def promise(request: web.Request) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    b = body_of(request, NewPromise)
    made = await repo.add_promise(
        web_state(request).runtime.db,
        viewer(request),
        customer_id=b.customer_id,
        promised_on=b.promised_on,
        amount=b.amount,
        attention_id=b.attention_id,
        receivable_id=b.receivable_id,
        today=today(request),
    )
    return ok(made, 201)


async def _settle(request: web.Request, *, kept: bool) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    return ok(
        await repo.settle_promise(
            web_state(request).runtime.db, viewer(request), path_id(request), kept=kept
        )
    )


async def kept(request: web.Request) -> web.StreamResponse:
    return await _settle(request, kept=True)


async def broken(request: web.Request) -> web.StreamResponse:
    return await _settle(request, kept=False)


async def break_overdue(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.break_overdue(
            web_state(request).runtime.db, today(request), actor=viewer(request).username
        )
    )


async def plan(request: web.Request) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    b = body_of(request, NewPlan)
    made = await repo.add_plan(
        web_state(request).runtime.db,
        viewer(request),
        customer_id=b.customer_id,
        attention_id=b.attention_id,
        instalments=[(i.due_on, i.amount) for i in b.instalments or []],
        total=b.total,
        count=b.count,
        first_due_on=b.first_due_on,
        every_days=b.every_days,
        today=today(request),
    )
    return ok(made, 201)


async def instalment_paid(request: web.Request) -> web.StreamResponse:
    require_routine(request, ROUTINE)
    seq = request.match_info["seq"]
    if not seq.isdigit():
        raise HTTPProblem(404, _("{seq!r} is not an instalment number"), seq=seq)
    return ok(
        await repo.pay_instalment(
            web_state(request).runtime.db,
            viewer(request),
            path_id(request),
            int(seq),
            today(request),
        )
    )


async def invoice_paid(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.pay_receivable(web_state(request).runtime.db, viewer(request), path_id(request))
    )


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/collection/delinquents",
        delinquents,
        "Customers with overdue invoices, oldest debt first (names masked without personal_data)",
        response=Delinquents,
    ),
    route(
        "GET",
        "/api/v1/collection/customers/{id}/position",
        position,
        "A customer's financial position: overdue invoices with days overdue, totals,"
        " promises, plans, collection cases",
        response=FinancialPosition,
    ),
    route(
        "POST",
        "/api/v1/collection/promises",
        promise,
        "Record a promise to pay (date, amount), optionally for one invoice",
        body=NewPromise,
        response=PaymentPromise,
    ),
    route(
        "POST",
        "/api/v1/collection/promises/{id}/kept",
        kept,
        "Mark an open promise kept (paid)",
        response=SettledPaymentPromise,
    ),
    route(
        "POST",
        "/api/v1/collection/promises/{id}/broken",
        broken,
        "Mark an open promise broken: the customer's collection cases become delinquent",
        response=SettledPaymentPromise,
    ),
    route(
        "POST",
        "/api/v1/collection/break-overdue",
        break_overdue,
        "Run the daily job now: promises and plans past due unpaid are broken",
        role="supervisor",
        response=OverdueRun,
    ),
    route(
        "POST",
        "/api/v1/collection/plans",
        plan,
        "Record a negotiated instalment plan: explicit instalments, or total + count +"
        " first_due_on (+ every_days, default 30)",
        body=NewPlan,
        response=PaymentPlan,
    ),
    route(
        "POST",
        "/api/v1/collection/plans/{id}/instalments/{seq}/paid",
        instalment_paid,
        "Record an instalment paid; the plan is kept when all are",
        response=PaymentPlan,
    ),
    route(
        "POST",
        "/api/v1/collection/invoices/{id}/paid",
        invoice_paid,
        "Record an invoice paid (finance's hand-off); promises tied to it are kept",
        role="supervisor",
        response=PaidInvoice,
    ),
)


def register(api: Api) -> None:
    """Declare the collection endpoints."""
    api.add(ROUTES)
