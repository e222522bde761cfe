"""Customer search for the pickers of the desk and the back office: ``GET /api/v1/customers?q=``."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import Field, RootModel

from cti.db.backoffice import search
from cti.web.api import Api, Route, RouteMaker
from cti.web.backoffice.common import TAG, ok, query_int, viewer
from cti.web.models import Answer
from cti.web.state import web_state

route = RouteMaker(TAG, "operator")


class CustomerFound(Answer):
    """A customer a search found; name and tax id masked without personal_data (``masked``)."""

    id: int
    code: str
    name: str
    region: str | None
    tax_id: str | None
    masked: bool
    match: Literal["code", "name", "tax_id", "phone"] = Field(description="what matched")


class CustomersFound(RootModel[list[CustomerFound]]):
    """Exact matches first, then names starting with the text."""


async def find(request: web.Request) -> web.StreamResponse:
    runtime = web_state(request).runtime
    limit = query_int(request, "limit")
    found = await search.search_customers(
        runtime.db,
        request.query.get("q", ""),
        viewer=viewer(request),
        region=runtime.settings.telephony.default_region,
        limit=20 if limit is None else limit,
    )
    return ok(found)


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/customers",
        find,
        f"Find customers: ?q= ({search.MIN_QUERY} to {search.MAX_QUERY} characters) is"
        " a code prefix, part of the name, a tax id prefix (punctuation ignored) or a phone of the"
        " customer or of a contact; exact matches first, then names starting with it;"
        f" &limit= (1 to {search.MAX_LIMIT}, default 20). Name and tax id are masked without the"
        " personal_data permission",
        CustomersFound,
    ),
)


def register(api: Api) -> None:
    """Declare the customer search endpoint."""
    api.add(ROUTES)
