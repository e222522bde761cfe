"""The aiohttp application: REST API, WebSocket hub and the static UI."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import BaseModel, Field

from cti import __version__
from cti.domain.backoffice import CALLER_FIELDS, LIVE_CALL_SPEC, LIVE_SPEC
from cti.runtime import Runtime
from cti.web import bus, i18n, session_api
from cti.web.api import Api, Route, RouteMaker, error_middleware
from cti.web.auth import SessionStore, Throttle
from cti.web.backoffice.common import viewer
from cti.web.hub import Hub
from cti.web.personal import Part, respond
from cti.web.state import WEB, WebState, web_state

STATIC = Path(__file__).resolve().parent / "static"
route = RouteMaker("supervisor", "supervisor")


async def healthz(request: web.Request) -> web.Response:
    """Overall status, each PBX link and the database, as JSON, with what is wrong with a PBX's
    own configuration (``warnings``: an RTP port range that silences browser phones).

    200 while the database answers (``ok``, or ``degraded`` when a PBX is disconnected);
    503 when the database does not.
    """
    rt = web_state(request).runtime
    try:
        async with asyncio.timeout(3):
            db_up = await rt.db.ping()
    except TimeoutError:
        db_up = False
    pbx = rt.ami.status()
    if not db_up:
        status = "down"
    elif all(v == "connected" for v in pbx.values()):
        status = "ok"
    else:
        status = "degraded"
    body: dict[str, Any] = {
        "status": status,
        "version": __version__,
        "database": "up" if db_up else "down",
        "pbx": pbx,
        "warnings": [
            f"PBX {name!r}: {warning.text}"
            for name, warnings in rt.ami.warnings().items()
            for warning in warnings
        ],
    }
    return web.json_response(body, status=200 if db_up else 503)


class LivePbx(BaseModel):
    """What cti believes about one PBX."""

    pbx: str
    status: str = Field(description="the AMI link: connected, disconnected, ...")
    queues: list[dict[str, Any]] = Field(
        description="name, strategy, waiting callers (caller ids masked), members, counters"
    )
    agents: list[dict[str, Any]]
    calls: list[dict[str, Any]] = Field(description="caller ids masked, with their channels")
    spies: list[dict[str, Any]]
    bridges: int
    resync_wanted: bool
    last_resync: dt.datetime | None


class LiveReply(BaseModel):
    pbxs: list[LivePbx]
    masked: bool = Field(description="personal fields are masked (no personal_data)")


async def live(request: web.Request) -> web.StreamResponse:
    snapshot = web_state(request).runtime.ami.snapshot()
    return await respond(
        web_state(request).runtime.db,
        viewer(request),
        snapshot,
        LIVE_SPEC,
        live_parts(snapshot),
        purpose="live",
    )


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/live",
        live,
        "What cti believes about each PBX: queues with waiting callers and members, agents,"
        " calls; caller ids masked without personal_data, and each reading audited",
        LiveReply,
    ),
)


def _register_core(api: Api) -> None:
    """Declare the core endpoints (the ones of no feature module)."""
    api.add(ROUTES)


def live_parts(snapshot: dict[str, Any]) -> list[Part]:
    """Whose personal data ``/api/v1/live`` shows: each call's caller id (one part per call)."""
    parts: dict[str, Part] = {}
    for pbx in snapshot["pbxs"]:
        for call in pbx["calls"]:
            parts.setdefault(
                f"call:{call['linkedid']}", (f"call:{call['linkedid']}", call, LIVE_CALL_SPEC)
            )
        for queue in pbx["queues"]:
            for caller in queue["waiting"]:
                subject = f"call:{caller['linkedid']}"
                parts.setdefault(subject, (subject, caller, CALLER_FIELDS))
    return list(parts.values())


_HOST = re.compile(r"[A-Za-z0-9.\-]+(:\d+)?|\[[0-9A-Fa-f:.]+\](:\d+)?")


def _socket_origin(url: str) -> str:
    """``wss://pbx.example.com:8089`` of a WebSocket URL, or "" when it is not one."""
    parsed = urlsplit(url)
    if parsed.scheme not in ("ws", "wss") or not _HOST.fullmatch(parsed.netloc):
        return ""
    return f"{parsed.scheme}://{parsed.netloc}"


def content_security_policy(host: str, softphone_ws: str = "") -> str:
    """The pages' policy: scripts and everything else from cti itself only, no framing.

    Every script is a file (no inline script, no eval). Inline *style attributes* are allowed:
    the pages set a few (``style="margin:0"``, and their ``el()`` helper and Chart.js set element
    styles); a style cannot run code, and ``script-src 'self'`` is what keeps injected markup inert.
    The desk's softphone may also open its WebSocket to Asterisk (``softphone.ws_url``).
    """
    sockets = f" ws://{host} wss://{host}" if _HOST.fullmatch(host) else ""
    pbx = _socket_origin(softphone_ws)
    if pbx:
        sockets += f" {pbx}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self'{sockets}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every answer (pages, API, errors, static files, WebSocket handshakes)."""
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(
        request.host, request.app[WEB].runtime.settings.softphone.ws_url
    )
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")


async def _index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/static/index.html")


async def _close_sockets(app: web.Application) -> None:
    await app[WEB].hub.close_all()


def build_app(rt: Runtime) -> web.Application:
    """The web application for one running service."""
    api = Api(title="cti")
    st = WebState(
        runtime=rt,
        api=api,
        sessions=SessionStore(rt.db, rt.clock, hours=rt.settings.server.session_hours),
        throttle=Throttle(rt.clock),
        hub=Hub(),
    )
    app = web.Application(middlewares=[error_middleware], client_max_size=2 * 1024 * 1024)
    app[WEB] = st
    session_api.register(api)
    i18n.register(api)
    _register_core(api)
    for part in _feature_parts():
        part.register(api)
    api.install(app, user_of=st.user_of)
    bus.setup(app, rt)  # before the features' parts: they hear it from their start
    for part in _feature_parts():
        setup = getattr(part, "setup", None)
        if setup is not None:
            setup(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/", _index)
    if STATIC.is_dir():
        app.router.add_static("/static/", STATIC, follow_symlinks=False)
    session_api.setup(app)
    app.on_shutdown.append(_close_sockets)
    app.on_response_prepare.append(_security_headers)
    return app


def _feature_parts() -> list[Any]:
    """The feature modules that declare endpoints (``register(api)``) and may hook the app (``setup(app)``)."""
    from cti.web import backoffice, campaigns, desk, integrations, recordings, supervisor

    return [desk, backoffice, campaigns, supervisor, recordings, integrations]
