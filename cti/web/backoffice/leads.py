"""Suspect and prospect endpoints: create, read (masked, audited), convert (MV_TMKDACH)."""

from __future__ import annotations

from aiohttp import web

from cti.db.backoffice import leads as repo
from cti.domain.backoffice import SuspectFate
from cti.domain.model import SuspectPolicy
from cti.web.api import Api
from cti.web.backoffice.common import OBJECT, body, ok, path_id, route, viewer
from cti.web.state import web_state

TEXT = {"type": "string", "maxLength": 300, "nullable": True}


def register(api: Api) -> None:
    """Declare the suspect and prospect endpoints."""

    @route(
        api,
        "POST",
        "/api/v1/suspects",
        summary="Add a suspect (an unqualified lead)",
        body={
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 300},
                "company": TEXT,
                "tax_id": TEXT,
                "email": TEXT,
                "address": TEXT,
                "region": {"type": "string", "minLength": 2, "maxLength": 2, "nullable": True},
                "phone": TEXT,
            },
        },
        response=OBJECT,
    )
    async def new_suspect(request: web.Request) -> web.StreamResponse:
        rt = web_state(request).runtime
        made = await repo.create_suspect(
            rt.db, viewer(request), body(request), region=rt.settings.telephony.default_region
        )
        return ok(made, 201)

    @route(api, "GET", "/api/v1/suspects/{id}", summary="A suspect", response=OBJECT)
    async def suspect(request: web.Request) -> web.StreamResponse:
        return ok(
            await repo.get_lead(
                web_state(request).runtime.db, viewer(request), "suspect", path_id(request)
            )
        )

    @route(api, "GET", "/api/v1/prospects/{id}", summary="A prospect", response=OBJECT)
    async def prospect(request: web.Request) -> web.StreamResponse:
        return ok(
            await repo.get_lead(
                web_state(request).runtime.db, viewer(request), "prospect", path_id(request)
            )
        )

    @route(
        api,
        "POST",
        "/api/v1/suspects/{id}/convert",
        summary="Convert a suspect to a prospect. Policy delete/keep (setting"
        " telemarketing.suspect_after_conversion) decides the suspect's fate; under `ask` the"
        " first call without `delete` answers 409 with decision_needed, and a second call with"
        " delete true/false completes it",
        body={
            "type": "object",
            "properties": {"delete": {"type": "boolean", "nullable": True}},
        },
        response={
            "type": "object",
            "properties": {
                "prospect": OBJECT,
                "suspect": {"type": "string", "enum": ["deleted", "kept"]},
            },
        },
    )
    async def convert(request: web.Request) -> web.StreamResponse:
        policy = SuspectPolicy(
            web_state(request).runtime.settings.telemarketing.suspect_after_conversion
        )
        done = await repo.convert(
            web_state(request).runtime.db,
            viewer(request),
            path_id(request),
            policy=policy,
            delete=body(request).get("delete"),
        )
        if done.fate is SuspectFate.ASK:
            return web.json_response(
                {
                    "error": "decide whether to delete the suspect once it is copied to a prospect;"
                    " send delete true or false",
                    "field": "delete",
                    "problem": "a decision is needed",
                    "decision_needed": True,
                    "choices": {"delete": [True, False]},
                },
                status=409,
            )
        return ok(
            {
                "prospect": done.prospect,
                "suspect": "deleted" if done.fate is SuspectFate.DELETE else "kept",
            },
            201,
        )
