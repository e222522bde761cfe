"""Customer search for the pickers of the desk and the back office: ``GET /api/v1/customers?q=``."""

from __future__ import annotations

from aiohttp import web

from cti.db.backoffice import search
from cti.web.api import Api
from cti.web.backoffice.common import ok, query_int, route, viewer
from cti.web.state import web_state

RESULT = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string"},
            "name": {"type": "string"},
            "region": {"type": ["string", "null"]},
            "tax_id": {"type": ["string", "null"]},
            "masked": {"type": "boolean"},
            "match": {"type": "string", "enum": ["code", "name", "tax_id", "phone"]},
        },
    },
}


def register(api: Api) -> None:
    """Declare the customer search endpoint."""

    @route(
        api,
        "GET",
        "/api/v1/customers",
        summary=f"Find customers: ?q= ({search.MIN_QUERY} to {search.MAX_QUERY} characters) is"
        " a code prefix, part of the name, a tax id prefix (punctuation ignored) or a phone of the"
        " customer or of a contact; exact matches first, then names starting with it;"
        f" &limit= (1 to {search.MAX_LIMIT}, default 20). Name and tax id are masked without the"
        " personal_data permission",
        response=RESULT,
    )
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
