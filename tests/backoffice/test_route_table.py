"""Acceptance: every route of the application × every kind of user.

The table below names every route the aiohttp application registers (a route missing from it, or
one it names that is gone, fails the test) with the least role that may call it and a request to
make. Each route is called as anonymous, an operator with and one without personal_data, a
supervisor with and one without, and an admin (the demo data, plus a supervisor without the
permission), proving for each call:

* who may call it: below its role the guard refuses (401 signed out, 403 naming the role), at or
  above it the guard lets the request through;
* that no personal value of the database (customers', contacts', leads', suspects' and
  prospects' names, phones, tax ids, emails, addresses; messages' callers) reaches a user without
  personal_data in clear;
* that every answer showing personal data, in clear or masked, leaves an audit line
  (``personal.*``) of its reader.

The WebSocket frame types are walked too: every ``"type"`` a desk or wallboard frame is built
with in the code is declared with its personal fields.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa

from cti.app import RunningService
from cti.db.models import (
    AuditEvent,
    CallMessage,
    Contact,
    Customer,
    Lead,
    Phone,
    Prospect,
    Suspect,
)
from cti.db.users import add_user
from cti.domain.backoffice import mask_name, mask_phone, mask_tax_id
from cti.web.app import build_app
from cti.web.desk_service import DESK_FRAMES
from tests.web.conftest import Client

from .conftest import backoffice, backoffice_with, logins_for, seeded_database, seeded_template

__all__ = ["backoffice", "backoffice_with", "seeded_database", "seeded_template"]

ANYONE, OPERATOR, SUPERVISOR, ADMIN = 0, 1, 2, 3
MISSING = 999999
PERIOD = "from=2026-01-01&to=2026-03-02"


@dataclass(frozen=True)
class Call:
    least: int  # the least role that may call the route
    path: str  # the concrete path (and query) to call
    body: Any = None  # a JSON body to send, if any
    csv: bool = False  # the body is a CSV file
    key: bool = False  # the route takes an API key, never a person's session (least: ANYONE)


# (method, route as registered) -> the call to make. HEAD routes are called as GET's are.
TABLE: dict[tuple[str, str], Call] = {
    ("POST", "/api/v1/login"): Call(ANYONE, "/api/v1/login", {}),
    ("POST", "/api/v1/logout"): Call(OPERATOR, "/api/v1/logout"),  # called last, see below
    ("GET", "/api/v1/me"): Call(OPERATOR, "/api/v1/me"),
    ("GET", "/api/v1/i18n"): Call(ANYONE, "/api/v1/i18n"),
    ("PUT", "/api/v1/me/language"): Call(OPERATOR, "/api/v1/me/language", {"language": "es"}),
    ("GET", "/api/v1/live"): Call(SUPERVISOR, "/api/v1/live"),
    ("GET", "/api/v1/desk"): Call(OPERATOR, "/api/v1/desk"),
    ("GET", "/api/v1/desk/campaigns"): Call(OPERATOR, "/api/v1/desk/campaigns"),
    ("POST", "/api/v1/desk/signin"): Call(OPERATOR, "/api/v1/desk/signin", {"interface": "x"}),
    ("POST", "/api/v1/desk/signout"): Call(OPERATOR, "/api/v1/desk/signout"),
    ("POST", "/api/v1/desk/pause"): Call(OPERATOR, "/api/v1/desk/pause", {}),
    ("POST", "/api/v1/desk/resume"): Call(OPERATOR, "/api/v1/desk/resume"),
    ("POST", "/api/v1/desk/softphone"): Call(OPERATOR, "/api/v1/desk/softphone"),
    ("POST", "/api/v1/desk/recording/stop"): Call(OPERATOR, "/api/v1/desk/recording/stop"),
    ("GET", "/api/v1/recordings/{id}"): Call(OPERATOR, f"/api/v1/recordings/{MISSING}"),
    ("POST", "/api/v1/desk/pop/refresh"): Call(OPERATOR, "/api/v1/desk/pop/refresh"),
    ("GET", "/api/v1/scripts"): Call(SUPERVISOR, "/api/v1/scripts"),
    ("POST", "/api/v1/scripts"): Call(ADMIN, "/api/v1/scripts", {}),
    ("GET", "/api/v1/scripts/{id}"): Call(SUPERVISOR, f"/api/v1/scripts/{MISSING}"),
    ("PATCH", "/api/v1/scripts/{id}"): Call(ADMIN, f"/api/v1/scripts/{MISSING}", {}),
    ("GET", "/api/v1/desk/attentions/{id}/script"): Call(
        OPERATOR, f"/api/v1/desk/attentions/{MISSING}/script"
    ),
    ("PUT", "/api/v1/desk/attentions/{id}/script"): Call(
        OPERATOR, f"/api/v1/desk/attentions/{MISSING}/script", {"answers": {}}
    ),
    ("GET", "/api/v1/campaigns/{id}/script-report"): Call(
        SUPERVISOR, f"/api/v1/campaigns/{MISSING}/script-report"
    ),
    ("POST", "/api/v1/desk/answer"): Call(OPERATOR, "/api/v1/desk/answer"),
    ("POST", "/api/v1/desk/hangup"): Call(OPERATOR, "/api/v1/desk/hangup"),
    ("POST", "/api/v1/desk/transfer"): Call(OPERATOR, "/api/v1/desk/transfer", {}),
    ("GET", "/api/v1/desk/transfer"): Call(OPERATOR, "/api/v1/desk/transfer"),
    ("GET", "/api/v1/desk/transfer/targets"): Call(OPERATOR, "/api/v1/desk/transfer/targets"),
    ("POST", "/api/v1/desk/transfer/consult"): Call(
        OPERATOR, "/api/v1/desk/transfer/consult", {"kind": "number", "number": "5551234"}
    ),
    ("POST", "/api/v1/desk/transfer/complete"): Call(OPERATOR, "/api/v1/desk/transfer/complete"),
    ("POST", "/api/v1/desk/transfer/cancel"): Call(OPERATOR, "/api/v1/desk/transfer/cancel"),
    ("POST", "/api/v1/desk/transfer/blind"): Call(
        OPERATOR, "/api/v1/desk/transfer/blind", {"kind": "number", "number": "5551234"}
    ),
    ("POST", "/api/v1/desk/call/recover"): Call(OPERATOR, "/api/v1/desk/call/recover"),
    ("POST", "/api/v1/desk/clear"): Call(OPERATOR, "/api/v1/desk/clear"),
    ("POST", "/api/v1/desk/wrapup/finish"): Call(OPERATOR, "/api/v1/desk/wrapup/finish"),
    ("GET", "/api/v1/desk/pops/{pop}"): Call(OPERATOR, "/api/v1/desk/pops/nope"),
    ("POST", "/api/v1/desk/register"): Call(OPERATOR, "/api/v1/desk/register", {}),
    ("GET", "/api/v1/desk/attentions/{id}"): Call(OPERATOR, "/api/v1/desk/attentions/1"),
    ("PATCH", "/api/v1/desk/attentions/{id}"): Call(
        OPERATOR, f"/api/v1/desk/attentions/{MISSING}", {}
    ),
    ("POST", "/api/v1/desk/attentions/{id}/notes"): Call(
        OPERATOR, f"/api/v1/desk/attentions/{MISSING}/notes", {}
    ),
    ("GET", "/api/v1/desk/history/{party}/{id}"): Call(OPERATOR, "/api/v1/desk/history/customer/1"),
    ("GET", "/api/v1/desk/agents"): Call(SUPERVISOR, "/api/v1/desk/agents"),
    ("POST", "/api/v1/desk/dial"): Call(OPERATOR, "/api/v1/desk/dial", {}),
    ("GET", "/api/v1/desk/pending"): Call(OPERATOR, "/api/v1/desk/pending"),
    ("GET", "/api/v1/telesales/products"): Call(OPERATOR, "/api/v1/telesales/products"),
    ("GET", "/api/v1/telesales/quotes"): Call(OPERATOR, "/api/v1/telesales/quotes"),
    ("POST", "/api/v1/telesales/quotes"): Call(OPERATOR, "/api/v1/telesales/quotes", {}),
    ("GET", "/api/v1/telesales/quotes/{id}"): Call(OPERATOR, "/api/v1/telesales/quotes/1"),
    ("PATCH", "/api/v1/telesales/quotes/{id}"): Call(
        OPERATOR, f"/api/v1/telesales/quotes/{MISSING}", {}
    ),
    ("POST", "/api/v1/telesales/quotes/{id}/order"): Call(
        OPERATOR, f"/api/v1/telesales/quotes/{MISSING}/order", {}
    ),
    ("GET", "/api/v1/telesales/orders"): Call(OPERATOR, "/api/v1/telesales/orders"),
    ("POST", "/api/v1/telesales/orders"): Call(OPERATOR, "/api/v1/telesales/orders", {}),
    ("GET", "/api/v1/telesales/orders/{id}"): Call(OPERATOR, "/api/v1/telesales/orders/1"),
    ("PATCH", "/api/v1/telesales/orders/{id}"): Call(
        OPERATOR, f"/api/v1/telesales/orders/{MISSING}", {}
    ),
    ("POST", "/api/v1/telesales/orders/{id}/bill"): Call(
        SUPERVISOR, f"/api/v1/telesales/orders/{MISSING}/bill", {}
    ),
    ("GET", "/api/v1/collection/delinquents"): Call(OPERATOR, "/api/v1/collection/delinquents"),
    ("GET", "/api/v1/collection/customers/{id}/position"): Call(
        OPERATOR, "/api/v1/collection/customers/1/position"
    ),
    ("POST", "/api/v1/collection/promises"): Call(OPERATOR, "/api/v1/collection/promises", {}),
    ("POST", "/api/v1/collection/promises/{id}/kept"): Call(
        OPERATOR, f"/api/v1/collection/promises/{MISSING}/kept", {}
    ),
    ("POST", "/api/v1/collection/promises/{id}/broken"): Call(
        OPERATOR, f"/api/v1/collection/promises/{MISSING}/broken", {}
    ),
    ("POST", "/api/v1/collection/break-overdue"): Call(
        SUPERVISOR, "/api/v1/collection/break-overdue", {}
    ),
    ("POST", "/api/v1/collection/plans"): Call(OPERATOR, "/api/v1/collection/plans", {}),
    ("POST", "/api/v1/collection/plans/{id}/instalments/{seq}/paid"): Call(
        OPERATOR, f"/api/v1/collection/plans/{MISSING}/instalments/1/paid", {}
    ),
    ("POST", "/api/v1/collection/invoices/{id}/paid"): Call(
        SUPERVISOR, f"/api/v1/collection/invoices/{MISSING}/paid", {}
    ),
    ("GET", "/api/v1/cases"): Call(OPERATOR, "/api/v1/cases"),
    ("GET", "/api/v1/cases/counts"): Call(OPERATOR, "/api/v1/cases/counts"),
    ("POST", "/api/v1/cases"): Call(ADMIN, "/api/v1/cases", {}),
    ("GET", "/api/v1/cases/suggestion"): Call(ADMIN, "/api/v1/cases/suggestion"),
    ("POST", "/api/v1/cases/assign"): Call(ADMIN, "/api/v1/cases/assign", {}),
    ("GET", "/api/v1/cases/{id}"): Call(OPERATOR, "/api/v1/cases/1"),
    ("POST", "/api/v1/cases/{id}/status"): Call(OPERATOR, f"/api/v1/cases/{MISSING}/status", {}),
    ("GET", "/api/v1/messages"): Call(OPERATOR, "/api/v1/messages"),
    ("POST", "/api/v1/messages"): Call(OPERATOR, "/api/v1/messages", {}),
    ("GET", "/api/v1/messages/{id}"): Call(OPERATOR, "/api/v1/messages/1"),
    ("PATCH", "/api/v1/messages/{id}"): Call(OPERATOR, f"/api/v1/messages/{MISSING}", {}),
    ("POST", "/api/v1/messages/{id}/notes"): Call(
        OPERATOR, f"/api/v1/messages/{MISSING}/notes", {}
    ),
    ("POST", "/api/v1/messages/{id}/finalize"): Call(
        OPERATOR, f"/api/v1/messages/{MISSING}/finalize", {}
    ),
    ("POST", "/api/v1/messages/{id}/postpone"): Call(
        OPERATOR, f"/api/v1/messages/{MISSING}/postpone", {}
    ),
    ("POST", "/api/v1/messages/{id}/attention"): Call(
        OPERATOR, f"/api/v1/messages/{MISSING}/attention", {}
    ),
    ("POST", "/api/v1/suspects"): Call(OPERATOR, "/api/v1/suspects", {}),
    ("GET", "/api/v1/suspects/{id}"): Call(OPERATOR, "/api/v1/suspects/1"),
    ("GET", "/api/v1/prospects/{id}"): Call(OPERATOR, "/api/v1/prospects/1"),
    ("POST", "/api/v1/suspects/{id}/convert"): Call(
        OPERATOR, f"/api/v1/suspects/{MISSING}/convert", {}
    ),
    **{
        (method, f"/api/v1/config/{table}{suffix}"): Call(
            least, f"/api/v1/config/{table}{concrete}", body
        )
        for table in (
            "closing-reasons",
            "pause-reasons",
            "attention-groups",
            "ticket-subjects",
            "ticket-occurrences",
            "ticket-actions",
        )
        for method, suffix, concrete, least, body in (
            ("GET", "", "", OPERATOR, None),
            ("POST", "", "", ADMIN, {}),
            ("PATCH", "/{id}", f"/{MISSING}", ADMIN, {}),
        )
    },
    **{
        (method, f"/api/v1/config/{table}{suffix}"): Call(
            least, f"/api/v1/config/{table}{concrete}", body
        )
        for table in ("message-situations", "message-types")
        for method, suffix, concrete, least, body in (
            ("GET", "", "", OPERATOR, None),
            ("PUT", "/{code}", "/Z", ADMIN, {}),
            ("DELETE", "/{code}", "/ZZ", ADMIN, None),
        )
    },
    ("GET", "/api/v1/nonconformities"): Call(SUPERVISOR, "/api/v1/nonconformities"),
    ("GET", "/api/v1/pbx/warnings"): Call(ADMIN, "/api/v1/pbx/warnings"),
    ("GET", "/api/v1/config/attention-statuses"): Call(
        OPERATOR, "/api/v1/config/attention-statuses"
    ),
    ("PUT", "/api/v1/config/attention-statuses/{status}"): Call(
        ADMIN, "/api/v1/config/attention-statuses/nope", {}
    ),
    ("GET", "/api/v1/config/required-fields"): Call(OPERATOR, "/api/v1/config/required-fields"),
    ("PUT", "/api/v1/config/required-fields/{form}"): Call(
        ADMIN, "/api/v1/config/required-fields/nope", {}
    ),
    ("GET", "/api/v1/customers/{id}"): Call(OPERATOR, "/api/v1/customers/1"),
    ("GET", "/api/v1/customers/{id}/export"): Call(OPERATOR, "/api/v1/customers/2/export"),
    ("GET", "/api/v1/audit"): Call(ADMIN, "/api/v1/audit?action=personal.*"),
    ("GET", "/api/v1/users/directory"): Call(OPERATOR, "/api/v1/users/directory"),
    ("GET", "/api/v1/users"): Call(ADMIN, "/api/v1/users"),
    ("POST", "/api/v1/users"): Call(ADMIN, "/api/v1/users", {}),
    ("GET", "/api/v1/users/{id}"): Call(ADMIN, "/api/v1/users/1"),
    ("PATCH", "/api/v1/users/{id}"): Call(ADMIN, f"/api/v1/users/{MISSING}", {}),
    ("POST", "/api/v1/users/{id}/password"): Call(ADMIN, f"/api/v1/users/{MISSING}/password", {}),
    ("POST", "/api/v1/users/{id}/deactivate"): Call(ADMIN, f"/api/v1/users/{MISSING}/deactivate"),
    ("POST", "/api/v1/users/{id}/reactivate"): Call(ADMIN, f"/api/v1/users/{MISSING}/reactivate"),
    ("GET", "/api/v1/customers"): Call(OPERATOR, "/api/v1/customers?q=C00"),
    ("GET", "/api/v1/campaigns"): Call(SUPERVISOR, "/api/v1/campaigns"),
    ("GET", "/api/v1/campaigns/{id}"): Call(SUPERVISOR, "/api/v1/campaigns/1"),
    ("POST", "/api/v1/campaigns"): Call(SUPERVISOR, "/api/v1/campaigns", {}),
    ("PATCH", "/api/v1/campaigns/{id}"): Call(SUPERVISOR, f"/api/v1/campaigns/{MISSING}", {}),
    ("POST", "/api/v1/campaigns/{id}/leads"): Call(
        SUPERVISOR, f"/api/v1/campaigns/{MISSING}/leads", "phone\n+12025550188\n", csv=True
    ),
    **{
        ("POST", f"/api/v1/campaigns/{{id}}/{verb}"): Call(
            SUPERVISOR, f"/api/v1/campaigns/{MISSING}/{verb}"
        )
        for verb in ("start", "pause", "stop")
    },
    ("PATCH", "/api/v1/campaigns/{id}/pacing"): Call(
        SUPERVISOR, f"/api/v1/campaigns/{MISSING}/pacing", {}
    ),
    ("POST", "/api/v1/campaigns/{id}/collection-leads"): Call(
        SUPERVISOR, f"/api/v1/campaigns/{MISSING}/collection-leads", {}
    ),
    ("POST", "/api/v1/dnc"): Call(SUPERVISOR, "/api/v1/dnc", {}),
    ("POST", "/api/v1/campaigns/{id}/preview/next"): Call(
        OPERATOR, f"/api/v1/campaigns/{MISSING}/preview/next"
    ),
    ("POST", "/api/v1/campaigns/{id}/preview/{lead}/dial"): Call(
        OPERATOR, f"/api/v1/campaigns/{MISSING}/preview/1/dial"
    ),
    ("POST", "/api/v1/campaigns/{id}/preview/{lead}/skip"): Call(
        OPERATOR, f"/api/v1/campaigns/{MISSING}/preview/1/skip"
    ),
    ("POST", "/api/v1/campaigns/{id}/leads/{lead}/callback"): Call(
        OPERATOR, f"/api/v1/campaigns/{MISSING}/leads/1/callback", {}
    ),
    ("POST", "/api/v1/campaigns/{id}/leads/{lead}/postpone"): Call(
        OPERATOR, f"/api/v1/campaigns/{MISSING}/leads/1/postpone", {}
    ),
    ("GET", "/api/v1/dialer/calls/{linkedid}"): Call(OPERATOR, "/api/v1/dialer/calls/1.2"),
    ("GET", "/api/v1/supervisor/wallboard"): Call(SUPERVISOR, "/api/v1/supervisor/wallboard"),
    ("GET", "/api/v1/supervisor/lists"): Call(SUPERVISOR, "/api/v1/supervisor/lists"),
    ("POST", "/api/v1/supervisor/spy"): Call(SUPERVISOR, "/api/v1/supervisor/spy", {}),
    ("POST", "/api/v1/supervisor/spy/stop"): Call(SUPERVISOR, "/api/v1/supervisor/spy/stop", {}),
    ("PUT", "/api/v1/supervisor/phone"): Call(SUPERVISOR, "/api/v1/supervisor/phone", {}),
    ("POST", "/api/v1/supervisor/pause"): Call(SUPERVISOR, "/api/v1/supervisor/pause", {}),
    ("POST", "/api/v1/supervisor/resume"): Call(SUPERVISOR, "/api/v1/supervisor/resume", {}),
    ("POST", "/api/v1/supervisor/attentions/reassign"): Call(
        SUPERVISOR, "/api/v1/supervisor/attentions/reassign", {}
    ),
    ("GET", "/api/v1/reports"): Call(SUPERVISOR, "/api/v1/reports"),
    ("GET", "/api/v1/reports/{name}"): Call(
        SUPERVISOR, f"/api/v1/reports/contact-frequency?{PERIOD}"
    ),
    ("GET", "/api/v1/webhooks"): Call(ADMIN, "/api/v1/webhooks"),
    ("POST", "/api/v1/webhooks"): Call(ADMIN, "/api/v1/webhooks", {}),
    ("PATCH", "/api/v1/webhooks/{id}"): Call(ADMIN, f"/api/v1/webhooks/{MISSING}", {}),
    ("DELETE", "/api/v1/webhooks/{id}"): Call(ADMIN, f"/api/v1/webhooks/{MISSING}"),
    ("GET", "/api/v1/webhooks/deliveries"): Call(ADMIN, "/api/v1/webhooks/deliveries"),
    ("POST", "/api/v1/webhooks/deliveries/{id}/replay"): Call(
        ADMIN, f"/api/v1/webhooks/deliveries/{MISSING}/replay"
    ),
    ("GET", "/api/v1/api-keys"): Call(ADMIN, "/api/v1/api-keys"),
    ("POST", "/api/v1/api-keys"): Call(ADMIN, "/api/v1/api-keys", {}),
    ("DELETE", "/api/v1/api-keys/{id}"): Call(ADMIN, f"/api/v1/api-keys/{MISSING}"),
    ("GET", "/api/v1/events/stream"): Call(ANYONE, "/api/v1/events/stream", key=True),
    ("POST", "/api/v1/integrations/calls"): Call(
        ANYONE, "/api/v1/integrations/calls", {"agent": "ana", "number": "5551234"}, key=True
    ),
    ("GET", "/api/v1/integrations/customers"): Call(
        ANYONE, "/api/v1/integrations/customers?phone=5551234", key=True
    ),
    ("GET", "/api/v1/openapi.json"): Call(ANYONE, "/api/v1/openapi.json"),
    ("GET", "/ws/desk"): Call(OPERATOR, "/ws/desk"),
    ("GET", "/ws/wallboard"): Call(SUPERVISOR, "/ws/wallboard"),
    ("GET", "/healthz"): Call(ANYONE, "/healthz"),
    ("GET", "/"): Call(ANYONE, "/"),
    ("GET", "/static"): Call(ANYONE, "/static/index.html"),
}
# More reports than the table's one: each of them is read by every role too.
REPORTS = ("productivity", "dispositions", "critical", "queues", "campaigns", "areas")
ROLES = ("anonymous", "ana", "diego", "sofia", "sam", "admin")
LEVEL = {"anonymous": ANYONE, "ana": OPERATOR, "diego": OPERATOR, "sofia": SUPERVISOR}
LEVEL |= {"sam": SUPERVISOR, "admin": ADMIN}
PERSONAL_DATA = {"ana", "sofia", "admin"}  # diego and sam have no personal_data permission


def _routes(service: RunningService) -> set[tuple[str, str]]:
    app = build_app(service.runtime)  # the same routes as the running one's
    found = set()
    for route in app.router.routes():
        method = "GET" if route.method == "HEAD" else route.method
        found.add((method, route.resource.canonical if route.resource else ""))
    return found


async def _personal_values(service: RunningService) -> tuple[set[str], set[str]]:
    """Every personal value in the database in clear, and the masked forms of them."""
    clear: set[str] = set()
    async with service.runtime.db.sessions() as s:
        for name, tax_id, email, address in await s.execute(
            sa.select(Customer.name, Customer.tax_id, Customer.email, Customer.address)
        ):
            clear.update(v for v in (name, tax_id, email, address) if v)
        for name, email in await s.execute(sa.select(Contact.name, Contact.email)):
            clear.update(v for v in (name, email) if v)
        for model in (Suspect, Prospect):
            clear.update(n for (n,) in await s.execute(sa.select(model.name)) if n)
        for phone, raw in await s.execute(sa.select(Phone.phone, Phone.raw)):
            clear.update(v for v in (phone, raw) if v)
        for name, phone in await s.execute(sa.select(Lead.name, Lead.phone)):
            clear.update(v for v in (name, phone) if v)
        for phone, tax_id in await s.execute(
            sa.select(CallMessage.from_phone, CallMessage.from_tax_id)
        ):
            clear.update(v for v in (phone, tax_id) if v)
    clear = {v for v in clear if len(v) >= 5}
    masked = set()
    for value in clear:
        digits = sum(ch.isdigit() for ch in value)
        for form in (mask_name(value), mask_phone(value), mask_tax_id(value)):
            if "*" in form and (digits > 5 or not any(ch.isdigit() for ch in form)):
                masked.add(form)
    return clear, masked


async def _audit_lines(service: RunningService, actor: str) -> int:
    async with service.runtime.db.sessions() as s:
        return int(
            await s.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.actor == actor, AuditEvent.action.like("personal.%"))
            )
            or 0
        )


async def _call(client: Client, method: str, call: Call) -> tuple[int, str]:
    url = f"{client.base}{call.path.lstrip('/')}"
    headers = {"X-CSRF-Token": client.csrf} if client.csrf else {}
    if call.path.startswith("/ws/"):
        try:
            ws = await client.http.ws_connect(url, headers={"Origin": client.base.rstrip("/")})
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status, exc.message
        text = json.dumps(await ws.receive_json(timeout=5))
        await ws.close()
        return 101, text
    kw: dict[str, Any] = {"headers": headers, "allow_redirects": False}
    if call.csv:
        kw["data"] = call.body
        headers["Content-Type"] = "text/csv"
    elif call.body is not None:
        kw["json"] = call.body
    async with client.http.request(method, url, **kw) as resp:
        return resp.status, await resp.text()


async def test_every_route_for_every_role(backoffice: RunningService) -> None:
    async with logins_for(backoffice) as login, aiohttp.ClientSession() as anonymous:
        await _walk(backoffice, login, Client(http=anonymous, base=backoffice.url))


async def _walk(service: RunningService, login: Any, anonymous: Client) -> None:
    routes = _routes(service)
    assert routes - set(TABLE) == set(), "routes missing from the table"
    assert set(TABLE) - routes == set(), "routes in the table that are gone"
    await add_user(
        service.runtime.db,
        username="sam",
        password="sam-secret-42",
        role="supervisor",
        full_name="Sam Supervisor",
    )
    clear, masked = await _personal_values(service)
    assert len(clear) > 50 and masked

    calls = [
        (method, call)
        for (method, _), call in sorted(TABLE.items())
        if call.path != "/api/v1/logout"
    ]
    calls += [("GET", Call(SUPERVISOR, f"/api/v1/reports/{r}?{PERIOD}")) for r in REPORTS]
    calls.append(("POST", TABLE[("POST", "/api/v1/logout")]))  # last: it ends the session
    requests = personal_reads = 0
    problems: list[str] = []
    for role in ROLES:
        if role == "anonymous":
            client = anonymous
        else:
            client = await login(role, "sam-secret-42" if role == "sam" else None)
        for method, call in calls:
            before = await _audit_lines(service, role)
            status, text = await _call(client, method, call)
            requests += 1
            where = f"{role} {method} {call.path} -> {status}"
            if call.key:  # a session, whoever's, never opens it: only an API key does
                if status != 401 or "API key" not in text:
                    problems.append(f"{where}: expected 401 asking for an API key: {text[:120]}")
                continue
            # Who may call it.
            if LEVEL[role] < call.least:
                want = 401 if role == "anonymous" else 403
                guard = "needs the role" in text or call.path.startswith("/ws/")
                if status != want or (want == 403 and not guard):
                    problems.append(f"{where}: expected the guard's {want}: {text[:120]}")
                continue
            if (status == 401 and call.path != "/api/v1/login") or "needs the role" in text:
                problems.append(f"{where}: refused by the guard: {text[:120]}")
            if status >= 500:
                problems.append(f"{where}: {text[:200]}")
            # No personal value in clear without the permission.
            shown_clear = sorted(v for v in clear if v in text)
            if role not in PERSONAL_DATA and shown_clear:
                problems.append(f"{where}: shows {shown_clear[:3]} in clear")
            # Every personal read audited.
            shown = shown_clear or [v for v in masked if v in text]
            if shown and role != "anonymous":
                personal_reads += 1
                if await _audit_lines(service, role) <= before:
                    problems.append(f"{where}: shows {shown[:2]} but wrote no audit line")
    assert problems == [], "\n".join(problems)
    # For the record (the issue asks for the counts).
    print(
        f"\n{len(routes)} routes x {len(ROLES)} roles: {requests} requests, {personal_reads} personal reads"
    )
    assert personal_reads > 20


# --- the WebSocket frame types -----------------------------------------------------------------

WEB = Path(__file__).resolve().parents[2] / "cti" / "web"
_TYPE = re.compile(r'"type":\s*"([a-z_]+)"')


def test_every_desk_and_wallboard_frame_type_is_declared() -> None:
    # The desk's modules, the sign-in's (taken_over) and the sockets' (pong, error).
    desk_sources = [*WEB.glob("desk*.py"), WEB / "session_api.py", WEB / "sockets.py"]
    built = {t for path in desk_sources for t in _TYPE.findall(path.read_text())}
    built -= {"object", "string", "integer", "boolean", "array", "number", "null"}  # schemas
    built -= {"ping", "resync"}  # what a client sends
    assert built, "no frame type found"
    assert built - set(DESK_FRAMES) == set(), "desk frame types with no declared personal fields"
    wallboard = {
        t
        for name in ("supervisor_stream.py", "sockets.py")
        for t in _TYPE.findall((WEB / name).read_text())
    }
    # The wallboard's own frame is masked by WALLBOARD_SPEC; pong and error carry nothing.
    assert wallboard - {"ping", "resync"} == {"wallboard", "pong", "error"}, wallboard
    print(f"\nframe types: {len(built)} desk, 3 wallboard")
