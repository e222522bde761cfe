"""What service accounts call with an API key: the event stream and click-to-call.

A key goes in ``Authorization: Bearer cti_…``; it is read again on every request (a revoked key is
refused from the next request on, and an open stream is closed within a second). A person's
session never opens these routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated

from aiohttp import web
from pydantic import Field

from cti.db import apikeys, outbox
from cti.db.audit import audit
from cti.db.desk.dialing import DialTarget
from cti.domain.desk_dial import dial_number
from cti.domain.integrations import EventType, Scope, event_types, parse_key
from cti.errors import Refused, UserInputError
from cti.i18n import _
from cti.web.api import Body, HTTPProblem, Route, RouteMaker, body_of
from cti.web.desk_dial import DeskDialer
from cti.web.desk_service import DESK_SERVICE
from cti.web.models import Answer
from cti.web.state import web_state

route = RouteMaker("integrations", None)


class Doorbell:
    """Rung when an outbox event is committed (by any instance, over the bus): every stream
    waiting looks at once. A stream takes :meth:`armed` before it reads the table, so an event
    committed between its read and its wait still wakes it."""

    def __init__(self) -> None:
        self._bell = asyncio.Event()

    def armed(self) -> asyncio.Event:
        return self._bell

    def ring(self) -> None:
        self._bell.set()
        self._bell = asyncio.Event()


# Set when the app shuts down: open streams end (their readers resume elsewhere or later).
STOPPING = web.AppKey("cti.integrations.stopping", asyncio.Event)
OUTBOX_BELL = web.AppKey("cti.integrations.outbox_bell", Doorbell)

# How often an idle stream looks anyway (a bus message lost while its connection was opened
# again), checks its key, and says it is alive.
STREAM_POLL = 0.5
KEY_CHECK = 0.5
KEEPALIVE = 15.0


async def api_caller(request: web.Request, scope: Scope) -> apikeys.Caller:
    """The service account of the request's API key, if the key is live and has ``scope``.

    Raises:
        HTTPProblem: 401 without a key, or with one that is unknown or revoked; 403 when the key
            lacks the scope (named).
    """
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not token:
        raise HTTPProblem(
            401, _("this needs an API key: Authorization: Bearer cti_..."), "Authorization"
        )
    parsed = parse_key(token)
    rt = web_state(request).runtime
    found = None if parsed is None else await apikeys.caller_of(rt.db, *parsed, rt.clock.now())
    if found is None:
        raise HTTPProblem(401, _("unknown or revoked API key"), "Authorization")
    if scope.value not in found.scopes:
        raise HTTPProblem(
            403, _("this API key lacks the scope {value}"), "scope", value=scope.value
        )
    return found


# --- the event stream (Server-Sent Events) ------------------------------------------------------


def _resume_from(request: web.Request) -> int | None:
    text = request.headers.get("Last-Event-ID") or request.query.get("last_event_id") or ""
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise UserInputError("Last-Event-ID", _("expected an event id (a whole number)"))
    return int(text)


def _types_of(request: web.Request) -> tuple[EventType, ...]:
    """``?types=call.ended,attention.closed``: only those (all when not given)."""
    text = request.query.get("types", "")
    if not text:
        return ()
    try:
        return event_types([t.strip() for t in text.split(",")])
    except UserInputError as exc:
        raise UserInputError("types", exc.problem) from None


async def stream(request: web.Request) -> web.StreamResponse:
    caller = await api_caller(request, Scope.EVENTS_READ)
    db = web_state(request).runtime.db
    types = _types_of(request)
    after = _resume_from(request)
    if after is None:  # a new reader: from now on
        after = await outbox.last_event_id(db)
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await resp.prepare(request)
    # A reader that went away resumes with Last-Event-ID.
    with contextlib.suppress(ConnectionResetError):
        await _send_events(request, resp, caller, after, types)
    return resp


async def _send_events(
    request: web.Request,
    resp: web.StreamResponse,
    caller: apikeys.Caller,
    after: int,
    types: tuple[EventType, ...],
) -> None:
    db = web_state(request).runtime.db
    stopping = request.app[STOPPING]
    bell = request.app[OUTBOX_BELL]
    await resp.write(b"retry: 2000\n\n")
    loop = asyncio.get_running_loop()
    checked = said = loop.time()
    while not stopping.is_set():
        rung = bell.armed()
        events = await outbox.events_after(db, after, types)
        for event in events:
            text = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
            await resp.write(
                f"id: {event['id']}\nevent: {event['type']}\ndata: {text}\n\n".encode()
            )
            after = int(str(event["id"]))
        now = loop.time()
        if now - checked >= KEY_CHECK:
            checked = now
            if not await apikeys.still_live(db, caller.id):
                await resp.write(b'event: error\ndata: {"error": "the API key was revoked"}\n\n')
                return
        if events:
            said = now
            continue
        if now - said >= KEEPALIVE:
            said = now
            await resp.write(b": keep-alive\n\n")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STREAM_POLL):
                await rung.wait()  # rung by a new event, or by the app stopping


# --- click-to-call ------------------------------------------------------------------------------


class CallBody(Body):
    """Who calls, and whom."""

    agent: Annotated[str, Field(min_length=1, max_length=150)] = Field(
        description="the username of an operator signed in at a desk"
    )
    number: Annotated[str, Field(min_length=1, max_length=40)] = Field(
        description="the number to call (checked and normalised as the desk's dial pad does)"
    )


class CallStarted(Answer):
    """The agent's phone is being rung; the number follows once they answer."""

    agent: str
    number: str = Field(description="the number dialled, normalised")


async def start_call(request: web.Request) -> web.StreamResponse:
    caller = await api_caller(request, Scope.CALLS_START)
    body = body_of(request, CallBody)
    rt = web_state(request).runtime
    number = dial_number(body.number, rt.settings.telephony.default_region)
    desk = request.app[DESK_SERVICE]
    agent = next((a for a in desk.agents() if a.user.username == body.agent), None)
    if agent is None:
        raise Refused(_("{agent} is not signed in at a desk"), "agent", agent=body.agent[:40])
    await DeskDialer(rt, desk).dial(agent, DialTarget(phone=number, subject=f"phone:{number}"))
    await audit(
        rt.db,
        f"api-key:{caller.name}",
        "integration.call",
        f"phone:{number}",
        {"agent": agent.user.username},
    )
    return web.json_response({"agent": agent.user.username, "number": number})


# --- customers ----------------------------------------------------------------------------------


class IntegrationCustomer(Answer):
    id: int
    code: str
    name: str
    tax_id: str | None
    email: str | None


class IntegrationCustomers(Answer):
    """The customers a number belongs to (theirs or a contact's); each reading audited."""

    phone: str = Field(description="the number as looked up, normalised")
    customers: list[IntegrationCustomer]


async def customers(request: web.Request) -> web.StreamResponse:
    caller = await api_caller(request, Scope.CUSTOMERS_READ)
    rt = web_state(request).runtime
    text = request.query.get("phone", "").strip()
    if not text:
        raise UserInputError("phone", _("give the number to look up (?phone=...)"))
    try:
        phone = dial_number(text, rt.settings.telephony.default_region)
    except UserInputError as exc:
        raise UserInputError("phone", exc.problem) from None
    rows = await apikeys.customers_by_phone(rt.db, phone, caller)
    found = IntegrationCustomers(
        phone=phone, customers=[IntegrationCustomer.model_validate(r) for r in rows]
    )
    return web.json_response(text=found.model_dump_json())


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/events/stream",
        stream,
        "The events as Server-Sent Events (text/event-stream), each with its id; resumes after"
        " Last-Event-ID with nothing lost or repeated, else starts from now; ?types=a,b for only"
        " those. Needs an API key"
        " with events:read (Authorization: Bearer)",
        None,
        media_type="text/event-stream",
    ),
    route(
        "POST",
        "/api/v1/integrations/calls",
        start_call,
        "Click-to-call for a CRM: ring the agent's phone, then the number, with the desk's rules"
        " (the agent must be able to take a call; do-not-call lists and calling hours apply:"
        " 409 saying why). Needs an API key with calls:start (Authorization: Bearer)",
        CallStarted,
        body=CallBody,
    ),
    route(
        "GET",
        "/api/v1/integrations/customers",
        customers,
        "The customers a number belongs to (?phone=), for a CRM's screen; each reading is"
        " audited as the key's. Needs an API key with customers:read (Authorization: Bearer)",
        IntegrationCustomers,
    ),
)

__all__ = ["ROUTES", "STOPPING", "api_caller"]
