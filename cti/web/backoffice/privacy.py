"""Personal records as each user may see them, data-subject exports, and the audit log search."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import Field, RootModel

from cti.db.backoffice import personal
from cti.i18n import _
from cti.web.api import Api, HTTPProblem, Route, RouteMaker
from cti.web.backoffice.common import TAG, ok, path_id, query_datetime, query_int, viewer
from cti.web.models import Answer
from cti.web.state import web_state

route = RouteMaker(TAG, "operator")


# --- answers ------------------------------------------------------------------------------------


class CustomerPhone(Answer):
    id: int
    phone: str
    raw: str | None
    label: str | None


class CustomerContact(Answer):
    id: int
    name: str
    email: str | None
    position: str | None
    phones: list[CustomerPhone]


class CustomerRecord(Answer):
    """A customer with its phones and its contacts (and theirs)."""

    id: int
    code: str
    name: str
    tax_id: str | None
    email: str | None
    address: str | None
    region: str | None
    timezone: str | None
    phones: list[CustomerPhone]
    contacts: list[CustomerContact]


class ScriptAnswer(Answer):
    question: str = Field(description="the question's id in the script")
    text: str = Field(description="the question as it was asked (that version of the script)")
    answer: str | list[str]


class ScriptAnswerSet(Answer):
    """The answers given to a campaign's script during one attention."""

    attention_id: int
    campaign: str | None
    saved_at: datetime
    answers: list[ScriptAnswer]


class CustomerExport(CustomerRecord):
    """Everything cti holds of a customer as a person: the record, its phones and contacts, and
    the answers they gave to campaign scripts."""

    script_answers: list[ScriptAnswerSet]


class CustomerShown(CustomerRecord):
    """A customer as the viewer may see it: personal fields masked without personal_data."""

    masked: bool


class AuditLine(Answer):
    id: int
    at: datetime
    actor: str | None = Field(description="who did it (null: the service itself)")
    action: str
    subject: str | None = Field(description="what it was about: customer:12, user:3, ...")
    details: dict[str, Any] | None


class AuditLines(RootModel[list[AuditLine]]):
    """Audit lines, newest first."""


# --- handlers -----------------------------------------------------------------------------------


async def customer(request: web.Request) -> web.StreamResponse:
    # The audit's purpose is the server's, never the request's (a ?purpose= is ignored).
    shown = await personal.read_customer(
        web_state(request).runtime.db,
        viewer(request),
        path_id(request),
        purpose="customer record",
    )
    if shown is None:
        raise HTTPProblem(404, _("customer {ident} does not exist"), ident=request.match_info["id"])
    return ok(shown)


async def export(request: web.Request) -> web.StreamResponse:
    allowed, record = await personal.export_customer(
        web_state(request).runtime.db, viewer(request), path_id(request)
    )
    if not allowed:
        raise HTTPProblem(403, _("exporting personal data needs the personal_data permission"))
    if record is None:
        raise HTTPProblem(404, _("customer {ident} does not exist"), ident=request.match_info["id"])
    resp = ok(record)
    resp.headers["Content-Disposition"] = f'attachment; filename="customer-{record["id"]}.json"'
    return resp


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


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/customers/{id}",
        customer,
        "A customer with phones and contacts; personal fields masked without the"
        " personal_data permission (`masked`); every read is audited",
        CustomerShown,
    ),
    route(
        "GET",
        "/api/v1/customers/{id}/export",
        export,
        "Export a customer's personal data (LGPD/GDPR); needs the personal_data"
        " permission; exports and refusals are audited",
        CustomerExport,
    ),
    route(
        "GET",
        "/api/v1/audit",
        audit,
        "Search the audit log, newest first: ?actor= &action= &subject= (a trailing *"
        " matches a prefix) &since= &until= (ISO dates or times) &limit= &before_id=",
        AuditLines,
        role="admin",
    ),
)


def register(api: Api) -> None:
    """Declare the personal-data endpoints."""
    api.add(ROUTES)
