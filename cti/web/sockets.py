"""What the two WebSockets (``/ws/desk``, ``/ws/wallboard``) share: who may open one, and answering
what the browser sends on it.

A socket needs a signed-in session, the role its page needs and a same-origin ``Origin``; it is
attached to the hub under one topic. The browser may send ``{"type": "resync"}`` (answered with a
fresh snapshot) and ``{"type": "ping"}`` (``{"type": "pong", "now": …}``); anything else is answered
with an ``error`` frame. The session is checked again for every message (a socket whose session
ended is closed with 4001) and, where the page asks, the role too (4003).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from cti.web.api import ROLE_LEVEL, json_error
from cti.web.auth import Session, origin_allowed
from cti.web.desk_agent import DESK_TOPIC, taken_over_frame
from cti.web.hub import (
    CLOSE_FORBIDDEN,
    CLOSE_SESSION_ENDED,
    CLOSE_TAKEN_OVER,
    Client,
    Hub,
    frame_message,
    shown_kind,
)
from cti.web.state import WebState, web_state

# Why a session ended (as stored) → what its sockets are told when they close.
TAKEN_OVER = "taken_over"
_ENDED_WORDS = {
    "signed_out": "signed out",
    "expired": "session expired: sign in again",
    "gone": "session ended: sign in again",
    "ended": "session ended: sign in again",
    "deactivated": "your account was deactivated",
}


def close_ended(hub: Hub, client: Client, reason: str) -> None:
    """Close a socket whose session ended, telling it why: a desk taken over from another
    machine is told so (``taken_over``, 4009); any other ending closes with 4001."""
    if reason == TAKEN_OVER:
        if DESK_TOPIC in client.topics:
            hub.send_to_client(client, taken_over_frame())
        hub.close_client(client, CLOSE_TAKEN_OVER, "taken over by another desk")
    else:
        hub.close_client(client, CLOSE_SESSION_ENDED, _ENDED_WORDS.get(reason, reason)[:100])


@dataclass(frozen=True, slots=True)
class Opened:
    """A WebSocket that passed the checks, attached to the hub."""

    ws: web.WebSocketResponse
    client: Client
    session: Session


async def open_socket(
    request: web.Request,
    *,
    topic: str,
    least_role: str,
    page: str,
    max_msg_size: int,
    compress: bool = True,
) -> Opened | web.Response:
    """Open the request's WebSocket for ``topic``, or the JSON refusal to answer instead.

    ``page`` names what is opened in a refusal ("the desk", "the wallboard"). ``compress``: offer
    per-message deflate to a browser that asks for it (each socket then keeps its own compressor,
    about 100 KB of memory).
    """
    st = web_state(request)
    session = await st.user_of(request)
    if session is None:
        return json_error(401, "sign in first")
    if ROLE_LEVEL.get(session.role, 0) < ROLE_LEVEL[least_role]:
        return json_error(403, f"{page} needs the role {least_role}")
    if not origin_allowed(request, st.runtime.settings.server.allowed_origins):
        return json_error(403, f"this page may not open {page} (Origin)")
    ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=max_msg_size, compress=compress)
    await ws.prepare(request)
    client = st.hub.attach(
        ws, user_id=session.id, role=session.role, session=session.key, topics=(topic,)
    )
    return Opened(ws, client, session)


async def answer_messages(
    st: WebState,
    opened: Opened,
    *,
    resync: Callable[[Session], None],
    now_ms: Callable[[], int],
    least_role: str | None = None,
) -> None:
    """Answer the browser's messages until the socket closes.

    ``resync(session)`` sends a fresh snapshot; ``now_ms()`` is the clock a ``pong`` gives. With
    ``least_role`` a message from a user who no longer has it closes the socket.
    """
    hub, client = st.hub, opened.client
    async for msg in opened.ws:
        if msg.type is WSMsgType.BINARY:
            hub.send_to_client(client, {"type": "error", "error": "send JSON text frames"})
            continue
        if msg.type is not WSMsgType.TEXT:
            continue
        live = await st.sessions.by_key(opened.session.key)
        if live is None:
            reason = (await st.sessions.ended_among([opened.session.key])).get(opened.session.key)
            close_ended(hub, client, reason or "ended")
            break
        if least_role is not None and ROLE_LEVEL.get(live.role, 0) < ROLE_LEVEL[least_role]:
            hub.close_client(client, CLOSE_FORBIDDEN, "not allowed")
            break
        message = frame_message(msg.data)
        if message is None:
            hub.send_to_client(client, {"type": "error", "error": "not a JSON object"})
            continue
        kind = message.get("type")
        if kind == "resync":
            resync(live)
        elif kind == "ping":
            hub.send_to_client(client, {"type": "pong", "now": now_ms()})
        else:
            hub.send_to_client(
                client, {"type": "error", "error": f"unknown message type {shown_kind(kind)}"}
            )
