"""Every answer carries the security headers: a Content-Security-Policy with no framing,
nosniff, X-Frame-Options and a Referrer-Policy; pages, API, errors, static files alike."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.web.conftest import Client, client_factory, service, users

__all__ = ["client_factory", "service", "users"]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/static/index.html",
        "/static/js/api.js",
        "/static/nope.html",
        "/api/v1/me",
        "/api/v1/openapi.json",
        "/api/v1/nope",
        "/healthz",
        "/ws/desk",
    ],
)
async def test_every_answer_carries_the_security_headers(
    path: str, client_factory: Callable[[], Awaitable[Client]]
) -> None:
    c = await client_factory()
    resp = await c.get(path, allow_redirects=False)
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp and "object-src 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "no-referrer"


async def test_a_forged_host_cannot_widen_the_policy(
    client_factory: Callable[[], Awaitable[Client]],
) -> None:
    c = await client_factory()
    resp = await c.get("/static/index.html", headers={"Host": "x; script-src *"})
    assert "script-src *" not in resp.headers["Content-Security-Policy"]
