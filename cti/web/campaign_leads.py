"""Leads of a campaign: a CSV file of them uploaded, or one per customer with overdue debts."""

from __future__ import annotations

import asyncio
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from aiohttp import web
from pydantic import Field

from cti.db import dialer as repo
from cti.db.imports import ImportRejected, import_csv
from cti.errors import UserInputError
from cti.i18n import _
from cti.web.api import Body, HTTPProblem, Route, RouteMaker, body_of, said
from cti.web.backoffice.common import path_id
from cti.web.dialer import TAG, actor, dialer_of
from cti.web.models import Answer
from cti.web.state import web_state

route = RouteMaker(TAG, "supervisor")

# A lead file is streamed to disk, not read into memory, so it may be far bigger than the 2 MB
# other request bodies are held to (a day's list for a large floor is tens of thousands of rows).
LEADS_MAX_BYTES = 64 * 1024 * 1024


async def _save_body(request: web.Request, path: Path, *, limit: int) -> None:
    """Write the request body to ``path``; an empty body is a 400, a too large one a 413."""
    too_big = HTTPProblem(
        413,
        _("the file is larger than {megabytes} MB; nothing stored"),
        field="body",
        megabytes=limit // (1024 * 1024),
    )
    if request.content_length is not None and request.content_length > 4 * limit:
        raise too_big  # not worth reading at all
    size = 0
    blank = True
    with path.open("wb") as out:
        async for chunk in request.content.iter_chunked(256 * 1024):
            size += len(chunk)
            if size > limit:
                # Read on (up to a point) without keeping it, so the browser, still sending,
                # gets the answer rather than a connection closed under it.
                if size > 4 * limit:
                    raise too_big
                continue
            blank = blank and not chunk.strip()
            await asyncio.to_thread(out.write, chunk)
    if size > limit:
        raise too_big
    if blank:
        raise UserInputError("body", _("send the CSV file as the request body"))


class CollectionLeadsBody(Body):
    min_overdue_days: Annotated[int, Field(ge=0, le=3650)]
    min_amount: Annotated[Decimal, Field(ge=0)]


class LeadsStored(Answer):
    stored: int


class CollectionLeadsAdded(Answer):
    added: int


async def upload_leads(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    dialer = dialer_of(request)
    row = await repo.campaign(dialer.db, path_id(request))
    with tempfile.TemporaryDirectory(prefix="cti-leads-") as tmp:
        path = Path(tmp) / "leads.csv"
        await _save_body(request, path, limit=LEADS_MAX_BYTES)
        try:
            stored = await import_csv(
                dialer.db,
                "leads",
                path,
                region=st.runtime.settings.telephony.default_region,
                campaign=row.name,
                actor=actor(request),
            )
        except ImportRejected as exc:
            # Each row's problem in the reader's language, as the pages show them.
            return web.json_response(
                {
                    "error": said(
                        request,
                        _("the file was refused whole, nothing stored: rows with problems: {rows}"),
                        rows=exc.rows,
                    ),
                    "field": "body",
                    "problem": str(exc),
                    "rows": [
                        {
                            "row": e.row,
                            "field": e.field,
                            "reason": said(request, e.reason.template, **e.reason.values),
                        }
                        for e in exc.errors
                    ],
                },
                status=400,
            )
    await dialer.refresh()
    dialer.wake()
    return web.json_response({"stored": stored})


async def collection_leads(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
    body = body_of(request, CollectionLeadsBody)
    added = await repo.build_collection_leads(
        dialer.db,
        path_id(request),
        today=dialer.clock.now().date(),
        min_overdue_days=body.min_overdue_days,
        min_amount=body.min_amount,
        actor=actor(request),
    )
    return web.json_response({"added": added})


ROUTES: tuple[Route, ...] = (
    route(
        "POST",
        "/api/v1/campaigns/{id}/leads",
        upload_leads,
        "Add leads from a CSV file sent as the body (text/csv; columns phone*, name, "
        "customer_code, timezone, priority); a file with any bad row is refused whole, each "
        "bad row listed, and nothing stored",
        response=LeadsStored,
    ),
    route(
        "POST",
        "/api/v1/campaigns/{id}/collection-leads",
        collection_leads,
        "Add a lead per customer with overdue debts (no pending promise to pay)",
        body=CollectionLeadsBody,
        response=CollectionLeadsAdded,
    ),
)
