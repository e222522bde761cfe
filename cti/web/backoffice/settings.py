"""Configuration endpoints: lists for every signed-in user (the forms need them), changes by admins.

``/api/v1/config/{table}`` for closing-reasons, pause-reasons, attention-groups (keyed by id:
POST creates, PATCH /{id} changes) and message-situations, message-types (keyed by their two-letter
code: PUT /{code} creates or changes, DELETE /{code} removes an unused one);
``/api/v1/config/attention-statuses`` (labels) and ``/api/v1/config/required-fields``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cti.db.backoffice import settings as repo
from cti.domain.model import AttentionKind, AttentionStatus
from cti.web.api import Api, HTTPProblem
from cti.web.backoffice.common import LIST, OBJECT, body, ok, path_id, route, viewer
from cti.web.state import web_state

NAME = {"type": "string", "minLength": 1, "maxLength": 100}
BOOL = {"type": "boolean"}
SCHEMAS: dict[str, dict[str, Any]] = {
    "closing-reasons": {
        "name": NAME,
        "kind": {"type": "string", "enum": [k.value for k in AttentionKind], "nullable": True},
        "active": BOOL,
    },
    "pause-reasons": {"name": NAME, "active": BOOL},
    "attention-groups": {
        "name": NAME,
        "ideal_talk_seconds": {"type": "integer", "minimum": 1, "maximum": 86400},
        "personal_data": BOOL,
    },
    "message-situations": {"name": NAME, "pending": BOOL, "usual_pending": BOOL},
    "message-types": {"name": NAME, "is_default": BOOL},
}
BY_ID = ("closing-reasons", "pause-reasons", "attention-groups")
BY_CODE = ("message-situations", "message-types")


def _code(request: web.Request) -> str:
    code = request.match_info["code"]
    if len(code) != 2:
        raise HTTPProblem(400, "a code has exactly two characters", "code")
    return code


def _register_table(api: Api, table: str) -> None:
    props = SCHEMAS[table]
    path = f"/api/v1/config/{table}"
    label = table.replace("-", " ")

    @route(api, "GET", path, summary=f"The {label}", response=LIST)
    async def listing(request: web.Request) -> web.StreamResponse:
        return ok(await repo.list_rows(web_state(request).runtime.db, table))

    if table in BY_ID:
        required = ["name", "ideal_talk_seconds"] if table == "attention-groups" else ["name"]

        @route(
            api,
            "POST",
            path,
            role="admin",
            summary=f"Add to the {label}",
            body={"type": "object", "required": required, "properties": props},
            response=OBJECT,
        )
        async def create(request: web.Request) -> web.StreamResponse:
            made = await repo.save_row(
                web_state(request).runtime.db, viewer(request), table, body(request)
            )
            return ok(made, 201)

        @route(
            api,
            "PATCH",
            path + "/{id}",
            role="admin",
            summary=f"Change one of the {label} (set active false to retire it)",
            body={"type": "object", "properties": props},
            response=OBJECT,
        )
        async def change(request: web.Request) -> web.StreamResponse:
            return ok(
                await repo.save_row(
                    web_state(request).runtime.db,
                    viewer(request),
                    table,
                    body(request),
                    path_id(request),
                )
            )

    else:

        @route(
            api,
            "PUT",
            path + "/{code}",
            role="admin",
            summary=f"Create or change one of the {label} by its two-character code",
            body={"type": "object", "properties": props},
            response=OBJECT,
        )
        async def put(request: web.Request) -> web.StreamResponse:
            return ok(
                await repo.save_row(
                    web_state(request).runtime.db,
                    viewer(request),
                    table,
                    body(request),
                    _code(request),
                )
            )

        @route(
            api,
            "DELETE",
            path + "/{code}",
            role="admin",
            summary=f"Remove one of the {label} (refused while in use)",
            response=OBJECT,
        )
        async def remove(request: web.Request) -> web.StreamResponse:
            code = _code(request)
            await repo.delete_row(web_state(request).runtime.db, viewer(request), table, code)
            return ok({"deleted": code})


def register(api: Api) -> None:
    """Declare the configuration endpoints."""
    for table in (*BY_ID, *BY_CODE):
        _register_table(api, table)

    @route(
        api,
        "GET",
        "/api/v1/config/attention-statuses",
        summary="Attention statuses with their labels",
        response=LIST,
    )
    async def statuses(request: web.Request) -> web.StreamResponse:
        return ok(await repo.status_labels(web_state(request).runtime.db))

    @route(
        api,
        "PUT",
        "/api/v1/config/attention-statuses/{status}",
        role="admin",
        summary="Label an attention status",
        body={"type": "object", "required": ["label"], "properties": {"label": NAME}},
        response=LIST,
    )
    async def label(request: web.Request) -> web.StreamResponse:
        text = request.match_info["status"]
        if text not in {s.value for s in AttentionStatus}:
            raise HTTPProblem(404, f"{text!r} is not an attention status")
        return ok(
            await repo.set_status_label(
                web_state(request).runtime.db,
                viewer(request),
                AttentionStatus(text),
                body(request)["label"],
            )
        )

    @route(
        api,
        "GET",
        "/api/v1/config/required-fields",
        summary="Each form's fields and which of them an admin made mandatory",
        response=OBJECT,
    )
    async def required(request: web.Request) -> web.StreamResponse:
        return ok(await repo.required_by_form(web_state(request).runtime.db))

    @route(
        api,
        "PUT",
        "/api/v1/config/required-fields/{form}",
        role="admin",
        summary="Make exactly these fields mandatory on a form (enforced when it is saved)",
        body={
            "type": "object",
            "required": ["fields"],
            "properties": {"fields": {"type": "array", "items": NAME, "maxItems": 50}},
        },
        response=OBJECT,
    )
    async def set_required(request: web.Request) -> web.StreamResponse:
        form = request.match_info["form"]
        fields = await repo.set_required(
            web_state(request).runtime.db, viewer(request), form, body(request)["fields"]
        )
        return ok({"form": form, "required": fields})
