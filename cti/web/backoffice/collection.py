"""Collection endpoints: the delinquent list, a customer's financial position, promises, plans."""

from __future__ import annotations

from aiohttp import web

from cti.db.backoffice import collection as repo
from cti.web.api import Api, HTTPProblem
from cti.web.backoffice.common import (
    ID,
    LIST,
    MONEY,
    NULLABLE_ID,
    OBJECT,
    body,
    ok,
    path_id,
    require_routine,
    route,
    today,
    viewer,
)
from cti.web.state import web_state

ROUTINE = "collection"
DATE = {"type": "string", "format": "date"}


def register(api: Api) -> None:
    """Declare the collection endpoints."""

    @route(
        api,
        "GET",
        "/api/v1/collection/delinquents",
        summary="Customers with overdue invoices, oldest debt first (names masked without"
        " personal_data)",
        response=LIST,
    )
    async def delinquents(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        rt = web_state(request).runtime
        return ok(await repo.delinquents(rt.db, viewer(request), today(request)))

    @route(
        api,
        "GET",
        "/api/v1/collection/customers/{id}/position",
        summary="A customer's financial position: overdue invoices with days overdue, totals,"
        " promises, plans, collection cases",
        response=OBJECT,
    )
    async def position(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        rt = web_state(request).runtime
        return ok(
            await repo.financial_position(rt.db, viewer(request), path_id(request), today(request))
        )

    @route(
        api,
        "POST",
        "/api/v1/collection/promises",
        summary="Record a promise to pay (date, amount), optionally for one invoice",
        body={
            "type": "object",
            "required": ["customer_id", "promised_on", "amount"],
            "properties": {
                "customer_id": ID,
                "attention_id": NULLABLE_ID,
                "receivable_id": NULLABLE_ID,
                "promised_on": DATE,
                "amount": MONEY,
            },
        },
        response=OBJECT,
    )
    async def promise(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        b = body(request)
        made = await repo.add_promise(
            web_state(request).runtime.db,
            viewer(request),
            customer_id=b["customer_id"],
            promised_on=b["promised_on"],
            amount=b["amount"],
            attention_id=b.get("attention_id"),
            receivable_id=b.get("receivable_id"),
            today=today(request),
        )
        return ok(made, 201)

    @route(
        api,
        "POST",
        "/api/v1/collection/promises/{id}/kept",
        summary="Mark an open promise kept (paid)",
        response=OBJECT,
    )
    async def kept(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        return ok(
            await repo.settle_promise(
                web_state(request).runtime.db, viewer(request), path_id(request), kept=True
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/collection/promises/{id}/broken",
        summary="Mark an open promise broken: the customer's collection cases become delinquent",
        response=OBJECT,
    )
    async def broken(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        return ok(
            await repo.settle_promise(
                web_state(request).runtime.db, viewer(request), path_id(request), kept=False
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/collection/break-overdue",
        role="supervisor",
        summary="Run the daily job now: promises and plans past due unpaid are broken",
        response=OBJECT,
    )
    async def break_overdue(request: web.Request) -> web.StreamResponse:
        user = viewer(request)
        return ok(
            await repo.break_overdue(
                web_state(request).runtime.db, today(request), actor=user.username
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/collection/plans",
        summary="Record a negotiated instalment plan: explicit instalments, or total + count +"
        " first_due_on (+ every_days, default 30)",
        body={
            "type": "object",
            "required": ["customer_id"],
            "properties": {
                "customer_id": ID,
                "attention_id": NULLABLE_ID,
                "instalments": {
                    "type": "array",
                    "maxItems": 120,
                    "items": {
                        "type": "object",
                        "required": ["due_on", "amount"],
                        "properties": {"due_on": DATE, "amount": MONEY},
                    },
                },
                "total": MONEY,
                "count": {"type": "integer", "minimum": 1, "maximum": 120},
                "first_due_on": DATE,
                "every_days": {"type": "integer", "minimum": 1, "maximum": 366},
            },
        },
        response=OBJECT,
    )
    async def plan(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        b = body(request)
        made = await repo.add_plan(
            web_state(request).runtime.db,
            viewer(request),
            customer_id=b["customer_id"],
            attention_id=b.get("attention_id"),
            instalments=[(i["due_on"], i["amount"]) for i in b.get("instalments") or []],
            total=b.get("total"),
            count=b.get("count"),
            first_due_on=b.get("first_due_on"),
            every_days=b.get("every_days", 30),
            today=today(request),
        )
        return ok(made, 201)

    @route(
        api,
        "POST",
        "/api/v1/collection/plans/{id}/instalments/{seq}/paid",
        summary="Record an instalment paid; the plan is kept when all are",
        response=OBJECT,
    )
    async def instalment_paid(request: web.Request) -> web.StreamResponse:
        require_routine(request, ROUTINE)
        seq = request.match_info["seq"]
        if not seq.isdigit():
            raise HTTPProblem(404, f"{seq!r} is not an instalment number")
        return ok(
            await repo.pay_instalment(
                web_state(request).runtime.db,
                viewer(request),
                path_id(request),
                int(seq),
                today(request),
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/collection/invoices/{id}/paid",
        role="supervisor",
        summary="Record an invoice paid (finance's hand-off); promises tied to it are kept",
        response=OBJECT,
    )
    async def invoice_paid(request: web.Request) -> web.StreamResponse:
        return ok(
            await repo.pay_receivable(
                web_state(request).runtime.db, viewer(request), path_id(request)
            )
        )
