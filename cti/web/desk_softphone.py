"""The desk's softphone (WebRTC): the SIP account the browser registers with.

``POST /api/v1/desk/softphone`` issues a fresh password for the signed-in user's softphone endpoint
(:mod:`cti.db.softphones`) and answers what the page's SIP stack needs. Each call rotates the
password, so the desk that asked last is the only one that can register: a desk taken over loses
its phone at once (the new registration replaces its contact) and cannot register again. Signing
out of the desk withdraws it.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from cti.db import softphones
from cti.domain.softphone import ice_servers_for
from cti.web.api import Route, RouteMaker
from cti.web.desk_phone import reply
from cti.web.models import Answer
from cti.web.state import current, web_state

route = RouteMaker("desk", "operator")


class IceServerAnswer(Answer):
    """A STUN or TURN server, as the browser's RTCIceServer."""

    urls: str = Field(description="stun:, turn: or turns: URL")
    username: str | None = Field(
        default=None, description="a TURN server's user for this desk, until its sign-in expires"
    )
    credential: str | None = Field(default=None, description="that user's password")


class SoftphoneAccount(Answer):
    """What the desk's SIP stack registers with (shown once, to this desk)."""

    simulated: bool = Field(
        default=False,
        description="the PBX is cti's simulator: the page's phone rings and answers through the"
        " desk (no SIP, no media, no password)",
    )
    ws_url: str = Field(description="Asterisk's SIP over secure WebSocket")
    uri: str = Field(description="the softphone's SIP address, sip:<extension>@<domain>")
    username: str
    password: str = Field(description="valid until the desk signs out or another desk asks")
    display_name: str
    ice_servers: list[IceServerAnswer] = Field(description="STUN/TURN servers for the browser")


async def softphone(request: web.Request) -> web.StreamResponse:
    st = web_state(request)
    settings = st.runtime.settings.softphone
    pbx = st.runtime.settings.ami[0]
    if pbx.remote_answer:
        # cti's simulator (the demo, the fast tests): it speaks no SIP; its phones are registered
        # and it answers on request, so the page's phone is driven through the desk instead.
        user = current(request).user
        account = softphones.simulated(
            extension=user.extension, softphone=user.softphone, name=user.full_name
        )
        return reply(
            SoftphoneAccount(
                simulated=True,
                ws_url="",
                uri=f"sip:{account.username}@{settings.domain}",
                username=account.username,
                password="",
                display_name=account.display_name,
                ice_servers=[],
            )
        )
    issued = await softphones.issue(st.runtime.db, current(request).id, context=settings.context)
    answer = reply(
        SoftphoneAccount(
            ws_url=settings.ws_url,
            uri=f"sip:{issued.username}@{settings.domain}",
            username=issued.username,
            password=issued.password,
            display_name=issued.display_name,
            ice_servers=[
                IceServerAnswer(urls=s.urls, username=s.username, credential=s.credential)
                for s in ice_servers_for(
                    settings.ice_servers,
                    user=issued.username,
                    expires=current(request).expires.timestamp(),
                    turn_secret=settings.turn_secret.reveal(),
                    turn_username=settings.turn_username,
                    turn_password=settings.turn_password.reveal(),
                )
            ],
        )
    )
    answer.headers["Cache-Control"] = "no-store"
    return answer


ROUTES: tuple[Route, ...] = (
    route(
        "POST",
        "/api/v1/desk/softphone",
        softphone,
        "Issue my desk's softphone account (WebRTC; rotates its password)",
        SoftphoneAccount,
    ),
)
