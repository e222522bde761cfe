"""Endpoints of the dialer: supervisors run campaigns and change their pacing live; agents work
preview leads, callbacks and postponed calls (:mod:`cti.web.campaign_agents`); leads are uploaded or
made from debts (:mod:`cti.web.campaign_leads`). ``ROUTES`` declares them all.

The running :class:`cti.dialer.service.DialerService` is ``app[DIALER_SERVICE]``, given by
:func:`attach` (both in :mod:`cti.web.dialer`, and importable from here).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from pydantic import MISSING, Field, RootModel

from cti.db import dialer as repo
from cti.dialer.campaigns import KNOBS
from cti.domain.compliance import parse_windows
from cti.domain.model import CampaignKind, CampaignMode, CampaignStatus
from cti.domain.phone import normalize_phone
from cti.domain.retry import policy_from_json
from cti.errors import UserInputError
from cti.i18n import _
from cti.web import campaign_agents, campaign_leads
from cti.web.api import Api, Body, Route, RouteMaker, body_of
from cti.web.backoffice.common import path_id
from cti.web.dialer import DIALER_SERVICE, TAG, actor, attach, dialer_of
from cti.web.models import Answer, Id
from cti.web.state import web_state

route = RouteMaker(TAG, "supervisor")


def _given(body: Body) -> dict[str, Any]:
    """The fields a body sent (those left out are MISSING: never stored, never checked)."""
    return body.model_dump(exclude_unset=True)


# --- bodies -------------------------------------------------------------------------------------

CampaignName = Annotated[str, Field(min_length=1, max_length=200)]
Queue = Annotated[str, Field(min_length=1, max_length=80)]
Pbx = Annotated[str, Field(description="a configured PBX name (default: the first)")]
CallerId = Annotated[str, Field(max_length=80)]
RingSeconds = Annotated[int, Field(ge=15, le=120)]
Windows = Annotated[
    list[dict[str, Any]],
    Field(
        max_length=50,
        description="calling windows in each lead's own zone: "
        '[{"days": [0..6], "start": "09:00", "end": "18:00"}]',
    ),
]
RetryRules = Annotated[
    dict[str, Any],
    Field(
        description='{"max_attempts": 5, "after": {"busy": 600, "no_answer": 3600}, '
        '"attempts": {"busy": 3}}'
    ),
]
AbandonCap = Annotated[float, Field(gt=0, le=0.99)]
Zone = Annotated[str, Field(description="IANA zone for leads whose own is unknown")]
Amd = Annotated[bool, Field(description="answering-machine detection")]
Record = Annotated[bool, Field(description="record its calls (default true)")]
ScriptId = Annotated[int, Field(gt=0, description="the script its agents run (null: none)")]


class CampaignChange(Body):
    """A campaign's settings, each optional (only those sent change)."""

    name: CampaignName | MISSING = MISSING
    kind: CampaignKind | MISSING = MISSING
    mode: CampaignMode | MISSING = MISSING
    pbx: Pbx | MISSING = MISSING
    queue: Queue | MISSING = MISSING
    caller_id: CallerId | MISSING = MISSING
    ring_seconds: RingSeconds | MISSING = MISSING
    windows: Windows | MISSING = MISSING
    retry_rules: RetryRules | MISSING = MISSING
    abandon_cap: AbandonCap | MISSING = MISSING
    timezone: Zone | MISSING = MISSING
    amd: Amd | MISSING = MISSING
    record: Record | MISSING = MISSING
    script_id: ScriptId | MISSING | None = MISSING


class CampaignNew(CampaignChange):
    """A new campaign: a name, kind, mode and queue, the other settings optional."""

    name: CampaignName
    kind: CampaignKind
    mode: CampaignMode
    queue: Queue


class PacingChange(Body):
    """Pacing to change live, each optional (only those sent change)."""

    mode: CampaignMode | MISSING = MISSING
    abandon_cap: AbandonCap | MISSING = MISSING
    max_dial_ratio: Annotated[float, Field(ge=1, le=20)] | MISSING = MISSING
    target_abandon: Annotated[float, Field(ge=0, le=0.99)] | MISSING = MISSING
    max_call_risk: Annotated[float, Field(ge=0, le=1)] | MISSING = MISSING
    about_to_free_seconds: Annotated[float, Field(ge=0, le=600)] | MISSING = MISSING
    fixed_ratio: Annotated[float, Field(ge=1, le=20)] | MISSING = MISSING


class DncBody(Body):
    phone: Annotated[str, Field(min_length=1, max_length=40)]
    campaign_id: Id | None = None
    reason: Annotated[str, Field(max_length=200)] | None = None


# --- answers ------------------------------------------------------------------------------------


class CampaignPacingFigures(Answer):
    reason: str | None = Field(description="why the last pacing decision dialled as it did")
    allowed_risk: float
    max_dial_ratio: float
    max_call_risk: float
    about_to_free_seconds: float
    fixed_ratio: float


class CampaignFigures(Answer):
    """A campaign the dialer works, live (see ``DialerService.figures``)."""

    id: int
    name: str
    kind: CampaignKind
    mode: CampaignMode
    status: CampaignStatus
    queue: str
    dial_level: float = Field(description="calls in flight per staffed agent")
    in_flight: int
    ringing: int
    agents_ready: int
    agents_busy: int
    answer_rate: float | None = Field(
        description="answered ÷ finished attempts, the last hour weighing most;"
        " None before the first attempt ends"
    )
    abandon_rate: float | None = Field(description="None before the first live answer")
    abandon_cap: float
    target_abandon: float
    abandon_window_seconds: int
    live_answers: int
    abandoned: int
    placed: int
    refused_dnc: int
    leads_left: int
    pacing: CampaignPacingFigures


class CampaignListed(Answer):
    id: int
    name: str
    kind: CampaignKind
    mode: CampaignMode
    status: CampaignStatus
    queue: str
    live: CampaignFigures | None = Field(description="None when the dialer does not work it now")


class CampaignList(Answer):
    campaigns: list[CampaignListed]


class CampaignNow(Answer):
    id: int
    name: str
    status: CampaignStatus
    mode: CampaignMode
    live: CampaignFigures | None


class CampaignSaved(Answer):
    id: int
    name: str
    status: CampaignStatus


class CampaignStatusChanged(Answer):
    id: int
    status: CampaignStatus
    live: CampaignFigures | None


class CampaignRef(Answer):
    """A campaign the dialer does not work now."""

    id: int


class PacingChanged(RootModel[CampaignFigures | CampaignRef]):
    """The campaign's live figures, or only its id when the dialer does not work it now."""


class DncAdded(Answer):
    phone: str = Field(description="the number as stored (normalised)")
    campaign_id: int | None


# --- supervisors --------------------------------------------------------------------------------


async def list_campaigns(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
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


async def campaign_figures(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
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


def _checked(request: web.Request, values: dict[str, Any]) -> dict[str, Any]:
    """The campaign fields of a body, each checked as the dialer will read it."""
    settings = web_state(request).runtime.settings
    if "windows" in values:
        parse_windows(values["windows"])
    if "retry_rules" in values:
        policy_from_json(values["retry_rules"])
    if values.get("timezone"):
        try:
            ZoneInfo(values["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise UserInputError(
                "timezone", _("expected an IANA zone like America/Sao_Paulo")
            ) from None
    if values.get("pbx") and values["pbx"] not in {p.name for p in settings.ami}:
        raise UserInputError("pbx", _("is not a configured PBX"))
    ring = values.get("ring_seconds")
    if ring is not None and ring < settings.dialer.min_ring_seconds:
        raise UserInputError(
            "ring_seconds",
            _("must be at least {min_ring_seconds} (dialer.min_ring_seconds)"),
            min_ring_seconds=settings.dialer.min_ring_seconds,
        )
    if "abandon_cap" in values:
        values["abandon_cap"] = Decimal(str(values["abandon_cap"]))
    return values


async def create_campaign(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
    values = _checked(request, _given(body_of(request, CampaignNew)))
    row = await repo.save_campaign(dialer.db, None, values, actor=actor(request))
    await dialer.refresh()
    return web.json_response(
        {"id": row.id, "name": row.name, "status": row.status.value}, status=201
    )


async def change_campaign(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
    values = _checked(request, _given(body_of(request, CampaignChange)))
    row = await repo.save_campaign(dialer.db, path_id(request), values, actor=actor(request))
    await dialer.refresh()
    dialer.wake()
    return web.json_response({"id": row.id, "name": row.name, "status": row.status.value})


async def _set_status(request: web.Request, status: CampaignStatus) -> web.StreamResponse:
    dialer = dialer_of(request)
    cid = path_id(request)
    await dialer.set_status(cid, status, actor=actor(request))
    row = await repo.campaign(dialer.db, cid)
    return web.json_response(
        {"id": cid, "status": row.status.value, "live": dialer.figures_of(cid)}
    )


async def start_campaign(request: web.Request) -> web.StreamResponse:
    return await _set_status(request, CampaignStatus.RUNNING)


async def pause_campaign(request: web.Request) -> web.StreamResponse:
    return await _set_status(request, CampaignStatus.PAUSED)


async def stop_campaign(request: web.Request) -> web.StreamResponse:
    return await _set_status(request, CampaignStatus.FINISHED)


async def change_pacing(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
    given = _given(body_of(request, PacingChange))
    figures = await dialer.set_pacing(
        path_id(request),
        actor=actor(request),
        mode=given.get("mode"),
        abandon_cap=given.get("abandon_cap"),
        knobs={k: float(v) for k, v in given.items() if k in KNOBS},
    )
    return web.json_response(figures)


async def add_dnc(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
    body = body_of(request, DncBody)
    phone = normalize_phone(body.phone, dialer.settings.telephony.default_region)
    cid = body.campaign_id
    if cid is not None:
        await repo.campaign(dialer.db, cid)
    await repo.add_dnc(dialer.db, phone, campaign_id=cid, reason=body.reason, actor=actor(request))
    return web.json_response({"phone": phone, "campaign_id": cid})


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/campaigns",
        list_campaigns,
        "Every campaign, with live figures for those the dialer works",
        response=CampaignList,
    ),
    route(
        "GET",
        "/api/v1/campaigns/{id}",
        campaign_figures,
        "A campaign's live figures: dial level, answer rate, abandon rate vs cap, leads left",
        response=CampaignNow,
    ),
    route(
        "POST",
        "/api/v1/campaigns",
        create_campaign,
        "Create a campaign (as a draft: start it when its leads are in); audited",
        body=CampaignNew,
        response=CampaignSaved,
    ),
    route(
        "PATCH",
        "/api/v1/campaigns/{id}",
        change_campaign,
        "Change a campaign's settings (windows, retry rules, ring time, queue…); audited",
        body=CampaignChange,
        response=CampaignSaved,
    ),
    route(
        "POST",
        "/api/v1/campaigns/{id}/start",
        start_campaign,
        "Start a campaign (audited)",
        response=CampaignStatusChanged,
    ),
    route(
        "POST",
        "/api/v1/campaigns/{id}/pause",
        pause_campaign,
        "Pause a campaign (audited)",
        response=CampaignStatusChanged,
    ),
    route(
        "POST",
        "/api/v1/campaigns/{id}/stop",
        stop_campaign,
        "Stop a campaign (audited)",
        response=CampaignStatusChanged,
    ),
    route(
        "PATCH",
        "/api/v1/campaigns/{id}/pacing",
        change_pacing,
        "Change a campaign's pacing live: mode, abandon cap, dial ratio, risk (audited)",
        body=PacingChange,
        response=PacingChanged,
    ),
    route(
        "POST",
        "/api/v1/dnc",
        add_dnc,
        "Put a number on the global do-not-call list or a campaign's (audited)",
        body=DncBody,
        response=DncAdded,
    ),
    *campaign_leads.ROUTES,
    *campaign_agents.ROUTES,
)


def register(api: Api) -> None:
    """Declare the campaigns endpoints."""
    api.add(ROUTES)


__all__ = ["DIALER_SERVICE", "ROUTES", "attach", "register"]
