"""The desk's seat: signing in at a desk (the phone joins the queues of the operator's routines),
signing out, pausing, and the phone's controls (answer, hang up, transfer, clear the screen).

Also what the other desk endpoints share: the desk service (:func:`desk_of`), the signed-in
operator's desk agent (:func:`seated`) and a desk frame answered to a request
(:func:`frame_response`, its personal fields as the operator may see them).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from cti.db import desk as repo
from cti.db import dialer as dialer_repo
from cti.db import softphones
from cti.domain.commands import (
    Command,
    Hangup,
    QueuePause,
    QueueRemove,
    Redirect,
    SimAnswer,
)
from cti.domain.model import CampaignKind, CampaignMode, CampaignStatus
from cti.errors import AmiError, UserInputError
from cti.i18n import _
from cti.web.api import Body, HTTPProblem, Route, RouteMaker, body_of
from cti.web.backoffice.common import viewer
from cti.web.desk_channels import call_channels
from cti.web.desk_service import (
    DESK_SERVICE,
    SCREEN_POP,
    DeskAgent,
    DeskService,
    desk_frame,
    pop_parts,
)
from cti.web.models import Done
from cti.web.personal import disclose, permission
from cti.web.state import WEB, WebState, current, web_state

log = logging.getLogger("cti.web.desk")

route = RouteMaker("desk", "operator")


def desk_of(request: web.Request) -> DeskService:
    """The desk service."""
    return request.app[DESK_SERVICE]


def seated(request: web.Request) -> DeskAgent:
    """The signed-in operator's desk agent; 409 when they have not signed in at a desk."""
    agent = desk_of(request).agent_of(current(request).id)
    if agent is None:
        raise HTTPProblem(409, _("sign in to your phone first (desk sign-in)"))
    return agent


def dumps(value: Any) -> str:
    """JSON with dates and times as ISO text (what the repositories' dicts hold)."""
    return json.dumps(value, default=str)


async def frame_response(request: web.Request, body: dict[str, Any]) -> web.Response:
    """A desk message (a snapshot, a pop) as the signed-in operator may see it, answered to a
    request: the permission is read now and showing a pop is audited."""
    pop = body["desk"].get("pop") if "desk" in body else body.get("pop")
    allowed = await disclose(
        web_state(request).runtime.db,
        viewer(request),
        pop_parts(pop) if pop else [],
        purpose=SCREEN_POP,
    )
    shown = desk_frame(body, allowed=allowed)
    shown["masked"] = not allowed
    return web.json_response(shown, dumps=dumps)


async def send_command(
    request: web.Request, pbx: str, command: Command, *, ignore: str = ""
) -> None:
    try:
        await web_state(request).runtime.ami.send(pbx, command)
    except AmiError as exc:
        if ignore and ignore in str(exc):
            return
        raise HTTPProblem(502, _("the PBX refused: {exc}"), exc=exc) from None


def _agent_channel(request: web.Request, agent: DeskAgent) -> tuple[str, str | None]:
    """The agent's own channel name and the caller's, from the live state."""
    state = web_state(request).runtime.ami.state(agent.pbx)
    mine, caller = call_channels(state, agent.interface, agent.call)
    if mine is None:
        raise HTTPProblem(409, _("you have no call to act on"))
    return mine.name, caller.name if caller is not None else None


def reply(answer: BaseModel) -> web.Response:
    """An answer model as JSON."""
    return web.json_response(answer.model_dump(mode="json"))


# --- bodies -------------------------------------------------------------------------------------


class SigninBody(Body):
    interface: Annotated[str, Field(min_length=3, max_length=100)] | None = Field(
        None, description="an interface like PJSIP/1001 (default: your phone)"
    )
    pbx: Annotated[str, Field(max_length=100)] | None = Field(
        None, description="a configured PBX (default: the first)"
    )


class DeskPauseBody(Body):
    reason: Annotated[str, Field(min_length=1, max_length=100, description="a pause reason")]


class TransferBody(Body):
    exten: Annotated[str, Field(min_length=1, max_length=40)]
    context: Annotated[str, Field(max_length=80)] | None = Field(
        None, description="one of the [desk] transfer contexts (default: the first)"
    )


# --- answers (what the pages read) --------------------------------------------------------------


class DeskTimer(BaseModel):
    started_ms: int
    ideal_seconds: int | None
    uniqueid: str


class DeskFooter(BaseModel):
    last_call: dict[str, Any] | None = Field(description="caller, number, ...: masked")
    operator: str
    attention_status: str | None
    operation: str | None = Field(description="the telesales quote or order of the attention")
    next_call: str | None


class DeskWrapup(BaseModel):
    """After-call work: no queue call is offered until the attention is disposed."""

    started_ms: int
    until_ms: int | None = Field(description="when the group's maximum wrap-up time ends it")
    max_seconds: int | None
    needs: Literal["status", "reason"] = Field(
        description="what the attention needs: a status other than pending, or that and a"
        " closing reason"
    )
    attention_id: int | None
    todo: str | None = Field(description="what is left to do before wrap-up ends")
    then: str = Field(description="what the agent will be afterwards: ready, or paused (reason)")


class DeskState(BaseModel):
    signed_in: bool
    pbx: str | None = Field(default=None, description="when signed in")
    interface: str | None
    queues: list[str]
    state: str
    reason: str
    since: str | None = Field(default=None, description="when signed in")
    phone_unavailable: bool | None = Field(default=None, description="when signed in")
    pop: dict[str, Any] | None = Field(description="the screen-pop: personal fields masked")
    call: dict[str, Any] | None = Field(description="the call: its caller id masked")
    timer: DeskTimer | None
    attention: dict[str, Any] | None
    footer: DeskFooter
    wrapup: DeskWrapup | None = Field(
        default=None, description="after-call work (null: not in wrap-up)"
    )


class DeskSnapshot(BaseModel):
    """The desk as the ``snapshot`` frame of ``/ws/desk`` gives it."""

    type: Literal["snapshot"]
    now: int = Field(description="the server's clock, epoch ms")
    desk: DeskState
    masked: bool = Field(description="personal fields are masked (no personal_data)")


class DeskClosingReason(BaseModel):
    id: int
    name: str
    kind: str | None


class DeskOperator(BaseModel):
    id: int
    name: str


class DeskLists(BaseModel):
    pause_reasons: list[str]
    closing_reasons: list[DeskClosingReason]
    operators: list[DeskOperator]


class DeskUser(BaseModel):
    id: int
    full_name: str
    routines: list[str]
    group: str | None
    ideal_talk_seconds: int | None
    extension: str | None


class DeskReply(DeskSnapshot):
    """The desk snapshot with what the page's forms need."""

    lists: DeskLists
    remote_answer: bool = Field(description="a PBX can answer the phone (POST /desk/answer)")
    transfer_contexts: list[str]
    user: DeskUser


class DeskCampaign(BaseModel):
    id: int
    name: str
    kind: CampaignKind
    queue: str


class DeskCampaigns(BaseModel):
    campaigns: list[DeskCampaign]


# --- handlers -----------------------------------------------------------------------------------


async def desk(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    user = current(request).user
    body = desk_of(request).snapshot_of(user)
    body["lists"] = await repo.desk_lists(st.runtime.db)
    body["remote_answer"] = any(p.remote_answer for p in st.runtime.settings.ami)
    body["transfer_contexts"] = list(st.runtime.settings.desk.transfer_contexts)
    body["user"] = DeskUser(
        id=user.id,
        full_name=user.full_name,
        routines=list(user.routines),
        group=user.group,
        ideal_talk_seconds=user.ideal_talk_seconds,
        extension=user.extension,
    ).model_dump()
    return await frame_response(request, body)


async def desk_campaigns(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    mine = set(st.runtime.settings.desk.queues_for(current(request).user.routines))
    rows = await dialer_repo.campaigns(st.runtime.db, statuses=[CampaignStatus.RUNNING])
    return reply(
        DeskCampaigns(
            campaigns=[
                DeskCampaign(id=c.id, name=c.name, kind=c.kind, queue=c.queue)
                for c in rows
                if c.mode is CampaignMode.PREVIEW and c.queue in mine
            ]
        )
    )


async def signin(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    service = desk_of(request)
    user = current(request).user
    body = body_of(request, SigninBody)
    interface = (body.interface or user.extension or "").strip()
    if not interface or "/" not in interface:
        raise UserInputError("interface", _("state your phone as an interface like PJSIP/1001"))
    pbxs = [p.name for p in st.runtime.settings.ami]
    pbx = body.pbx or pbxs[0]
    if pbx not in pbxs:
        raise UserInputError("pbx", _("must be one of {choices}"), choices=", ".join(pbxs))
    queues = st.runtime.settings.desk.queues_for(user.routines)
    if not queues:
        raise UserInputError("routines", _("you have no routine with a queue"))
    holder = service.holder_of(pbx, interface)
    if holder is not None and holder.user.id != user.id:
        raise HTTPProblem(
            409,
            _("{interface} is in use at {full_name}'s desk"),
            "interface",
            interface=interface,
            full_name=holder.user.full_name,
        )
    mine = service.agent_of(user.id)
    if mine is not None and (mine.interface, mine.pbx, mine.queues) != (interface, pbx, queues):
        await _leave_queues(st, mine)
        await service.remove(mine)
        mine = None
    agent = mine or service.add(user, pbx, interface, queues)
    # Always asked of the PBX, whatever cti believes: a PBX that lost its members (a
    # restart) gets them back from the agent pressing "Sign in to phone" again.
    try:
        await service.join_queues(agent, missing_only=False)
    except AmiError as exc:
        if mine is None:
            await service.remove(agent)
        raise HTTPProblem(502, _("the PBX refused: {exc}"), exc=exc) from None
    await st.runtime.ami.flush(pbx)
    service.follow_live(agent)
    snap = service.snapshot_of(user)
    service.push(user.id, dict(snap))
    return await frame_response(request, snap)


async def signout(request: web.Request) -> web.StreamResponse:
    service = desk_of(request)
    agent = seated(request)
    await _leave_queues(web_state(request), agent)
    await service.remove(agent)
    await softphones.withdraw(web_state(request).runtime.db, agent.user.id)
    snap = service.snapshot_of(current(request).user)
    service.push(agent.user.id, dict(snap))
    return await frame_response(request, snap)


async def pause(request: web.Request) -> web.StreamResponse:
    agent = seated(request)
    reason = body_of(request, DeskPauseBody).reason
    if not await repo.pause_reason_exists(web_state(request).runtime.db, reason):
        raise UserInputError("reason", _("{reason!r} is not a pause reason"), reason=reason)
    if desk_of(request).defer_pause(agent, reason):
        return reply(Done(ok=True))  # on a call or in after-call work: once the wrap-up ends
    await send_command(
        request, agent.pbx, QueuePause(interface=agent.interface, paused=True, reason=reason)
    )
    return reply(Done(ok=True))


async def resume(request: web.Request) -> web.StreamResponse:
    agent = seated(request)
    if desk_of(request).defer_pause(agent, None):
        return reply(Done(ok=True))
    await send_command(request, agent.pbx, QueuePause(interface=agent.interface, paused=False))
    return reply(Done(ok=True))


async def finish_wrapup(request: web.Request) -> web.StreamResponse:
    agent = seated(request)
    if agent.wrapup is None or agent.wrapup.finished:
        raise HTTPProblem(409, _("you are not in after-call work"))
    todo = agent.wrapup_todo()
    if todo is not None:
        raise HTTPProblem(409, _("to finish after-call work, {todo}"), "attention", todo=todo)
    if not await desk_of(request).finish_wrapup(agent):
        raise HTTPProblem(502, _("the PBX refused to end the wrap-up pause: try again"))
    return reply(Done(ok=True))


async def answer(request: web.Request) -> web.StreamResponse:
    agent = seated(request)
    settings = {p.name: p for p in web_state(request).runtime.settings.ami}
    if not settings[agent.pbx].remote_answer:
        raise HTTPProblem(409, _("this PBX cannot answer your phone; pick it up"))
    await send_command(request, agent.pbx, SimAnswer(interface=agent.interface))
    return reply(Done(ok=True))


async def hangup(request: web.Request) -> web.StreamResponse:
    agent = seated(request)
    channel, _ = _agent_channel(request, agent)
    await send_command(request, agent.pbx, Hangup(channel=channel))
    return reply(Done(ok=True))


async def transfer(request: web.Request) -> web.StreamResponse:
    agent = seated(request)
    body = body_of(request, TransferBody)
    exten = body.exten.strip()
    if not all(ch.isalnum() or ch in "+*#" for ch in exten):
        raise UserInputError("exten", _("digits (or letters) only"))
    contexts = web_state(request).runtime.settings.desk.transfer_contexts
    context = body.context or contexts[0]
    if context not in contexts:
        raise UserInputError("context", _("must be one of {choices}"), choices=", ".join(contexts))
    channel, caller = _agent_channel(request, agent)
    await send_command(
        request,
        agent.pbx,
        Redirect(channel=caller or channel, context=context, exten=exten),
    )
    return reply(Done(ok=True))


async def clear(request: web.Request) -> web.StreamResponse:
    agent = seated(request)
    if agent.timer() is not None:
        raise HTTPProblem(409, _("the call is still up; hang up first"))
    if agent.wrapup is not None and (todo := agent.wrapup_todo()) is not None:
        raise HTTPProblem(
            409, _("you are in after-call work: {todo} before you clear it"), todo=todo
        )
    desk_of(request).clear(agent)
    return reply(Done(ok=True))


async def _leave_queues(st: WebState, agent: DeskAgent, *, strict: bool = True) -> None:
    """QueueRemove the agent's phone from their queues; a refusal is a 502 when ``strict``, else
    logged (signing out of cti must not fail because the PBX cannot be reached)."""
    for queue in agent.queues:
        try:
            await st.runtime.ami.send(
                agent.pbx, QueueRemove(queue=queue, interface=agent.interface)
            )
        except AmiError as exc:
            if "Not there" in str(exc):
                continue
            if strict:
                raise HTTPProblem(502, _("the PBX refused: {exc}"), exc=exc) from None
            log.warning("sign-out: %s stays in queue %s: %s", agent.interface, queue, exc)


async def leave_desk(app: web.Application, user_id: int) -> None:
    """Take the operator's phone out of their queues and forget their desk agent: what signing
    out of cti, or a session taken over from another machine, does. The desk's softphone account,
    if any, is withdrawn too."""
    await softphones.withdraw(app[WEB].runtime.db, user_id)
    service = app.get(DESK_SERVICE)
    agent = service.agent_of(user_id) if service is not None else None
    if service is None or agent is None:
        return
    await _leave_queues(app[WEB], agent, strict=False)
    await service.remove(agent)
    service.push(user_id, service.snapshot_of(agent.user))


async def refresh_permissions(app: web.Application, user_ids: Collection[int] | None) -> None:
    """The personal-data permission of these users (None: of anyone, a group's changed) may have
    changed: their open desks show, from now on, what they may see (a fresh snapshot)."""
    service = app.get(DESK_SERVICE)
    if service is None:
        return
    db = app[WEB].runtime.db
    for agent in service.agents():
        if user_ids is not None and agent.user.id not in user_ids:
            continue
        allowed = await permission(db, agent.user.id)
        if allowed != agent.personal_data:
            agent.personal_data = allowed
            if (attention_id := (agent.attention or {}).get("id")) is not None:
                # The attention is read as its viewer may see it: read it again.
                await service.refresh_attention(agent, attention_id)
            log.info(
                "desk of %s: personal data now %s",
                agent.user.username,
                "shown" if allowed else "masked",
            )
            service.push(agent.user.id, service.snapshot_of(agent.user))


ROUTES: tuple[Route, ...] = (
    route(
        "GET", "/api/v1/desk", desk, "The desk: state, pop, timer, attention, form lists", DeskReply
    ),
    route(
        "GET",
        "/api/v1/desk/campaigns",
        desk_campaigns,
        "The running preview campaigns of my queues (I see each lead and dial or skip it)",
        DeskCampaigns,
    ),
    route(
        "POST",
        "/api/v1/desk/signin",
        signin,
        "Sign in at the desk: add your phone to the queues of your routines",
        DeskSnapshot,
        body=SigninBody,
    ),
    route(
        "POST",
        "/api/v1/desk/signout",
        signout,
        "Sign out of the desk: leave the queues",
        DeskSnapshot,
    ),
    route(
        "POST",
        "/api/v1/desk/pause",
        pause,
        "Pause in all your queues with a reason (on a call or in after-call work: once the"
        " wrap-up ends)",
        Done,
        body=DeskPauseBody,
    ),
    route(
        "POST",
        "/api/v1/desk/resume",
        resume,
        "End the pause (on a call or in after-call work: be ready, not paused, once the wrap-up"
        " ends)",
        Done,
    ),
    route(
        "POST",
        "/api/v1/desk/wrapup/finish",
        finish_wrapup,
        "End after-call work: the call's attention must be disposed as your group asks",
        Done,
    ),
    route(
        "POST",
        "/api/v1/desk/answer",
        answer,
        "Answer the ringing phone (a PBX with remote_answer only)",
        Done,
    ),
    route("POST", "/api/v1/desk/hangup", hangup, "Hang up your call", Done),
    route(
        "POST",
        "/api/v1/desk/transfer",
        transfer,
        "Blind transfer of the caller to an extension",
        Done,
        body=TransferBody,
    ),
    route("POST", "/api/v1/desk/clear", clear, "Clear the attention from the screen", Done),
)
