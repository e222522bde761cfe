"""Incoming-call message endpoints (seed 004): register, list, notes, finalize, postpone, act."""

from __future__ import annotations

from aiohttp import web

from cti.db.backoffice import messages as repo
from cti.domain.model import AttentionKind
from cti.web.api import Api
from cti.web.backoffice.common import (
    LIST,
    NULLABLE_ID,
    OBJECT,
    body,
    ok,
    path_id,
    query_bool,
    query_datetime,
    route,
    viewer,
)
from cti.web.state import web_state

CODE = {"type": "string", "minLength": 2, "maxLength": 2}
TEXT = {"type": "string", "maxLength": 200, "nullable": True}
FROM = {
    "from_customer_id": NULLABLE_ID,
    "from_contact_id": NULLABLE_ID,
    "from_phone": TEXT,
    "from_tax_id": TEXT,
    "from_serial": TEXT,
    "from_code": TEXT,
}
TO = {"to_user_id": NULLABLE_ID, "to_group_id": NULLABLE_ID}


def register(api: Api) -> None:
    """Declare the call-message endpoints."""

    @route(
        api,
        "GET",
        "/api/v1/messages",
        summary="Messages, newest first: ?pending=true (not finalized, whatever the situation),"
        " ?mine=true (to me or my group), ?due_before= (hide those postponed past it)",
        response=LIST,
    )
    async def messages(request: web.Request) -> web.StreamResponse:
        return ok(
            await repo.list_messages(
                web_state(request).runtime.db,
                viewer(request),
                pending=query_bool(request, "pending"),
                mine=bool(query_bool(request, "mine")),
                due_before=query_datetime(request, "due_before"),
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/messages",
        summary="Register a call that could not be handled now; date, time and user are the"
        " server's; `from` needs one of customer, contact, phone, tax id, serial, code;"
        " `to` a user or a group",
        body={
            "type": "object",
            "required": ["description"],
            "properties": {
                "situation_code": {**CODE, "nullable": True},
                "type_code": {**CODE, "nullable": True},
                **FROM,
                **TO,
                "description": {"type": "string", "minLength": 1, "maxLength": 4000},
            },
        },
        response=OBJECT,
    )
    async def new_message(request: web.Request) -> web.StreamResponse:
        values = {k: v for k, v in body(request).items() if v not in (None, "")}
        rt = web_state(request).runtime
        made = await repo.create_message(
            rt.db, viewer(request), values, region=rt.settings.telephony.default_region
        )
        return ok(made, 201)

    @route(api, "GET", "/api/v1/messages/{id}", summary="A message with its notes", response=OBJECT)
    async def message(request: web.Request) -> web.StreamResponse:
        return ok(
            await repo.get_message(web_state(request).runtime.db, viewer(request), path_id(request))
        )

    @route(
        api,
        "PATCH",
        "/api/v1/messages/{id}",
        summary="Change a pending message's situation, type, description or recipient; this"
        " never finalizes it, and its stamps cannot be changed",
        body={
            "type": "object",
            "properties": {
                "situation_code": CODE,
                "type_code": CODE,
                "description": {"type": "string", "minLength": 1, "maxLength": 4000},
                **TO,
            },
        },
        response=OBJECT,
    )
    async def change(request: web.Request) -> web.StreamResponse:
        return ok(
            await repo.update_message(
                web_state(request).runtime.db, viewer(request), path_id(request), body(request)
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/messages/{id}/notes",
        summary="Add a note (date, time and author set by the server)",
        body={
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 4000}},
        },
        response=OBJECT,
    )
    async def note(request: web.Request) -> web.StreamResponse:
        return ok(
            await repo.add_note(
                web_state(request).runtime.db,
                viewer(request),
                path_id(request),
                body(request)["text"],
            ),
            201,
        )

    @route(
        api,
        "POST",
        "/api/v1/messages/{id}/finalize",
        summary="Finalize: stamps date, time and user; sets a non-pending situation (the one"
        " given, else the first non-pending one)",
        body={"type": "object", "properties": {"situation_code": {**CODE, "nullable": True}}},
        response=OBJECT,
    )
    async def finalize(request: web.Request) -> web.StreamResponse:
        return ok(
            await repo.finalize(
                web_state(request).runtime.db,
                viewer(request),
                path_id(request),
                situation_code=body(request).get("situation_code"),
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/messages/{id}/postpone",
        summary="Postpone to a new date and time, with a reason and a (new) user or group",
        body={
            "type": "object",
            "required": ["until", "reason"],
            "properties": {
                "until": {"type": "string", "format": "date-time"},
                "reason": {"type": "string", "minLength": 1, "maxLength": 1000},
                **TO,
            },
        },
        response=OBJECT,
    )
    async def postpone(request: web.Request) -> web.StreamResponse:
        b = body(request)
        return ok(
            await repo.postpone(
                web_state(request).runtime.db,
                viewer(request),
                path_id(request),
                until=b["until"],
                reason=b["reason"],
                to_user_id=b.get("to_user_id"),
                to_group_id=b.get("to_group_id"),
                now=web_state(request).runtime.clock.now(),
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/messages/{id}/attention",
        summary="Create an action (a pending attention) from the message; this finalizes it",
        body={
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"type": "string", "enum": [k.value for k in AttentionKind]}},
        },
        response=OBJECT,
    )
    async def act(request: web.Request) -> web.StreamResponse:
        made = await repo.attention_from(
            web_state(request).runtime.db,
            viewer(request),
            path_id(request),
            kind=AttentionKind(body(request)["kind"]),
        )
        return ok(made, 201)
