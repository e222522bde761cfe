"""The agent desk: desk sign-in to queues, pauses, screen-pops, talk timers, attentions.

REST (all under ``/api/v1/desk``, role operator or above, CSRF on every POST/PATCH):

``GET  /api/v1/desk``                      the desk snapshot plus the form lists
``GET  /api/v1/desk/campaigns``            the running preview campaigns of my queues
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

The seat and the phone's controls are in :mod:`cti.web.desk_phone`, the pops and attentions in
:mod:`cti.web.desk_attentions`; ``ROUTES`` declares them all.

WebSocket ``/ws/desk``: the session cookie, a same-origin ``Origin``; messages as listed in
:mod:`cti.web.desk_service`. The client may send ``{"type": "resync"}`` (answered with a snapshot)
and ``{"type": "ping"}`` (``pong``); the session and role are checked again for every message
(:mod:`cti.web.sockets`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from pydantic import BaseModel

from cti.web import desk_attentions, desk_dial, desk_phone, desk_softphone, desk_transfer
from cti.web.api import Api, Route, RouteMaker
from cti.web.desk_holding import DESK_HOLDING, DeskHolding
from cti.web.desk_phone import desk_of, leave_desk, reply
from cti.web.desk_restore import DeskRestorer
from cti.web.desk_service import DESK_SERVICE, DESK_TOPIC, DeskService
from cti.web.dialer import DIALER_SERVICE
from cti.web.hub import CLOSE_SESSION_ENDED
from cti.web.sockets import answer_messages, open_socket
from cti.web.state import WEB, web_state

log = logging.getLogger("cti.web.desk")
route = RouteMaker("desk", "operator")


class DeskAgentItem(BaseModel):
    user_id: int
    name: str
    interface: str
    queues: list[str]
    state: str
    reason: str


class DeskAgents(BaseModel):
    agents: list[DeskAgentItem]


async def agents(request: web.Request) -> web.StreamResponse:
    found = [
        DeskAgentItem(
            user_id=a.user.id,
            name=a.user.full_name,
            interface=a.interface,
            queues=list(a.queues),
            state=a.state,
            reason=a.reason,
        )
        for a in desk_of(request).agents()
    ]
    # The desks other instances hold, as the PBX shows their agents.
    holding = request.app.get(DESK_HOLDING)
    here = {a.user_id for a in found}
    ami = web_state(request).runtime.ami
    for (pbx, interface), (user_id, name) in (holding.seats() if holding else {}).items():
        live = ami.state(pbx).agents.get(interface)
        if user_id not in here and live is not None:
            found.append(
                DeskAgentItem(
                    user_id=user_id,
                    name=name,
                    interface=interface,
                    queues=sorted(live.queues),
                    state=live.state.value,
                    reason=live.reason,
                )
            )
    return reply(DeskAgents(agents=sorted(found, key=lambda a: a.name)))


ROUTES: tuple[Route, ...] = (
    *desk_phone.ROUTES,
    *desk_softphone.ROUTES,
    *desk_attentions.ROUTES,
    *desk_transfer.ROUTES,
    *desk_dial.ROUTES,
    route(
        "GET",
        "/api/v1/desk/agents",
        agents,
        "Who sits at which desk and phone, in which state",
        DeskAgents,
        role="supervisor",
        tag="supervisor",
    ),
)


def register(api: Api) -> None:
    """Declare the desk endpoints."""
    api.add(ROUTES)


# --- the WebSocket ----------------------------------------------------------------------------


async def desk_socket(request: web.Request) -> web.StreamResponse:
    """``/ws/desk``: the agent's live desk."""
    # Uncompressed: a desk's frames are small, and a compressor for each of 2,000 desks held
    # 200 MB of cti's memory and a few per cent of its CPU (bench/screenpop.py).
    opened = await open_socket(
        request,
        topic=DESK_TOPIC,
        least_role="operator",
        page="the desk",
        max_msg_size=64 * 1024,
        compress=False,
    )
    if isinstance(opened, web.Response):
        return opened
    st = web_state(request)
    service = request.app[DESK_SERVICE]
    session = opened.session
    await st.sessions.set_desk_open(session, True)
    holding = request.app.get(DESK_HOLDING)
    if holding is not None and service.agent_of(session.id) is None:
        # Held by another instance (killed, or this page moved here): served here from now on.
        await holding.adopt(session.user)
    service.send(opened.client, session.user, service.snapshot_of(session.user))
    try:
        await answer_messages(
            st,
            opened,
            resync=lambda live: service.send(
                opened.client, live.user, service.snapshot_of(live.user)
            ),
            now_ms=service.now_ms,
            least_role="operator",
        )
    finally:
        st.hub.detach(opened.client)
        if not any(
            c.session == session.key and DESK_TOPIC in c.topics
            for c in st.hub.clients_of(session.id)
        ):
            try:
                await st.sessions.set_desk_open(session, False)
            except Exception:  # the database going away must not hide the socket's own end
                log.warning("desk of %s: could not note it closed", session.user.username)
    return opened.ws


async def _desk_service(app: web.Application) -> AsyncIterator[None]:
    """The desk service, started and stopped with the app."""
    st = app[WEB]
    dialer = app.get(DIALER_SERVICE)
    service = DeskService(
        st.runtime, st.hub, campaign_pop=dialer.pop_for_call if dialer is not None else None
    )
    app[DESK_SERVICE] = service
    # Desks of signed-in operators come back after each resync (a restart of cti included),
    # each held by one instance of those serving the call center.
    restorer = DeskRestorer(service)
    holding = DeskHolding(service, restorer)
    restorer.may_hold = holding.may_hold
    app[DESK_HOLDING] = holding
    holding.start()
    restorer.start()
    service.start()
    yield
    await restorer.stop()
    await holding.stop()
    await service.stop()


def setup(app: web.Application) -> None:
    """The WebSocket route, and the desk service started and stopped with the app."""
    app.router.add_get("/ws/desk", desk_socket)
    app.cleanup_ctx.append(_desk_service)
    desk_transfer.setup(app)


__all__ = ["CLOSE_SESSION_ENDED", "ROUTES", "desk_of", "leave_desk", "register", "setup"]
