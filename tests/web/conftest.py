"""A running cti service (real aiohttp server, real PostgreSQL) and signed-in HTTP clients."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from cti.app import RunningService, running_service
from cti.config import AmiServerSettings, Secret, Settings, load_settings
from cti.db.engine import Database
from cti.db.users import add_user, ensure_group


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_settings(ami_port: int | None = None, **pbx: Any) -> Settings:
    base = load_settings(environ={})
    values: dict[str, Any] = {
        "name": "pbx1",
        "host": "127.0.0.1",
        "port": ami_port or closed_port(),
        "username": "cti",
        "secret": Secret("ctisecret"),
        "reconnect_min": 0.05,
        "reconnect_max": 0.5,
        "ping_interval": 1.0,
        "ping_timeout": 1.0,
        "action_timeout": 2.0,
    }
    values.update(pbx)
    ami = AmiServerSettings(**values)
    server = dataclasses.replace(base.server, port=0)
    return dataclasses.replace(base, ami=(ami,), server=server)


@dataclasses.dataclass
class Client:
    """An HTTP client signed in (or not) to the service, sending the CSRF token it was given."""

    http: aiohttp.ClientSession
    base: str
    csrf: str = ""
    user: dict[str, Any] = dataclasses.field(default_factory=dict)

    async def login(self, username: str, password: str, **extra: Any) -> aiohttp.ClientResponse:
        resp = await self.http.post(
            f"{self.base}api/v1/login", json={"username": username, "password": password, **extra}
        )
        if resp.status == 200:
            body = await resp.json()
            self.csrf = body["csrf"]
            self.user = body["user"]
        return resp

    def _headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf} if self.csrf else {}

    async def get(self, path: str, **kw: Any) -> aiohttp.ClientResponse:
        return await self.http.get(f"{self.base}{path.lstrip('/')}", **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> aiohttp.ClientResponse:
        return await self.http.post(
            f"{self.base}{path.lstrip('/')}", json=json, headers=self._headers(), **kw
        )

    async def patch(self, path: str, json: Any = None, **kw: Any) -> aiohttp.ClientResponse:
        return await self.http.patch(
            f"{self.base}{path.lstrip('/')}", json=json, headers=self._headers(), **kw
        )

    async def put(self, path: str, json: Any = None, **kw: Any) -> aiohttp.ClientResponse:
        return await self.http.put(
            f"{self.base}{path.lstrip('/')}", json=json, headers=self._headers(), **kw
        )

    async def delete(self, path: str, **kw: Any) -> aiohttp.ClientResponse:
        return await self.http.delete(
            f"{self.base}{path.lstrip('/')}", headers=self._headers(), **kw
        )


@pytest.fixture
async def service(migrated_database: str) -> AsyncIterator[RunningService]:
    """cti running on a fresh migrated database, its PBX unreachable (no AMI server)."""
    async with running_service(service_settings(), database_url=migrated_database) as svc:
        yield svc


@pytest.fixture
async def client_factory(service: RunningService) -> AsyncIterator[Callable[[], Awaitable[Client]]]:
    sessions: list[aiohttp.ClientSession] = []

    async def make() -> Client:
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(http)
        return Client(http=http, base=service.url)

    yield make
    for s in sessions:
        await s.close()


@pytest.fixture
async def users(service: RunningService) -> dict[str, str]:
    """Operators ana (telemarketing) and bruno (telesales), supervisor sofia, admin root."""
    db: Database = service.runtime.db
    await ensure_group(db, "Fast", 5)
    await add_user(
        db,
        username="ana",
        password="ana-secret-1",
        role="operator",
        routines=["telemarketing"],
        group="Fast",
        extension="PJSIP/agent1",
        full_name="Ana Lima",
        personal_data=True,
    )
    await add_user(
        db,
        username="bruno",
        password="bruno-secret-1",
        role="operator",
        routines=["telesales"],
        extension="PJSIP/agent2",
        full_name="Bruno Dias",
    )
    await add_user(
        db, username="sofia", password="sofia-secret-1", role="supervisor", full_name="Sofia Reis"
    )
    await add_user(db, username="root", password="root-secret-1", role="admin")
    return {
        "ana": "ana-secret-1",
        "bruno": "bruno-secret-1",
        "sofia": "sofia-secret-1",
        "root": "root-secret-1",
    }
