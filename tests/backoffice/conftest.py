"""A running cti on a database filled with the demo data, with signed-in clients per demo user.

The demo data (``cti.db.seed.seed_demo``: users ana, bruno, carla, diego, sofia, admin with
password ``<name>123``; customers C001..C008, C002/C004/C006 delinquent; products; a billed and an
unbilled order; messages; a suspect) is written once per run into a template database and cloned
for each test, so each test starts from the same known state.

``backoffice`` starts the service with the default settings; ``backoffice_with(**sections)`` starts
one with settings sections replaced (``sales=SalesSettings(edit_billed_orders=True)``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
import pytest

from cti.app import RunningService, running_service
from cti.clock import FakeClock
from cti.db.engine import Database
from cti.db.seed import seed_demo
from tests.conftest import _db_name, _with_db, admin_url, drop_database
from tests.web.conftest import Client, service_settings

# The demo data's "today"; the service runs on the same fake clock.
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def seeded_template(migrated_database_factory: Callable[[], str]) -> str:
    """A migrated database holding the demo data; only ever cloned."""
    url = migrated_database_factory()

    async def fill() -> None:
        async with Database(url, pool_size=1) as db:
            await seed_demo(db, clock=FakeClock(START))

    asyncio.run(fill())
    return url


_n = iter(range(1_000_000))


@pytest.fixture
def seeded_database(seeded_template: str) -> Iterator[str]:
    """A fresh copy of the demo database for one test."""
    name = f"cti_bo_{os.getpid()}_{next(_n)}"
    template = _db_name(seeded_template)

    async def create() -> None:
        conn = await asyncpg.connect(admin_url())
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await conn.close()

    asyncio.run(create())
    url = _with_db(seeded_template, name)
    yield url
    drop_database(url)


ServiceWith = Callable[..., AbstractAsyncContextManager[RunningService]]


@pytest.fixture
def backoffice_with(seeded_database: str) -> ServiceWith:
    """Start cti on the seeded database with some settings sections replaced."""

    @asynccontextmanager
    async def start(**sections: Any) -> AsyncIterator[RunningService]:
        settings = dataclasses.replace(service_settings(), **sections)
        async with running_service(
            settings, clock=FakeClock(START), database_url=seeded_database, migrate=False
        ) as svc:
            yield svc

    return start


@pytest.fixture
async def backoffice(backoffice_with: ServiceWith) -> AsyncIterator[RunningService]:
    """cti with the default settings on a fresh copy of the demo data."""
    async with backoffice_with() as svc:
        yield svc


Login = Callable[..., Awaitable[Client]]


@asynccontextmanager
async def _logins(svc: RunningService) -> AsyncIterator[Login]:
    sessions: list[aiohttp.ClientSession] = []

    async def login(username: str, password: str | None = None) -> Client:
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(http)
        client = Client(http=http, base=svc.url)
        # The demo's passwords are the user name and 123 (set before the password rule).
        resp = await client.login(username, password or f"{username}123")
        assert resp.status == 200, await resp.text()
        return client

    try:
        yield login
    finally:
        for s in sessions:
            await s.close()


@pytest.fixture
async def login(backoffice: RunningService) -> AsyncIterator[Login]:
    """``await login("bruno")``: a client signed in as that demo user."""
    async with _logins(backoffice) as make:
        yield make


def logins_for(svc: RunningService) -> AbstractAsyncContextManager[Login]:
    """Signed-in clients for a service started in the test itself (``backoffice_with``)."""
    return _logins(svc)


async def body(resp: aiohttp.ClientResponse, status: int = 200) -> Any:
    """The JSON answer, after checking the status (the body is shown when it differs)."""
    data = await resp.json()
    assert resp.status == status, data
    return data
