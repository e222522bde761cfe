"""The aiohttp application: REST API, WebSocket hub and the static UI."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web

from cti import __version__
from cti.runtime import Runtime
from cti.web import session_api
from cti.web.api import Api, error_middleware
from cti.web.auth import SessionStore, Throttle
from cti.web.hub import Hub
from cti.web.state import WEB, WebState, web_state

STATIC = Path(__file__).resolve().parent / "static"


async def healthz(request: web.Request) -> web.Response:
    """Overall status, each PBX link and the database, as JSON.

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
    }
    return web.json_response(body, status=200 if db_up else 503)


def _register_core(api: Api) -> None:
    @api.route(
        "GET",
        "/api/v1/live",
        role="supervisor",
        summary="What cti believes about each PBX: queues with waiting callers and members, agents, calls",
        tag="supervisor",
    )
    async def live(request: web.Request) -> web.StreamResponse:
        return web.json_response(web_state(request).runtime.ami.snapshot())


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
        sessions=SessionStore(rt.clock, hours=rt.settings.server.session_hours),
        throttle=Throttle(rt.clock),
        hub=Hub(),
    )
    app = web.Application(middlewares=[error_middleware], client_max_size=2 * 1024 * 1024)
    app[WEB] = st
    session_api.register(api)
    _register_core(api)
    for part in _feature_parts():
        part.register(api)
    api.install(app, user_of=st.user_of)
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
    return app


def _feature_parts() -> list[Any]:
    """The feature modules that declare endpoints (``register(api)``) and may hook the app (``setup(app)``)."""
    from cti.web import backoffice, campaigns, desk, supervisor

    return [desk, backoffice, campaigns, supervisor]
