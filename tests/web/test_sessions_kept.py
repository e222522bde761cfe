"""Sessions live in PostgreSQL: a restart signs nobody out, and every instance sees the same ones.

Only a hash of each token is stored; the one-desk rule, take-over, sign-out and an admin's
deactivation work whichever instance a browser reaches.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import asyncpg
import pytest

from cti.app import RunningService, running_service
from cti.db.users import add_user
from cti.web import session_api
from tests.desk.conftest import open_desk

from .conftest import Client, service_settings

PASSWORDS = {"ana": "ana-secret-1", "root": "root-secret-1"}


class Instances:
    """cti instances on one database, started and stopped (as SIGTERM stops one) by the test."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self._running: dict[int, AsyncExitStack] = {}

    async def start(self) -> RunningService:
        stack = AsyncExitStack()
        svc = await stack.enter_async_context(
            running_service(service_settings(), database_url=self.url, migrate=False)
        )
        self._running[id(svc)] = stack
        return svc

    async def stop(self, svc: RunningService) -> None:
        await self._running.pop(id(svc)).aclose()

    async def close(self) -> None:
        for stack in reversed(list(self._running.values())):
            await stack.aclose()


@pytest.fixture
async def instances(
    migrated_database: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Instances]:
    # Sockets of sessions ended on another instance are closed at the next sweep.
    monkeypatch.setattr(session_api, "SWEEP_SECONDS", 0.1)
    found = Instances(migrated_database)
    first = await found.start()
    db = first.runtime.db
    await add_user(
        db,
        username="ana",
        password=PASSWORDS["ana"],
        role="operator",
        routines=["telemarketing"],
        extension="PJSIP/agent1",
    )
    await add_user(db, username="root", password=PASSWORDS["root"], role="admin")
    await found.stop(first)
    yield found
    await found.close()


@pytest.fixture
async def jars() -> AsyncIterator[list[aiohttp.ClientSession]]:
    made: list[aiohttp.ClientSession] = []
    yield made
    for http in made:
        await http.close()


def browser(jars: list[aiohttp.ClientSession]) -> aiohttp.ClientSession:
    """One browser: one cookie jar, whatever instance it reaches."""
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    jars.append(http)
    return http


async def _rows(url: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(url)
    try:
        return [dict(r) for r in await conn.fetch("SELECT * FROM web_sessions")]
    finally:
        await conn.close()


async def test_a_restart_signs_nobody_out_and_only_a_hash_of_the_token_is_stored(
    instances: Instances,
    jars: list[aiohttp.ClientSession],
    migrated_database: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    first = await instances.start()
    http = browser(jars)
    ana = Client(http=http, base=first.url)
    assert (await ana.login("ana", PASSWORDS["ana"])).status == 200
    token = next(c.value for c in http.cookie_jar if c.key == "cti_session")
    csrf = ana.csrf

    rows = await _rows(migrated_database)
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(rows) and csrf not in str(rows)

    # cti stopped and started again: the same cookie and CSRF token still work.
    await instances.stop(first)
    second = await instances.start()
    again = Client(http=http, base=second.url, csrf=csrf)
    me = await again.get("/api/v1/me")
    assert me.status == 200
    assert (await me.json())["csrf"] == csrf
    assert (await again.post("/api/v1/logout")).status == 200
    assert (await again.get("/api/v1/me")).status == 401

    assert token not in caplog.text and csrf not in caplog.text


async def test_take_over_sign_out_and_deactivation_reach_every_instance(
    instances: Instances, jars: list[aiohttp.ClientSession]
) -> None:
    a, b = await instances.start(), await instances.start()
    old = Client(http=browser(jars), base=a.url)
    assert (await old.login("ana", PASSWORDS["ana"])).status == 200
    old_desk = await open_desk(old)

    # The same operator at another machine, reaching the other instance: told, then takes over.
    new = Client(http=browser(jars), base=b.url)
    told = await new.login("ana", PASSWORDS["ana"])
    assert told.status == 409
    assert "another desk" in (await told.json())["error"]
    assert (await new.login("ana", PASSWORDS["ana"], takeover=True)).status == 200
    await old_desk.next("taken_over")
    await asyncio.wait_for(old_desk.closed.wait(), 5)
    assert old_desk.ws.close_code == 4009
    assert (await old.get("/api/v1/desk")).status == 401

    # Her desk now on instance a; her session signed out on b is ended on a too.
    new_desk = await open_desk(Client(http=new.http, base=a.url, csrf=new.csrf))
    assert (await new.post("/api/v1/logout")).status == 200
    await asyncio.wait_for(new_desk.closed.wait(), 5)
    assert new_desk.ws.close_code in (1000, 4001)
    assert (await Client(http=new.http, base=a.url).get("/api/v1/me")).status == 401

    # An admin on b deactivates her: her desk on a closes, her cookie works nowhere.
    third = Client(http=browser(jars), base=a.url)
    assert (await third.login("ana", PASSWORDS["ana"])).status == 200
    third_desk = await open_desk(third)
    root = Client(http=browser(jars), base=b.url)
    assert (await root.login("root", PASSWORDS["root"])).status == 200
    ana_id = third.user["id"]
    resp = await root.post(f"/api/v1/users/{ana_id}/deactivate")
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["sessions_ended"] == 1
    await asyncio.wait_for(third_desk.closed.wait(), 5)
    assert third_desk.ws.close_code == 4001
    assert (await third.get("/api/v1/me")).status == 401


async def test_a_cookie_that_is_no_session_is_a_401(
    instances: Instances, jars: list[aiohttp.ClientSession]
) -> None:
    svc = await instances.start()
    for value in ("", "x", "a" * 5000, "%00%ff", "' OR 1=1 --"):
        http = browser(jars)
        http.cookie_jar.update_cookies({"cti_session": value})
        resp = await Client(http=http, base=svc.url).get("/api/v1/me")
        assert resp.status == 401, value
