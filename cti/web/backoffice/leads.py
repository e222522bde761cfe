"""Suspect and prospect endpoints: create, read (masked, audited), convert (MV_TMKDACH)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aiohttp import web
from pydantic import Field

from cti.db.backoffice import leads as repo
from cti.domain.backoffice import SuspectFate
from cti.domain.model import SuspectPolicy
from cti.web.api import Api, Body, Route, RouteMaker, body_of
from cti.web.backoffice.common import TAG, ok, path_id, viewer
from cti.web.models import Answer
from cti.web.state import web_state

route = RouteMaker(TAG, "operator")
Text = Annotated[str, Field(max_length=300)]


class SuspectNew(Body):
    """A suspect: an unqualified lead (the fields an admin made mandatory are required too)."""

    name: Annotated[str, Field(min_length=1, max_length=300)]
    company: Text | None = None
    tax_id: Text | None = None
    email: Text | None = None
    address: Text | None = None
    region: Annotated[str, Field(min_length=2, max_length=2)] | None = Field(
        default=None, description="a country code (BR); the phone is read in it"
    )
    phone: Text | None = None


class ConversionBody(Body):
    delete: bool | None = Field(
        default=None, description="under the `ask` policy: delete the suspect once copied?"
    )


class LeadPhone(Answer):
    phone: str
    raw: str | None
    label: str | None


class _LeadShown(Answer):
    id: int
    name: str
    company: str | None
    tax_id: str | None
    email: str | None
    address: str | None
    region: str | None
    phones: list[LeadPhone]
    created_at: datetime
    masked: bool = Field(description="personal fields are masked (no personal_data)")


class SuspectShown(_LeadShown):
    """A suspect as the viewer may see it."""

    prospect_id: int | None = Field(description="the prospect it was converted to")
    converted_at: datetime | None


class ProspectShown(_LeadShown):
    """A prospect as the viewer may see it."""

    from_suspect: int | None = Field(description="the suspect it was converted from")


class SuspectConverted(Answer):
    prospect: ProspectShown
    suspect: Literal["deleted", "kept"]


async def new_suspect(request: web.Request) -> web.StreamResponse:
    rt = web_state(request).runtime
    made = await repo.create_suspect(
        rt.db,
        viewer(request),
        body_of(request, SuspectNew).model_dump(exclude_unset=True),
        region=rt.settings.telephony.default_region,
    )
    return ok(made, 201)


async def suspect(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.get_lead(
            web_state(request).runtime.db, viewer(request), "suspect", path_id(request)
        )
    )


async def prospect(request: web.Request) -> web.StreamResponse:
    return ok(
        await repo.get_lead(
            web_state(request).runtime.db, viewer(request), "prospect", path_id(request)
        )
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
        delete=body_of(request, ConversionBody).delete,
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


ROUTES: tuple[Route, ...] = (
    route(
        "POST",
        "/api/v1/suspects",
        new_suspect,
        "Add a suspect (an unqualified lead)",
        SuspectShown,
        body=SuspectNew,
    ),
    route("GET", "/api/v1/suspects/{id}", suspect, "A suspect", SuspectShown),
    route("GET", "/api/v1/prospects/{id}", prospect, "A prospect", ProspectShown),
    route(
        "POST",
        "/api/v1/suspects/{id}/convert",
        convert,
        "Convert a suspect to a prospect. Policy delete/keep (setting"
        " telemarketing.suspect_after_conversion) decides the suspect's fate; under `ask` the"
        " first call without `delete` answers 409 with decision_needed, and a second call with"
        " delete true/false completes it",
        SuspectConverted,
        body=ConversionBody,
    ),
)


def register(api: Api) -> None:
    """Declare the suspect and prospect endpoints."""
    api.add(ROUTES)
