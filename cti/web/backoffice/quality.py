"""The quality team's list: potential non-conformities raised by telemarketing ticket actions
(seed 003, MV_QLYXCAL: ``telemarketing.nonconformity_integration``), with their source ticket.

``GET /api/v1/nonconformities`` (supervisors and admins), newest first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from aiohttp import web
from pydantic import Field

from cti.db import desk as repo
from cti.domain.tickets import NonConformityStatus
from cti.web.api import Api, Route, RouteMaker
from cti.web.backoffice.common import TAG
from cti.web.models import Answer
from cti.web.state import web_state

route = RouteMaker(TAG, "supervisor")


class NonConformityOut(Answer):
    id: int
    attention_id: int = Field(description="the source ticket (the attention, parent ticket)")
    ticket_item_id: int
    child_number: str = Field(description="the source child ticket: <attention>-<item>")
    customer_id: int | None
    operator: str | None = Field(description="who handled the attention")
    subject: str
    occurrence: str
    action: str
    description: str
    occurred_on: dt.date
    status: NonConformityStatus
    created_at: dt.datetime


class NonConformityList(Answer):
    nonconformities: list[NonConformityOut] = Field(description="newest first")


async def nonconformities(request: web.Request) -> web.StreamResponse:
    found = await repo.list_nonconformities(web_state(request).runtime.db)
    answer = NonConformityList.model_validate({"nonconformities": [asdict(r) for r in found]})
    return web.json_response(answer.model_dump(mode="json"))


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/nonconformities",
        nonconformities,
        "Potential non-conformities raised by ticket actions, with their source ticket",
        NonConformityList,
    ),
)


def register(api: Api) -> None:
    """Declare the quality team's endpoints."""
    api.add(ROUTES)
