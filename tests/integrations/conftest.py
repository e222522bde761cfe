"""Integrations against the real thing: cti on the seeded demo database, a local aiohttp receiver
for the webhooks, API keys made by the demo admin."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web

from cti.app import RunningService
from cti.clock import FakeClock
from cti.config import WebhookSettings
from tests.backoffice.conftest import (
    ServiceWith,
    backoffice_with,
    logins_for,
    seeded_database,
    seeded_template,
)
from tests.web.conftest import Client

__all__ = ["backoffice_with", "seeded_database", "seeded_template"]

TIMEOUT = 15.0
# Short retries: 1 s, 2 s, 4 s... on the service's fake clock, which the tests advance.
FAST = WebhookSettings(
    max_attempts=3,
    backoff_seconds=1.0,
    backoff_max_seconds=4.0,
    timeout_seconds=2.0,
    poll_seconds=0.05,
)


async def until(condition: Callable[[], Any], within: float = TIMEOUT, what: str = "") -> Any:
    """Poll ``condition`` (sync or async) until it is truthy; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.02)


@dataclasses.dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class Receiver:
    """A CRM's webhook receiver on a local port: records each post; can answer an error, or be
    down (nothing listening on its port)."""

    def __init__(self) -> None:
        self.got: list[Received] = []
        self.status = 200
        self.delay = 0.0  # seconds before each answer
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.got.append(Received(dict(request.headers), await request.read()))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=self.status, text="ok" if self.status < 300 else "no")

    async def _moved(self, request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("/hooks")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks?token=crm-token"

    async def up(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        app.router.add_post("/moved", self._moved)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        if not self.port:
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def down(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def events(self) -> list[dict[str, Any]]:
        return [r.event for r in self.got]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.up()
    yield r
    await r.down()


@pytest.fixture
async def hooks(backoffice_with: ServiceWith) -> AsyncIterator[RunningService]:
    """cti with short webhook retries on the demo data."""
    async with backoffice_with(webhooks=FAST) as svc:
        yield svc


@pytest.fixture
async def admin(hooks: RunningService) -> AsyncIterator[Client]:
    async with logins_for(hooks) as login:
        yield await login("admin")


def clock_of(svc: RunningService) -> FakeClock:
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    return clock


async def ok(resp: aiohttp.ClientResponse, status: int = 200) -> Any:
    data = await resp.json()
    assert resp.status == status, data
    return data


async def deliveries(admin: Client, query: str = "") -> list[dict[str, Any]]:
    """The webhook deliveries an admin sees (``query``: the list's filter)."""
    found: list[dict[str, Any]] = (
        await ok(await admin.get(f"/api/v1/webhooks/deliveries{query}"))
    )["deliveries"]
    return found


async def attempted(admin: Client, total: int) -> bool:
    """Whether the deliveries' attempts recorded add up to ``total`` at least."""
    return sum(r["attempts"] for r in await deliveries(admin)) >= total


async def save_attention(admin: Client, attention: int = 1) -> None:
    """The admin saves an attention (unchanged): one ``attention.saved`` event."""
    await ok(await admin.patch(f"/api/v1/desk/attentions/{attention}", json={}))


async def add_endpoint(admin: Client, url: str, **extra: Any) -> dict[str, Any]:
    body = {"url": url, "events": ["attention.saved", "attention.closed"], **extra}
    found: dict[str, Any] = await ok(await admin.post("/api/v1/webhooks", json=body))
    return found


async def add_key(admin: Client, *scopes: str) -> str:
    made = await ok(await admin.post("/api/v1/api-keys", json={"name": "crm", "scopes": scopes}))
    return str(made["token"])


async def audit_lines(svc: RunningService) -> list[tuple[str, str, str]]:
    """The audit log's (actor, action, subject), oldest first."""
    async with svc.runtime.db.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT actor, action, subject FROM audit_log ORDER BY id")
        )
        return [(r.actor, r.action, r.subject) for r in rows]
