"""Personal records as each user may see them, data-subject exports, and the audit log search."""

from __future__ import annotations

from aiohttp import web

from cti.db.backoffice import personal
from cti.web.api import Api, HTTPProblem
from cti.web.backoffice.common import (
    LIST,
    OBJECT,
    ok,
    path_id,
    query_datetime,
    query_int,
    route,
    viewer,
)
from cti.web.state import web_state


def register(api: Api) -> None:
    """Declare the personal-data endpoints."""

    @route(
        api,
        "GET",
        "/api/v1/customers/{id}",
        summary="A customer with phones and contacts; personal fields masked without the"
        " personal_data permission (`masked`); every read is audited",
        response=OBJECT,
    )
    async def customer(request: web.Request) -> web.StreamResponse:
        purpose = request.query.get("purpose", "customer record")[:60]
        shown = await personal.read_customer(
            web_state(request).runtime.db, viewer(request), path_id(request), purpose=purpose
        )
        if shown is None:
            raise HTTPProblem(404, f"customer {request.match_info['id']} does not exist")
        return ok(shown)

    @route(
        api,
        "GET",
        "/api/v1/customers/{id}/export",
        summary="Export a customer's personal data (LGPD/GDPR); needs the personal_data"
        " permission; exports and refusals are audited",
        response=OBJECT,
    )
    async def export(request: web.Request) -> web.StreamResponse:
        allowed, record = await personal.export_customer(
            web_state(request).runtime.db, viewer(request), path_id(request)
        )
        if not allowed:
            raise HTTPProblem(403, "exporting personal data needs the personal_data permission")
        if record is None:
            raise HTTPProblem(404, f"customer {request.match_info['id']} does not exist")
        resp = ok(record)
        resp.headers["Content-Disposition"] = f'attachment; filename="customer-{record["id"]}.json"'
        return resp

    @route(
        api,
        "GET",
        "/api/v1/audit",
        role="admin",
        summary="Search the audit log, newest first: ?actor= &action= &subject= (a trailing *"
        " matches a prefix) &since= &until= (ISO dates or times) &limit= &before_id=",
        response=LIST,
    )
    async def audit(request: web.Request) -> web.StreamResponse:
        limit = query_int(request, "limit") or 100
        query = personal.AuditQuery(
            actor=request.query.get("actor") or None,
            action=request.query.get("action") or None,
            subject=request.query.get("subject") or None,
            since=query_datetime(request, "since"),
            until=query_datetime(request, "until"),
            limit=max(1, min(limit, 1000)),
            before_id=query_int(request, "before_id"),
        )
        return ok(await personal.search_audit(web_state(request).runtime.db, query))
