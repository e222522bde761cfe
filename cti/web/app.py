"""The aiohttp application: REST API, WebSocket hub and the static UI."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from cti import __version__
from cti.runtime import Runtime

RUNTIME = web.AppKey("runtime", Runtime)


async def healthz(request: web.Request) -> web.Response:
    """Overall status, each PBX link and the database, as JSON.

    200 while the database answers (``ok``, or ``degraded`` when a PBX is disconnected);
    503 when the database does not.
    """
    rt = request.app[RUNTIME]
    try:
        db_up = await asyncio.wait_for(rt.db.ping(), timeout=3)
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


def build_app(rt: Runtime) -> web.Application:
    """The web application for one running service."""
    app = web.Application()
    app[RUNTIME] = rt
    app.router.add_get("/healthz", healthz)
    return app
