"""Agents' work on the dialer's leads: preview (reserve, dial, skip), callbacks, postponed calls,
and the lead behind a dialer call (its screen-pop).

An operator works only the campaigns of their queues (by their routines); supervisors and admins
any. A lead's name and phone are masked without personal_data, and each reading is audited.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from aiohttp import web
from pydantic import MISSING, AwareDatetime, Field

from cti.db import dialer as repo
from cti.domain.backoffice import LEAD_POP_SPEC
from cti.domain.model import CampaignKind, CampaignMode, LeadStatus
from cti.i18n import _
from cti.web.api import Body, HTTPProblem, Route, RouteMaker, body_of
from cti.web.backoffice.common import oversees, path_id, viewer
from cti.web.desk_service import DESK_SERVICE
from cti.web.dialer import TAG, actor, dialer_of
from cti.web.models import Answer
from cti.web.personal import respond
from cti.web.state import current, web_state

route = RouteMaker(TAG, "operator")


async def _works_queue_of(request: web.Request, campaign_id: int) -> None:
    """An operator works a campaign's leads only when the campaign's queue is one of theirs (by
    their routines); supervisors and admins may work any campaign.

    Raises:
        NotFound: an unknown campaign (404).
        HTTPProblem: 403 for an operator outside its queue.
    """
    row = await repo.campaign(web_state(request).runtime.db, campaign_id)
    user = current(request).user
    if oversees(request):
        return
    if row.queue not in web_state(request).runtime.settings.desk.queues_for(user.routines):
        raise HTTPProblem(
            403, _("the campaign's queue {queue} is not one of yours"), "campaign", queue=row.queue
        )


def _lead_parts(pop: dict[str, Any] | None) -> list[Any]:
    return [(f"lead:{pop['lead']['id']}", pop, LEAD_POP_SPEC)] if pop else []


# --- bodies -------------------------------------------------------------------------------------


class CallbackBody(Body):
    due_at: AwareDatetime
    owner: Literal["me", "campaign"] | MISSING = Field(
        default=MISSING, description="whom the call back is for (default: me)"
    )


class PostponeBody(Body):
    until: AwareDatetime


# --- answers ------------------------------------------------------------------------------------


class PopLead(Answer):
    id: int
    phone: str
    name: str | None
    timezone: str | None
    status: LeadStatus
    attempts: int
    customer_id: int | None


class PopCampaign(Answer):
    id: int
    name: str
    kind: CampaignKind
    mode: CampaignMode
    queue: str
    script_id: int | None


class PopDebt(Answer):
    receivable_id: int
    invoice_number: str
    due_on: date
    amount: str = Field(description="the amount as text with two decimals")
    days_overdue: int | None


class LeadPopBody(Answer):
    lead: PopLead
    campaign: PopCampaign
    debts: list[PopDebt] = Field(description="a collection lead's overdue invoices")


class LeadPop(LeadPopBody):
    """A dialer call's lead, its campaign and (collection) its debts; the lead's name and phone
    masked without personal_data (``masked``)."""

    masked: bool


class PreviewLead(Answer):
    lead: LeadPopBody | None = Field(description="None when no lead may be called now")
    masked: bool


class PreviewDialled(Answer):
    attempt_id: int


class PreviewSkipped(Answer):
    skipped: bool


class CallbackSet(Answer):
    callback_id: int
    due_at: str = Field(description="ISO 8601")


class Postponed(Answer):
    until: str = Field(description="ISO 8601")


# --- handlers -----------------------------------------------------------------------------------


async def preview_next(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
    cid = path_id(request)
    await _works_queue_of(request, cid)
    pop = await dialer.preview_next(cid, actor(request))
    return await respond(
        dialer.db,
        viewer(request),
        {"lead": pop},
        {"lead": LEAD_POP_SPEC},
        _lead_parts(pop),
        purpose="preview",
    )


async def preview_dial(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
    await _works_queue_of(request, path_id(request))
    # The call goes to the phone the agent signed in with at the desk (else their stored one).
    desk = request.app.get(DESK_SERVICE)
    seated = desk.agent_of(current(request).user.id) if desk is not None else None
    attempt = await dialer.preview_dial(
        path_id(request),
        path_id(request, "lead"),
        actor(request),
        interface=seated.interface if seated is not None else None,
    )
    return web.json_response({"attempt_id": attempt})


async def preview_skip(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
    await _works_queue_of(request, path_id(request))
    await dialer.preview_skip(path_id(request), path_id(request, "lead"), actor(request))
    return web.json_response({"skipped": True})


async def callback(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
    await _works_queue_of(request, path_id(request))
    body = body_of(request, CallbackBody)
    me = actor(request)
    owner = None if body.owner == "campaign" else me
    cb = await dialer.add_callback(
        path_id(request), path_id(request, "lead"), body.due_at, owner=owner, actor=me
    )
    return web.json_response({"callback_id": cb, "due_at": body.due_at.isoformat()})


async def postpone(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
    await _works_queue_of(request, path_id(request))
    until = body_of(request, PostponeBody).until
    await dialer.postpone(path_id(request), path_id(request, "lead"), until, actor=actor(request))
    return web.json_response({"until": until.isoformat()})


async def call_lead(request: web.Request) -> web.StreamResponse:
    dialer = dialer_of(request)
    linkedid = request.match_info["linkedid"]
    if not oversees(request) and not await _given_to_me(request, linkedid):
        # The same answer as an unknown call: a linkedid is guessable, its lead is not shown.
        raise HTTPProblem(404, _("no dialer call of yours with that linkedid"))
    pop = await dialer.pop_for_call(linkedid)
    if pop is None:
        raise HTTPProblem(404, _("no dialer call with that linkedid"))
    return await respond(
        dialer.db, viewer(request), pop, LEAD_POP_SPEC, _lead_parts(pop), purpose="dialer call"
    )


async def _given_to_me(request: web.Request, linkedid: str) -> bool:
    """Whether the call rang or reached the signed-in operator: their desk's pop (at once), else
    the call log (written just behind the pop)."""
    me = current(request).user.id
    desk = request.app.get(DESK_SERVICE)
    agent = desk.agent_of(me) if desk is not None else None
    if agent is not None and any(
        (held or {}).get("linkedid") == linkedid for held in (agent.pop, agent.call)
    ):
        return True
    return await repo.call_given_to(web_state(request).runtime.db, linkedid, me)


ROUTES: tuple[Route, ...] = (
    route(
        "POST",
        "/api/v1/campaigns/{id}/preview/next",
        preview_next,
        "Preview: reserve the next lead for me (my callbacks first); null when none."
        " Only for operators of the campaign's queue; the lead's name and phone are masked"
        " without personal_data, and the reading audited",
        response=PreviewLead,
    ),
    route(
        "POST",
        "/api/v1/campaigns/{id}/preview/{lead}/dial",
        preview_dial,
        "Preview: call the lead reserved for me; answered, it rings my phone (not the queue)",
        response=PreviewDialled,
    ),
    route(
        "POST",
        "/api/v1/campaigns/{id}/preview/{lead}/skip",
        preview_skip,
        "Preview: skip the lead reserved for me (it waits for a later turn); a lead"
        " reserved for another agent is refused (409)",
        response=PreviewSkipped,
    ),
    route(
        "POST",
        "/api/v1/campaigns/{id}/leads/{lead}/callback",
        callback,
        "Promise a call back at a time, to me or to any agent of the campaign",
        body=CallbackBody,
        response=CallbackSet,
    ),
    route(
        "POST",
        "/api/v1/campaigns/{id}/leads/{lead}/postpone",
        postpone,
        "Postpone a lead's next call until a time",
        body=PostponeBody,
        response=Postponed,
    ),
    route(
        "GET",
        "/api/v1/dialer/calls/{linkedid}",
        call_lead,
        "The lead, campaign and debts of a dialer call (the pop), by its linkedid: for"
        " the agent the call was given to, and supervisors; the lead's name and phone are masked"
        " without personal_data, and the reading audited",
        response=LeadPop,
    ),
)
