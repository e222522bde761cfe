"""Case endpoints (seed 002): lists by state, assignment, reassignment, balancing suggestion."""

from __future__ import annotations

from aiohttp import web

from cti.db.backoffice import cases as repo
from cti.domain.model import AttentionKind, CaseStatus
from cti.errors import UserInputError
from cti.web.api import Api
from cti.web.backoffice.common import (
    ID,
    LIST,
    NULLABLE_ID,
    OBJECT,
    body,
    ok,
    oversees,
    path_id,
    query_int,
    route,
    viewer,
)
from cti.web.state import web_state

STATUSES = [s.value for s in CaseStatus]
KINDS = [k.value for k in AttentionKind]


def _enum_query(request: web.Request, name: str, values: list[str]) -> str | None:
    text = request.query.get(name)
    if text in (None, ""):
        return None
    if text not in values:
        raise UserInputError(name, "must be one of " + ", ".join(values))
    return text


def register(api: Api) -> None:
    """Declare the case endpoints."""

    @route(
        api,
        "GET",
        "/api/v1/cases",
        summary="Cases by state (?status=active|assigned|suspended|closed|delinquent|withdrawn,"
        " ?kind=, ?assignee_id= for admins): operators see their own, supervisors and admins all",
        response=LIST,
    )
    async def cases(request: web.Request) -> web.StreamResponse:
        status = _enum_query(request, "status", STATUSES)
        kind = _enum_query(request, "kind", KINDS)
        return ok(
            await repo.list_cases(
                web_state(request).runtime.db,
                viewer(request),
                everyone=oversees(request),
                status=CaseStatus(status) if status else None,
                kind=AttentionKind(kind) if kind else None,
                assignee_id=query_int(request, "assignee_id"),
            )
        )

    @route(
        api,
        "GET",
        "/api/v1/cases/counts",
        summary="How many cases are in each state (operators: their own; supervisors, admins: all)",
        response=OBJECT,
    )
    async def case_counts(request: web.Request) -> web.StreamResponse:
        return web.json_response(
            await repo.count_cases(
                web_state(request).runtime.db, viewer(request), everyone=oversees(request)
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/cases",
        role="admin",
        summary="Open a case for a customer, optionally assigned",
        body={
            "type": "object",
            "required": ["customer_id", "kind"],
            "properties": {
                "customer_id": ID,
                "kind": {"type": "string", "enum": KINDS},
                "subject": {"type": "string", "maxLength": 500, "nullable": True},
                "assignee_id": NULLABLE_ID,
            },
        },
        response=OBJECT,
    )
    async def new_case(request: web.Request) -> web.StreamResponse:
        b = body(request)
        made = await repo.create_case(
            web_state(request).runtime.db,
            viewer(request),
            customer_id=b["customer_id"],
            kind=AttentionKind(b["kind"]),
            subject=b.get("subject"),
            assignee_id=b.get("assignee_id"),
        )
        return ok(made, 201)

    @route(
        api,
        "GET",
        "/api/v1/cases/suggestion",
        role="admin",
        summary="Who should take the next case (?kind=): operators with the routine, the lightest"
        " weighted load of open cases first (delinquent 1.5, active/assigned 1, suspended 0.25)",
        response=LIST,
    )
    async def suggestion(request: web.Request) -> web.StreamResponse:
        kind = _enum_query(request, "kind", KINDS)
        return ok(
            await repo.suggest_assignees(
                web_state(request).runtime.db, AttentionKind(kind) if kind else None
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/cases/assign",
        role="admin",
        summary="Assign or reassign cases to an operator (Reasignar casos); audited",
        body={
            "type": "object",
            "required": ["case_ids", "operator_id"],
            "properties": {
                "case_ids": {"type": "array", "items": ID, "maxItems": 1000},
                "operator_id": ID,
            },
        },
        response=LIST,
    )
    async def assign(request: web.Request) -> web.StreamResponse:
        b = body(request)
        return ok(
            await repo.assign(
                web_state(request).runtime.db, viewer(request), b["case_ids"], b["operator_id"]
            )
        )

    @route(api, "GET", "/api/v1/cases/{id}", summary="One case", response=OBJECT)
    async def case(request: web.Request) -> web.StreamResponse:
        return ok(
            await repo.get_case(
                web_state(request).runtime.db,
                viewer(request),
                path_id(request),
                everyone=oversees(request),
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/cases/{id}/status",
        summary="Move a case to another state (operators: their own cases)",
        body={
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"type": "string", "enum": STATUSES}},
        },
        response=OBJECT,
    )
    async def status(request: web.Request) -> web.StreamResponse:
        return ok(
            await repo.set_status(
                web_state(request).runtime.db,
                viewer(request),
                path_id(request),
                CaseStatus(body(request)["status"]),
                everyone=oversees(request),
            )
        )
