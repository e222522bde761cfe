"""The agent desk: desk sign-in to queues, pauses, screen-pops, talk timers, attentions.

REST (all under ``/api/v1/desk``, role operator or above, CSRF on every POST/PATCH):

``GET  /api/v1/desk``                      the desk snapshot plus the form lists
``POST /api/v1/desk/signin``               {interface?} → QueueAdd to the routines' queues
``POST /api/v1/desk/signout``              QueueRemove from them
``POST /api/v1/desk/pause``                {reason} (a pause reason) → QueuePause
``POST /api/v1/desk/resume``               QueuePause off
``POST /api/v1/desk/answer``               answer the ringing phone (only a ``remote_answer`` PBX)
``POST /api/v1/desk/hangup``               hang up the agent's channel
``POST /api/v1/desk/transfer``             {exten, context?} blind transfer of the caller
``POST /api/v1/desk/clear``                clear the attention from the screen (timer resets)
``GET  /api/v1/desk/pops/{pop}``           a pop, to the operator it was pushed to only
``POST /api/v1/desk/register``             {kind suspect|contact, name, ...} register the caller
``GET  /api/v1/desk/attentions/{id}``      an attention with its notes and call
``PATCH /api/v1/desk/attentions/{id}``     save the form ({message_id}: made from that message)
``POST /api/v1/desk/attentions/{id}/notes`` append a note
``GET  /api/v1/desk/history/{party}/{id}`` a customer's, contact's, suspect's or prospect's attentions
``GET  /api/v1/desk/agents``               supervisor: who sits at which desk, in which state

The telesales and collection folders use the back office's endpoints
(``/api/v1/telesales/...``, ``/api/v1/collection/...``) with the attention's id.

WebSocket ``/ws/desk``: the session cookie, a same-origin ``Origin``; messages as listed in
:mod:`cti.web.desk_service`. The client may send ``{"type": "resync"}`` (answered with a snapshot)
and ``{"type": "ping"}`` (``pong``); the session and role are checked again for every message.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import WSMsgType, web

from cti.db import desk as repo
from cti.db import dialer as dialer_repo
from cti.db.backoffice.common import NotFound, Refused
from cti.domain.commands import Hangup, QueueAdd, QueuePause, QueueRemove, Redirect, SimAnswer
from cti.domain.model import CampaignMode, CampaignStatus
from cti.domain.phone import normalize_phone
from cti.errors import AmiError, UserInputError
from cti.web.api import BODY_KEY, ROLE_LEVEL, Api, HTTPProblem, json_error
from cti.web.auth import Session, origin_allowed
from cti.web.backoffice.common import path_id, viewer
from cti.web.desk_service import DESK_TOPIC, DeskAgent, DeskService
from cti.web.state import WEB, WebState, current, web_state

log = logging.getLogger("cti.web.desk")

DESK = "desk"
CLOSE_SESSION_ENDED = 4001
CLOSE_FORBIDDEN = 4003


def desk_of(request: web.Request) -> DeskService:
    service: DeskService = web_state(request).parts[DESK]
    return service


def _agent(request: web.Request) -> DeskAgent:
    agent = desk_of(request).agent_of(current(request).id)
    if agent is None:
        raise HTTPProblem(409, "sign in to your phone first (desk sign-in)")
    return agent


def _ok(**extra: Any) -> web.Response:
    return web.json_response({"ok": True, **extra}, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


async def _send(request: web.Request, pbx: str, command: Any, *, ignore: str = "") -> None:
    try:
        await web_state(request).runtime.ami.send(pbx, command)
    except AmiError as exc:
        if ignore and ignore in str(exc):
            return
        raise HTTPProblem(502, f"the PBX refused: {exc}") from None


def _agent_channel(request: web.Request, agent: DeskAgent) -> tuple[str, str | None]:
    """The agent's own channel name and the caller's, from the live state."""
    state = web_state(request).runtime.ami.state(agent.pbx)
    live = state.agents.get(agent.interface)
    if live is None or live.channel is None or live.channel not in state.channels:
        raise HTTPProblem(409, "you have no call to act on")
    caller = None
    if agent.call is not None and (ch := state.channels.get(agent.call["uniqueid"])) is not None:
        caller = ch.name
    return state.channels[live.channel].name, caller


ATTENTION_FIELDS: dict[str, Any] = {
    "kind": {"type": "string", "enum": ["telemarketing", "telesales", "collection"]},
    "status": {"type": "string", "enum": ["pending", "planned", "closed", "cancelled"]},
    "closing_reason_id": {"type": "integer", "nullable": True},
    "next_call_at": {"type": "string", "format": "date-time", "nullable": True},
    "subject": {"type": "string", "maxLength": 500, "nullable": True},
    "product": {"type": "string", "maxLength": 500, "nullable": True},
    "occurrence": {"type": "string", "maxLength": 2000, "nullable": True},
    "action": {"type": "string", "maxLength": 2000, "nullable": True},
    "owner_id": {"type": "integer", "nullable": True},
    "action_date": {"type": "string", "format": "date", "nullable": True},
    "action_status": {"type": "string", "maxLength": 200, "nullable": True},
    "customer_id": {"type": "integer", "nullable": True},
    "contact_id": {"type": "integer", "nullable": True},
}
ATTENTION_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        **ATTENTION_FIELDS,
        "message_id": {
            "type": "integer",
            "minimum": 1,
            "description": "the pending incoming-call message this attention acts on: finalized",
        },
    },
}


def register(api: Api) -> None:
    """Declare the desk endpoints."""

    @api.route(
        "GET",
        "/api/v1/desk",
        role="operator",
        summary="The desk: state, pop, timer, attention, form lists",
    )
    async def desk(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        session = current(request)
        body = desk_of(request).snapshot_of(session.user)
        body["lists"] = await repo.desk_lists(st.runtime.db)
        body["remote_answer"] = any(p.remote_answer for p in st.runtime.settings.ami)
        body["transfer_contexts"] = list(st.runtime.settings.desk.transfer_contexts)
        body["user"] = {
            "id": session.user.id,
            "full_name": session.user.full_name,
            "routines": list(session.user.routines),
            "group": session.user.group,
            "ideal_talk_seconds": session.user.ideal_talk_seconds,
            "extension": session.user.extension,
        }
        return web.json_response(body, dumps=_dumps)

    @api.route(
        "GET",
        "/api/v1/desk/campaigns",
        role="operator",
        summary="The running preview campaigns of my queues (I see each lead and dial or skip it)",
    )
    async def desk_campaigns(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        session = current(request)
        mine = set(st.runtime.settings.desk.queues_for(session.user.routines))
        rows = await dialer_repo.campaigns(st.runtime.db, statuses=[CampaignStatus.RUNNING])
        return web.json_response(
            {
                "campaigns": [
                    {"id": c.id, "name": c.name, "kind": c.kind.value, "queue": c.queue}
                    for c in rows
                    if c.mode is CampaignMode.PREVIEW and c.queue in mine
                ]
            }
        )

    @api.route(
        "POST",
        "/api/v1/desk/signin",
        role="operator",
        summary="Sign in at the desk: add your phone to the queues of your routines",
        body={
            "type": "object",
            "properties": {
                "interface": {"type": "string", "minLength": 3, "maxLength": 100},
                "pbx": {"type": "string", "maxLength": 100},
            },
        },
    )
    async def signin(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        service = desk_of(request)
        user = current(request).user
        body = request[BODY_KEY]
        interface = (body.get("interface") or user.extension or "").strip()
        if not interface or "/" not in interface:
            raise UserInputError("interface", "state your phone as an interface like PJSIP/1001")
        pbxs = [p.name for p in st.runtime.settings.ami]
        pbx = body.get("pbx") or pbxs[0]
        if pbx not in pbxs:
            raise UserInputError("pbx", "must be one of " + ", ".join(pbxs))
        queues = st.runtime.settings.desk.queues_for(user.routines)
        if not queues:
            raise UserInputError("routines", "you have no routine with a queue")
        holder = service.holder_of(pbx, interface)
        if holder is not None and holder.user.id != user.id:
            raise HTTPProblem(
                409, f"{interface} is in use at {holder.user.full_name}'s desk", "interface"
            )
        mine = service.agent_of(user.id)
        if mine is not None:
            if mine.interface == interface and mine.pbx == pbx:
                return web.json_response(service.snapshot_of(user), dumps=_dumps)
            await _leave_queues(st, mine)
            await service.remove(mine)
        for queue in queues:
            await _send(
                request,
                pbx,
                QueueAdd(
                    queue=queue,
                    interface=interface,
                    member_name=user.full_name,
                    state_interface=interface,
                ),
                ignore="Already there",
            )
        agent = service.add(user, pbx, interface, queues)
        await st.runtime.ami.flush(pbx)
        live = st.runtime.ami.state(pbx).agents.get(interface)
        if live is not None:
            agent.state, agent.reason, agent.since = live.state.value, live.reason, live.since
        snap = service.snapshot_of(user)
        service.push(user.id, dict(snap))
        return web.json_response(snap, dumps=_dumps)

    @api.route(
        "POST",
        "/api/v1/desk/signout",
        role="operator",
        summary="Sign out of the desk: leave the queues",
    )
    async def signout(request: web.Request) -> web.StreamResponse:
        service = desk_of(request)
        agent = _agent(request)
        await _leave_queues(web_state(request), agent)
        await service.remove(agent)
        snap = service.snapshot_of(current(request).user)
        service.push(agent.user.id, dict(snap))
        return web.json_response(snap, dumps=_dumps)

    @api.route(
        "POST",
        "/api/v1/desk/pause",
        role="operator",
        summary="Pause in all your queues with a reason",
        body={
            "type": "object",
            "required": ["reason"],
            "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 100}},
        },
    )
    async def pause(request: web.Request) -> web.StreamResponse:
        agent = _agent(request)
        reason = request[BODY_KEY]["reason"]
        if not await repo.pause_reason_exists(web_state(request).runtime.db, reason):
            raise UserInputError("reason", f"{reason!r} is not a pause reason")
        await _send(
            request, agent.pbx, QueuePause(interface=agent.interface, paused=True, reason=reason)
        )
        return _ok()

    @api.route("POST", "/api/v1/desk/resume", role="operator", summary="End the pause")
    async def resume(request: web.Request) -> web.StreamResponse:
        agent = _agent(request)
        await _send(request, agent.pbx, QueuePause(interface=agent.interface, paused=False))
        return _ok()

    @api.route(
        "POST",
        "/api/v1/desk/answer",
        role="operator",
        summary="Answer the ringing phone (a PBX with remote_answer only)",
    )
    async def answer(request: web.Request) -> web.StreamResponse:
        agent = _agent(request)
        settings = {p.name: p for p in web_state(request).runtime.settings.ami}
        if not settings[agent.pbx].remote_answer:
            raise HTTPProblem(409, "this PBX cannot answer your phone; pick it up")
        await _send(request, agent.pbx, SimAnswer(interface=agent.interface))
        return _ok()

    @api.route("POST", "/api/v1/desk/hangup", role="operator", summary="Hang up your call")
    async def hangup(request: web.Request) -> web.StreamResponse:
        agent = _agent(request)
        channel, _ = _agent_channel(request, agent)
        await _send(request, agent.pbx, Hangup(channel=channel))
        return _ok()

    @api.route(
        "POST",
        "/api/v1/desk/transfer",
        role="operator",
        summary="Blind transfer of the caller to an extension",
        body={
            "type": "object",
            "required": ["exten"],
            "properties": {
                "exten": {"type": "string", "minLength": 1, "maxLength": 40},
                "context": {"type": "string", "maxLength": 80, "description": "[desk] contexts"},
            },
        },
    )
    async def transfer(request: web.Request) -> web.StreamResponse:
        agent = _agent(request)
        body = request[BODY_KEY]
        exten = body["exten"].strip()
        if not all(ch.isalnum() or ch in "+*#" for ch in exten):
            raise UserInputError("exten", "digits (or letters) only")
        contexts = web_state(request).runtime.settings.desk.transfer_contexts
        context = body.get("context") or contexts[0]
        if context not in contexts:
            raise UserInputError("context", "must be one of " + ", ".join(contexts))
        channel, caller = _agent_channel(request, agent)
        await _send(
            request,
            agent.pbx,
            Redirect(channel=caller or channel, context=context, exten=exten),
        )
        return _ok()

    @api.route(
        "POST", "/api/v1/desk/clear", role="operator", summary="Clear the attention from the screen"
    )
    async def clear(request: web.Request) -> web.StreamResponse:
        agent = _agent(request)
        if agent.timer() is not None:
            raise HTTPProblem(409, "the call is still up; hang up first")
        desk_of(request).clear(agent)
        return _ok()

    @api.route(
        "GET",
        "/api/v1/desk/pops/{pop}",
        role="operator",
        summary="A screen-pop (only the operator it was pushed to may read it)",
    )
    async def read_pop(request: web.Request) -> web.StreamResponse:
        found = desk_of(request).pop_for(request.match_info["pop"])
        if found is None:
            raise HTTPProblem(404, "no such pop")
        owner, pop = found
        if owner != current(request).id:
            raise HTTPProblem(403, "this pop belongs to another operator")
        return web.json_response({"pop": pop}, dumps=_dumps)

    @api.route(
        "POST",
        "/api/v1/desk/register",
        role="operator",
        summary="Register the unknown caller of your pop as a suspect or a contact of a customer",
        body={
            "type": "object",
            "required": ["kind", "name"],
            "properties": {
                "kind": {"type": "string", "enum": ["suspect", "contact"]},
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "company": {"type": "string", "maxLength": 200},
                "position": {"type": "string", "maxLength": 200},
                "customer_id": {"type": "integer"},
                "phone": {"type": "string", "maxLength": 40},
            },
        },
    )
    async def register_caller(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        service = desk_of(request)
        agent = _agent(request)
        body = request[BODY_KEY]
        pop = agent.pop
        raw = body.get("phone") or (pop or {}).get("caller_num") or ""
        if not raw:
            raise UserInputError("phone", "there is no caller number to register")
        phone = normalize_phone(raw, st.runtime.settings.telephony.default_region)
        name = body["name"].strip()
        if body["kind"] == "suspect":
            ident = await repo.register_suspect(
                st.runtime.db, name=name, company=body.get("company"), phone=phone, raw_phone=raw
            )
            party = repo.Party(suspect_id=ident)
        else:
            if "customer_id" not in body:
                raise UserInputError("customer_id", "a contact belongs to a customer")
            ident = await repo.register_contact(
                st.runtime.db,
                customer_id=body["customer_id"],
                name=name,
                position=body.get("position"),
                phone=phone,
                raw_phone=raw,
            )
            party = repo.Party(customer_id=body["customer_id"], contact_id=ident)
        if pop is not None and pop.get("phone") == phone:
            pop.update(await service.lookup(agent, phone))
            pop["known"] = pop["match"] is not None
            service.push(agent.user.id, {"type": "pop_update", "pop": pop})
            attention_id = (agent.attention or {}).get("id")
            if attention_id is not None:
                await repo.link_attention_party(st.runtime.db, attention_id, party)
                await service.refresh_attention(agent, attention_id)
        return _ok(id=ident, kind=body["kind"])

    @api.route(
        "GET",
        "/api/v1/desk/attentions/{id}",
        role="operator",
        summary="An attention with its notes and its call's times",
    )
    async def get_attention(request: web.Request) -> web.StreamResponse:
        ident = path_id(request)
        found = await repo.attention_detail(web_state(request).runtime.db, ident, viewer(request))
        if found is None:
            raise HTTPProblem(404, f"there is no attention {ident}")
        agent = desk_of(request).agent_of(current(request).id)
        if agent is not None and (agent.attention or {}).get("id") == ident:
            agent.attention = found  # its telesales operation may have changed (the footer's)
        return web.json_response(found, dumps=_dumps)

    @api.route(
        "PATCH",
        "/api/v1/desk/attentions/{id}",
        role="operator",
        summary="Save the attention form",
        body=ATTENTION_BODY,
    )
    async def save(request: web.Request) -> web.StreamResponse:
        st = web_state(request)
        session = current(request)
        ident = path_id(request)
        changes = dict(request[BODY_KEY])
        message_id = changes.pop("message_id", None)
        try:
            await repo.save_attention(
                st.runtime.db,
                ident,
                changes,
                now=st.runtime.clock.now(),
                viewer=viewer(request),
                may_edit_others=ROLE_LEVEL[session.role] >= ROLE_LEVEL["supervisor"],
                message_id=message_id,
            )
        except NotFound as exc:
            raise HTTPProblem(404, str(exc), "message_id") from None
        except Refused as exc:
            raise HTTPProblem(409, exc.message, "message_id") from None
        agent = desk_of(request).agent_of(session.id)
        if agent is not None and (agent.attention or {}).get("id") == ident:
            await desk_of(request).refresh_attention(agent, ident)
        found = await repo.attention_detail(st.runtime.db, ident, viewer(request))
        return web.json_response(found, dumps=_dumps)

    @api.route(
        "POST",
        "/api/v1/desk/attentions/{id}/notes",
        role="operator",
        summary="Append a note (notes are never edited)",
        body={
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 10000}},
        },
    )
    async def note(request: web.Request) -> web.StreamResponse:
        ident = path_id(request)
        added = await repo.add_note(
            web_state(request).runtime.db,
            ident,
            author_id=current(request).id,
            text=request[BODY_KEY]["text"],
        )
        return web.json_response(added, dumps=_dumps)

    @api.route(
        "GET",
        "/api/v1/desk/history/{party}/{id}",
        role="operator",
        summary="The attentions of a customer, contact, suspect or prospect, newest first",
    )
    async def party_history(request: web.Request) -> web.StreamResponse:
        found = await repo.history(
            web_state(request).runtime.db,
            viewer(request),
            request.match_info["party"],
            path_id(request),
        )
        return web.json_response(found, dumps=_dumps)

    @api.route(
        "GET",
        "/api/v1/desk/agents",
        role="supervisor",
        summary="Who sits at which desk and phone, in which state",
        tag="supervisor",
    )
    async def agents(request: web.Request) -> web.StreamResponse:
        rows = [
            {
                "user_id": a.user.id,
                "name": a.user.full_name,
                "interface": a.interface,
                "queues": list(a.queues),
                "state": a.state,
                "reason": a.reason,
            }
            for a in desk_of(request).agents()
        ]
        return web.json_response({"agents": rows})


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
                raise HTTPProblem(502, f"the PBX refused: {exc}") from None
            log.warning("sign-out: %s stays in queue %s: %s", agent.interface, queue, exc)


async def leave_desk(st: WebState, user_id: int) -> None:
    """Take the operator's phone out of their queues and forget their desk agent: what signing
    out of cti, or a session taken over from another machine, does."""
    service: DeskService | None = st.parts.get(DESK)
    agent = service.agent_of(user_id) if service is not None else None
    if service is None or agent is None:
        return
    await _leave_queues(st, agent, strict=False)
    await service.remove(agent)
    service.push(user_id, service.snapshot_of(agent.user))


# --- the WebSocket ----------------------------------------------------------------------------


async def desk_socket(request: web.Request) -> web.StreamResponse:
    """``/ws/desk``: the agent's live desk."""
    st = web_state(request)
    session = st.user_of(request)
    if session is None:
        return json_error(401, "sign in first")
    if not origin_allowed(request, st.runtime.settings.server.allowed_origins):
        return json_error(403, "this page may not open the desk (Origin)")
    ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=64 * 1024)
    await ws.prepare(request)
    service: DeskService = st.parts[DESK]
    client = st.hub.attach(
        ws, user_id=session.id, role=session.role, session=session.token, topics=(DESK_TOPIC,)
    )
    session.desk_open = True
    st.hub.send_to_client(client, service.snapshot_of(session.user))
    try:
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            live = st.sessions.get(session.token)
            if live is None:
                st.hub.close_client(client, CLOSE_SESSION_ENDED, "signed out")
                break
            if ROLE_LEVEL.get(live.role, 0) < ROLE_LEVEL["operator"]:
                st.hub.close_client(client, CLOSE_FORBIDDEN, "not allowed")
                break
            _on_client_message(st.hub, service, client, live, msg.data)
    finally:
        st.hub.detach(client)
        if not any(
            c.session == session.token and DESK_TOPIC in c.topics
            for c in st.hub.clients_of(session.id)
        ):
            session.desk_open = False
    return ws


def _on_client_message(
    hub: Any, service: DeskService, client: Any, session: Session, data: str
) -> None:
    try:
        message = json.loads(data)
    except json.JSONDecodeError:
        hub.send_to_client(client, {"type": "error", "error": "not JSON"})
        return
    kind = message.get("type") if isinstance(message, dict) else None
    if kind == "resync":
        hub.send_to_client(client, service.snapshot_of(session.user))
    elif kind == "ping":
        hub.send_to_client(client, {"type": "pong", "now": service.now_ms()})
    else:
        hub.send_to_client(client, {"type": "error", "error": f"unknown message type {kind!r}"})


def setup(app: web.Application) -> None:
    """The WebSocket route, and the desk service started and stopped with the app."""
    app.router.add_get("/ws/desk", desk_socket)

    async def start(app: web.Application) -> None:
        st = app[WEB]
        dialer = st.parts.get("dialer")
        service = DeskService(
            st.runtime, st.hub, campaign_pop=dialer.pop_for_call if dialer is not None else None
        )
        st.parts[DESK] = service
        service.start()

    async def stop(app: web.Application) -> None:
        service = app[WEB].parts.pop(DESK, None)
        if service is not None:
            await service.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
