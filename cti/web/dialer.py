"""The running dialer as the web part reaches it.

The composition root gives the web part the running :class:`cti.dialer.service.DialerService`
(:func:`attach`); it is ``app[DIALER_SERVICE]``, used by the campaign endpoints, the desk (the
screen-pop of a call the dialer placed) and the wallboard (the live campaign figures:
``figures() -> list[dict]`` and ``figures_of(campaign_id) -> dict | None``, fields listed in
``DialerService.figures``: dial level, answer rate, abandon rate against the cap, leads left, ...).
"""

from __future__ import annotations

from aiohttp import web

from cti.dialer.service import DialerService
from cti.i18n import _
from cti.web.api import HTTPProblem
from cti.web.state import current

DIALER_SERVICE = web.AppKey("cti.dialer", DialerService)
# The OpenAPI tag of the endpoints of the dialer (campaigns, leads, preview, callbacks).
TAG = "campaigns"


def attach(app: web.Application, dialer: DialerService) -> None:
    """Give the web part the running dialer (called by the composition root); it is also the
    provider of the wallboard's campaign figures."""
    app[DIALER_SERVICE] = dialer


def dialer_of(request: web.Request) -> DialerService:
    """The running dialer; 503 when there is none."""
    dialer = request.app.get(DIALER_SERVICE)
    if dialer is None:
        raise HTTPProblem(503, _("the dialer is not running"))
    return dialer


def actor(request: web.Request) -> str:
    """Who the dialer's audit lines name: the signed-in user."""
    return current(request).user.username


__all__ = ["DIALER_SERVICE", "TAG", "actor", "attach", "dialer_of"]
