"""Endpoints of the dialer: supervisors run campaigns and change their pacing live; agents work
preview leads, callbacks and postponed calls.

The running :class:`cti.dialer.service.DialerService` is in ``WebState.parts["dialer"]``; the same
object is ``parts["campaigns"]``, the provider of live campaign figures for the wallboard:
``figures() -> list[dict]`` and ``figures_of(campaign_id) -> dict | None`` (fields listed in
``DialerService.figures``: dial level, answer rate, abandon rate against the cap, leads left, ...).
"""

from __future__ import annotations

import asyncio
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from cti.db import dialer as repo
from cti.db.imports import ImportRejected, import_csv
from cti.dialer.campaigns import KNOBS
from cti.dialer.compliance import parse_windows
from cti.dialer.retry import policy_from_json
from cti.dialer.service import DialerService
from cti.domain.model import CampaignKind, CampaignMode, CampaignStatus
from cti.domain.phone import normalize_phone
from cti.errors import UserInputError
from cti.web.api import Api, HTTPProblem
from cti.web.backoffice.common import body, path_id, route
from cti.web.state import WEB, current, web_state

TAG = "campaigns"
DIALER = "dialer"
ANY = {"type": "object", "additionalProperties": True}


def attach(app: web.Application, dialer: DialerService) -> None:
    """Give the web part the running dialer (called by the composition root)."""
    parts = app[WEB].parts
    parts[DIALER] = dialer
    parts["campaigns"] = dialer


def _dialer(request: web.Request) -> DialerService:
    dialer: DialerService | None = web_state(request).parts.get(DIALER)
    if dialer is None:
        raise HTTPProblem(503, "the dialer is not running")
    return dialer


def _actor(request: web.Request) -> str:
    return current(request).user.username


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# A lead file is streamed to disk, not read into memory, so it may be far bigger than the 2 MB
# other request bodies are held to (a day's list for a large floor is tens of thousands of rows).
LEADS_MAX_BYTES = 64 * 1024 * 1024


async def _save_body(request: web.Request, path: Path, *, limit: int) -> None:
    """Write the request body to ``path``; an empty body is a 400, a too large one a 413."""
    too_big = HTTPProblem(
        413, f"the file is larger than {limit // (1024 * 1024)} MB; nothing stored", field="body"
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
        raise UserInputError("body", "send the CSV file as the request body")


def register(api: Api) -> None:
    """Declare the campaigns endpoints."""

    @route(
        api,
        "GET",
        "/api/v1/campaigns",
        role="supervisor",
        summary="Every campaign, with live figures for those the dialer works",
        tag=TAG,
    )
    async def list_campaigns(request: web.Request) -> web.StreamResponse:
        dialer = _dialer(request)
        out = []
        for row in await repo.campaigns(dialer.db):
            item: dict[str, Any] = {
                "id": row.id,
                "name": row.name,
                "kind": row.kind.value,
                "mode": row.mode.value,
                "status": row.status.value,
                "queue": row.queue,
                "live": dialer.figures_of(row.id),
            }
            out.append(item)
        return web.json_response({"campaigns": out})

    @route(
        api,
        "GET",
        "/api/v1/campaigns/{id}",
        role="supervisor",
        summary="A campaign's live figures: dial level, answer rate, abandon rate vs cap, leads left",
        tag=TAG,
    )
    async def campaign_figures(request: web.Request) -> web.StreamResponse:
        dialer = _dialer(request)
        cid = path_id(request)
        row = await repo.campaign(dialer.db, cid)
        return web.json_response(
            {
                "id": row.id,
                "name": row.name,
                "status": row.status.value,
                "mode": row.mode.value,
                "live": dialer.figures_of(cid),
            }
        )

    campaign_props: dict[str, Any] = {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "kind": {"type": "string", "enum": [k.value for k in CampaignKind]},
        "mode": {"type": "string", "enum": [m.value for m in CampaignMode]},
        "pbx": {"type": "string", "description": "a configured PBX name (default: the first)"},
        "queue": {"type": "string", "minLength": 1, "maxLength": 80},
        "caller_id": {"type": "string", "maxLength": 80},
        "ring_seconds": {"type": "integer", "minimum": 15, "maximum": 120},
        "windows": {
            "type": "array",
            "maxItems": 50,
            "items": {"type": "object", "additionalProperties": True},
            "description": 'calling windows in each lead\'s own zone: [{"days": [0..6], "start": "09:00", "end": "18:00"}]',
        },
        "retry_rules": {
            "type": "object",
            "additionalProperties": True,
            "description": '{"max_attempts": 5, "after": {"busy": 600, "no_answer": 3600}, "attempts": {"busy": 3}}',
        },
        "abandon_cap": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.99},
        "timezone": {"type": "string", "description": "IANA zone for leads whose own is unknown"},
        "amd": {"type": "boolean", "description": "answering-machine detection"},
    }

    def _checked(request: web.Request, b: dict[str, Any]) -> dict[str, Any]:
        """The campaign fields of a body, each checked as the dialer will read it."""
        settings = web_state(request).runtime.settings
        values = {k: v for k, v in b.items() if k in repo.CAMPAIGN_FIELDS}
        if "windows" in values:
            parse_windows(values["windows"])
        if "retry_rules" in values:
            policy_from_json(values["retry_rules"])
        if values.get("timezone"):
            try:
                ZoneInfo(values["timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                raise UserInputError(
                    "timezone", "expected an IANA zone like America/Sao_Paulo"
                ) from None
        if values.get("pbx") and values["pbx"] not in {p.name for p in settings.ami}:
            raise UserInputError("pbx", "is not a configured PBX")
        ring = values.get("ring_seconds")
        if ring is not None and ring < settings.dialer.min_ring_seconds:
            raise UserInputError(
                "ring_seconds",
                f"must be at least {settings.dialer.min_ring_seconds} (dialer.min_ring_seconds)",
            )
        for name, enum in (("kind", CampaignKind), ("mode", CampaignMode)):
            if name in values:
                values[name] = enum(values[name])
        if "abandon_cap" in values:
            values["abandon_cap"] = Decimal(str(values["abandon_cap"]))
        return values

    @route(
        api,
        "POST",
        "/api/v1/campaigns",
        role="supervisor",
        summary="Create a campaign (as a draft: start it when its leads are in); audited",
        body={
            "type": "object",
            "required": ["name", "kind", "mode", "queue"],
            "properties": campaign_props,
        },
        tag=TAG,
    )
    async def create_campaign(request: web.Request) -> web.StreamResponse:
        dialer = _dialer(request)
        row = await repo.save_campaign(
            dialer.db, None, _checked(request, body(request)), actor=_actor(request)
        )
        await dialer.refresh()
        return web.json_response(
            {"id": row.id, "name": row.name, "status": row.status.value}, status=201
        )

    @route(
        api,
        "PATCH",
        "/api/v1/campaigns/{id}",
        role="supervisor",
        summary="Change a campaign's settings (windows, retry rules, ring time, queue…); audited",
        body={"type": "object", "properties": campaign_props},
        tag=TAG,
    )
    async def change_campaign(request: web.Request) -> web.StreamResponse:
        dialer = _dialer(request)
        row = await repo.save_campaign(
            dialer.db, path_id(request), _checked(request, body(request)), actor=_actor(request)
        )
        await dialer.refresh()
        dialer.wake()
        return web.json_response({"id": row.id, "name": row.name, "status": row.status.value})

    @route(
        api,
        "POST",
        "/api/v1/campaigns/{id}/leads",
        role="supervisor",
        summary="Add leads from a CSV file sent as the body (text/csv; columns phone*, name, "
        "customer_code, timezone, priority); a file with any bad row is refused whole, each "
        "bad row listed, and nothing stored",
        tag=TAG,
    )
    async def upload_leads(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        dialer = _dialer(request)
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
                    actor=_actor(request),
                )
            except ImportRejected as exc:
                return web.json_response(
                    {
                        "error": f"the file was refused whole, nothing stored: {exc}",
                        "field": "body",
                        "problem": str(exc),
                        "rows": [
                            {"row": e.row, "field": e.field, "reason": e.reason} for e in exc.errors
                        ],
                    },
                    status=400,
                )
        await dialer.refresh()
        dialer.wake()
        return web.json_response({"stored": stored})

    def _status_route(verb: str, status: CampaignStatus) -> None:
        @route(
            api,
            "POST",
            f"/api/v1/campaigns/{{id}}/{verb}",
            role="supervisor",
            summary=f"{verb.capitalize()} a campaign (audited)",
            tag=TAG,
        )
        async def change(request: web.Request) -> web.StreamResponse:
            dialer = _dialer(request)
            cid = path_id(request)
            await dialer.set_status(cid, status, actor=_actor(request))
            row = await repo.campaign(dialer.db, cid)
            return web.json_response(
                {"id": cid, "status": row.status.value, "live": dialer.figures_of(cid)}
            )

        change.__name__ = f"campaign_{verb}"

    _status_route("start", CampaignStatus.RUNNING)
    _status_route("pause", CampaignStatus.PAUSED)
    _status_route("stop", CampaignStatus.FINISHED)

    pacing_body: dict[str, Any] = {
        "type": "object",
        "properties": {
            "mode": {"type": "string", "enum": [m.value for m in CampaignMode]},
            "abandon_cap": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.99},
            "max_dial_ratio": {"type": "number", "minimum": 1, "maximum": 20},
            "target_abandon": {"type": "number", "minimum": 0, "maximum": 0.99},
            "max_call_risk": {"type": "number", "minimum": 0, "maximum": 1},
            "about_to_free_seconds": {"type": "number", "minimum": 0, "maximum": 600},
            "fixed_ratio": {"type": "number", "minimum": 1, "maximum": 20},
        },
    }

    @route(
        api,
        "PATCH",
        "/api/v1/campaigns/{id}/pacing",
        role="supervisor",
        summary="Change a campaign's pacing live: mode, abandon cap, dial ratio, risk (audited)",
        body=pacing_body,
        tag=TAG,
    )
    async def change_pacing(request: web.Request) -> web.StreamResponse:
        dialer = _dialer(request)
        b = body(request)
        knobs = {k: float(v) for k, v in b.items() if k in KNOBS}
        figures = await dialer.set_pacing(
            path_id(request),
            actor=_actor(request),
            mode=CampaignMode(b["mode"]) if "mode" in b else None,
            abandon_cap=float(b["abandon_cap"]) if "abandon_cap" in b else None,
            knobs=knobs,
        )
        return web.json_response(figures)

    @route(
        api,
        "POST",
        "/api/v1/campaigns/{id}/collection-leads",
        role="supervisor",
        summary="Add a lead per customer with overdue debts (no pending promise to pay)",
        body={
            "type": "object",
            "required": ["min_overdue_days", "min_amount"],
            "properties": {
                "min_overdue_days": {"type": "integer", "minimum": 0, "maximum": 3650},
                "min_amount": {"type": "number", "minimum": 0},
            },
        },
        tag=TAG,
    )
    async def collection_leads(request: web.Request) -> web.StreamResponse:
        dialer = _dialer(request)
        b = body(request)
        added = await repo.build_collection_leads(
            dialer.db,
            path_id(request),
            today=dialer.clock.now().date(),
            min_overdue_days=int(b["min_overdue_days"]),
            min_amount=Decimal(str(b["min_amount"])),
            actor=_actor(request),
        )
        return web.json_response({"added": added})

    @route(
        api,
        "POST",
        "/api/v1/dnc",
        role="supervisor",
        summary="Put a number on the global do-not-call list or a campaign's (audited)",
        body={
            "type": "object",
            "required": ["phone"],
            "properties": {
                "phone": {"type": "string", "minLength": 1, "maxLength": 40},
                "campaign_id": {"type": "integer", "minimum": 1, "nullable": True},
                "reason": {"type": "string", "maxLength": 200, "nullable": True},
            },
        },
        tag=TAG,
    )
    async def add_dnc(request: web.Request) -> web.StreamResponse:
        dialer = _dialer(request)
        b = body(request)
        phone = normalize_phone(b["phone"], dialer.settings.telephony.default_region)
        cid = b.get("campaign_id")
        if cid is not None:
            await repo.campaign(dialer.db, int(cid))
        await repo.add_dnc(
            dialer.db,
            phone,
            campaign_id=cid,
            reason=b.get("reason"),
            actor=_actor(request),
        )
        return web.json_response({"phone": phone, "campaign_id": cid})

    # --- agents ----------------------------------------------------------------------------

    @route(
        api,
        "POST",
        "/api/v1/campaigns/{id}/preview/next",
        summary="Preview: reserve the next lead for me (my callbacks first); null when none",
        tag=TAG,
    )
    async def preview_next(request: web.Request) -> web.StreamResponse:
        dialer = _dialer(request)
        pop = await dialer.preview_next(path_id(request), _actor(request))
        return web.json_response({"lead": pop})

    @route(
        api,
        "POST",
        "/api/v1/campaigns/{id}/preview/{lead}/dial",
        summary="Preview: call the lead reserved for me; answered, it rings my phone (not the queue)",
        tag=TAG,
    )
    async def preview_dial(request: web.Request) -> web.StreamResponse:
        dialer = _dialer(request)
        # The call goes to the phone the agent signed in with at the desk (else their stored one).
        desk = web_state(request).parts.get("desk")
        seated = desk.agent_of(current(request).user.id) if desk is not None else None
        attempt = await dialer.preview_dial(
            path_id(request),
            path_id(request, "lead"),
            _actor(request),
            interface=seated.interface if seated is not None else None,
        )
        return web.json_response({"attempt_id": attempt})

    @route(
        api,
        "POST",
        "/api/v1/campaigns/{id}/preview/{lead}/skip",
        summary="Preview: skip the lead reserved for me (it waits for a later turn)",
        tag=TAG,
    )
    async def preview_skip(request: web.Request) -> web.StreamResponse:
        dialer = _dialer(request)
        await dialer.preview_skip(path_id(request), path_id(request, "lead"), _actor(request))
        return web.json_response({"skipped": True})

    @route(
        api,
        "POST",
        "/api/v1/campaigns/{id}/leads/{lead}/callback",
        summary="Promise a call back at a time, to me or to any agent of the campaign",
        body={
            "type": "object",
            "required": ["due_at"],
            "properties": {
                "due_at": {"type": "string", "format": "date-time"},
                "owner": {"type": "string", "enum": ["me", "campaign"]},
            },
        },
        tag=TAG,
    )
    async def callback(request: web.Request) -> web.StreamResponse:
        dialer = _dialer(request)
        b = body(request)
        actor = _actor(request)
        owner = actor if b.get("owner", "me") == "me" else None
        cb = await dialer.add_callback(
            path_id(request), path_id(request, "lead"), b["due_at"], owner=owner, actor=actor
        )
        return web.json_response({"callback_id": cb, "due_at": _iso(b["due_at"])})

    @route(
        api,
        "POST",
        "/api/v1/campaigns/{id}/leads/{lead}/postpone",
        summary="Postpone a lead's next call until a time",
        body={
            "type": "object",
            "required": ["until"],
            "properties": {"until": {"type": "string", "format": "date-time"}},
        },
        tag=TAG,
    )
    async def postpone(request: web.Request) -> web.StreamResponse:
        dialer = _dialer(request)
        until = body(request)["until"]
        await dialer.postpone(
            path_id(request), path_id(request, "lead"), until, actor=_actor(request)
        )
        return web.json_response({"until": _iso(until)})

    @route(
        api,
        "GET",
        "/api/v1/dialer/calls/{linkedid}",
        summary="The lead, campaign and debts of a dialer call (the pop), by its linkedid",
        tag=TAG,
        response=ANY,
    )
    async def call_lead(request: web.Request) -> web.StreamResponse:
        dialer = _dialer(request)
        pop = await dialer.pop_for_call(request.match_info["linkedid"])
        if pop is None:
            raise HTTPProblem(404, "no dialer call with that linkedid")
        return web.json_response(pop)


__all__ = ["attach", "register"]
