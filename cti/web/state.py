"""What the web handlers share: the runtime, the endpoint registry, sessions and the hub."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from cti.runtime import Runtime
from cti.web.api import USER_KEY, Api
from cti.web.auth import Session, SessionStore, Throttle, session_of
from cti.web.hub import Hub


@dataclass
class WebState:
    """One per application."""

    runtime: Runtime
    api: Api
    sessions: SessionStore
    throttle: Throttle
    hub: Hub

    async def user_of(self, request: web.Request) -> Session | None:
        """The signed-in session behind a request, or None."""
        return await session_of(request, self.sessions)


WEB = web.AppKey("cti.web", WebState)


def web_state(request: web.Request) -> WebState:
    """The shared state, from a request."""
    return request.app[WEB]


def current(request: web.Request) -> Session:
    """The session of a request that passed its endpoint's role check."""
    session: Session = request[USER_KEY]
    return session
