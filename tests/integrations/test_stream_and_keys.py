"""The event stream (Server-Sent Events) and the API keys that open it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from cti.app import RunningService
from cti.db.models import ApiKey
from cti.web.integrations import public
from tests.backoffice.conftest import ServiceWith, logins_for
from tests.web.conftest import Client

from .conftest import (
    FAST,
    Receiver,
    add_endpoint,
    add_key,
    audit_lines,
    ok,
    save_attention,
    until,
)


class Stream:
    """An integration reading /api/v1/events/stream: the events it got, by id."""

    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self.resp = resp
        self.events: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.ended = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            async for raw in self.resp.content:
                line = raw.decode().rstrip("\n")
                if not line:
                    if fields.get("event") == "error":
                        self.errors.append(fields["data"])
                    elif "data" in fields:
                        event = json.loads(fields["data"])
                        assert str(event["id"]) == fields["id"] and event["type"] == fields["event"]
                        self.events.append(event)
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    fields[name] = value
        finally:
            self.ended.set()

    @property
    def ids(self) -> list[int]:
        return [int(e["id"]) for e in self.events]

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.resp.close()


@asynccontextmanager
async def streaming(
    svc: RunningService, token: str, last_id: int | None = None, query: str = ""
) -> AsyncIterator[Stream]:
    headers = {"Authorization": f"Bearer {token}"}
    if last_id is not None:
        headers["Last-Event-ID"] = str(last_id)
    async with aiohttp.ClientSession() as http:
        resp = await http.get(f"{svc.url}api/v1/events/stream{query}", headers=headers)
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        stream = Stream(resp)
        try:
            yield stream
        finally:
            await stream.close()


async def call_with(svc: RunningService, token: str, method: str, path: str, **kw: Any) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, f"{svc.url}{path}", headers={"Authorization": f"Bearer {token}"}, **kw
        ) as resp,
    ):
        return resp.status, await resp.json()


async def test_the_stream_resumes_after_a_disconnect_with_nothing_lost_or_repeated(
    hooks: RunningService, admin: Client
) -> None:
    token = await add_key(admin, "events:read")
    async with streaming(hooks, token) as live:
        await asyncio.sleep(0.3)  # a new reader starts from now: the past is not replayed
        for attention in (1, 2, 1):
            await save_attention(admin, attention)
        await until(lambda: len(live.events) == 3, what="three events")
        seen = live.ids
    assert seen == sorted(seen) and live.events[0]["type"] == "attention.saved"

    # While the integration is away, more happens, from several writers at once.
    async with logins_for(hooks) as login:
        others = [await login(name) for name in ("admin", "admin", "admin")]
        await asyncio.gather(*(save_attention(c, a) for c in others for a in (1, 2)))
    await save_attention(admin, 2)

    async with streaming(hooks, token, last_id=seen[-1]) as back:
        await until(lambda: len(back.events) >= 7, what="the events missed")
        await asyncio.sleep(0.3)
        resumed = back.ids
    assert len(resumed) == 7, resumed
    assert resumed == sorted(set(resumed)), "in order, none twice"
    assert min(resumed) > seen[-1], "none already read is sent again"
    async with hooks.runtime.db.engine.connect() as conn:
        stored = [
            i for (i,) in await conn.execute(sa.text("SELECT id FROM outbox_events ORDER BY id"))
        ]
    assert seen + resumed == stored[-10:], "nothing lost"


async def test_a_key_without_the_scope_gets_403_naming_it(
    hooks: RunningService, admin: Client
) -> None:
    calls_only = await add_key(admin, "calls:start")
    status, body = await call_with(hooks, calls_only, "GET", "api/v1/events/stream")
    assert status == 403 and body["error"] == "this API key lacks the scope events:read"
    events_only = await add_key(admin, "events:read")
    status, body = await call_with(
        hooks,
        events_only,
        "POST",
        "api/v1/integrations/calls",
        json={"agent": "ana", "number": "+12025550188"},
    )
    assert status == 403 and "calls:start" in body["error"]


async def test_a_revoked_key_is_refused_at_once_and_its_open_stream_ends(
    hooks: RunningService, admin: Client
) -> None:
    token = await add_key(admin, "events:read")
    keys = (await ok(await admin.get("/api/v1/api-keys")))["keys"]
    assert token not in json.dumps(keys), "a key's secret is never listed"
    async with hooks.runtime.db.sessions() as s:
        stored = (await s.execute(sa.select(ApiKey.hash))).scalars().all()
    assert token not in stored and token.split("_", 2)[2] not in stored, "hashed at rest"

    async with streaming(hooks, token) as open_stream:
        await ok(await admin.delete(f"/api/v1/api-keys/{keys[0]['id']}"))
        status, body = await call_with(hooks, token, "GET", "api/v1/events/stream")
        assert status == 401 and body["error"] == "unknown or revoked API key"
        await asyncio.wait_for(open_stream.ended.wait(), timeout=5)
        assert open_stream.errors == ['{"error": "the API key was revoked"}']
    listed = (await ok(await admin.get("/api/v1/api-keys")))["keys"]
    assert listed[0]["revoked_at"] is not None
    key = f"apikey:{keys[0]['id']}"
    lines = await audit_lines(hooks)
    assert ("admin", "apikey.add", key) in lines and ("admin", "apikey.revoke", key) in lines


async def test_no_key_a_malformed_one_or_a_session_gets_401(
    hooks: RunningService, admin: Client
) -> None:
    resp = await admin.get("/api/v1/events/stream")  # the admin's own session
    assert resp.status == 401 and (await resp.json())["field"] == "Authorization"
    status, body = await call_with(hooks, "cti_nonsense", "GET", "api/v1/events/stream")
    assert status == 401 and body["error"] == "unknown or revoked API key"
    token = await add_key(admin, "events:read")
    status, body = await call_with(hooks, token + "x", "GET", "api/v1/events/stream")
    assert status == 401 and body["field"] == "Authorization"
    bad = await admin.post("/api/v1/api-keys", json={"name": "crm", "scopes": ["calls:all"]})
    assert bad.status == 400 and (await bad.json())["field"] == "scopes[0]"


async def test_a_live_reader_misses_nothing_while_many_write_at_once(
    hooks: RunningService, admin: Client
) -> None:
    token = await add_key(admin, "events:read")
    async with streaming(hooks, token, last_id=0) as live, logins_for(hooks) as login:
        writers = [await login("admin") for _ in range(4)]
        for _ in range(3):
            await asyncio.gather(*(save_attention(w, a) for w in writers for a in (1, 2)))
        async with hooks.runtime.db.engine.connect() as conn:
            stored = [
                i
                for (i,) in await conn.execute(sa.text("SELECT id FROM outbox_events ORDER BY id"))
            ]
        assert len(stored) == 24
        await until(lambda: len(live.events) == 24, what="every event")
        assert live.ids == stored


async def test_a_crm_reads_the_customer_of_a_number_and_the_reading_is_audited(
    hooks: RunningService, admin: Client
) -> None:
    async with hooks.runtime.db.engine.connect() as conn:
        phone, code = (
            await conn.execute(
                sa.text(
                    "SELECT p.phone, c.code FROM phones p JOIN customers c ON c.id = p.customer_id"
                    " ORDER BY c.code LIMIT 1"
                )
            )
        ).one()
    token = await add_key(admin, "customers:read")
    status, body = await call_with(
        hooks, token, "GET", "api/v1/integrations/customers", params={"phone": phone}
    )
    assert status == 200 and [c["code"] for c in body["customers"]] == [code]
    status, body = await call_with(
        hooks, token, "GET", "api/v1/integrations/customers", params={"phone": "abc"}
    )
    assert status == 400 and body["field"] == "phone"
    async with hooks.runtime.db.engine.connect() as conn:
        actors = (
            await conn.execute(
                sa.text("SELECT actor FROM audit_log WHERE action = 'personal.read'")
            )
        ).scalars()
        assert "api-key:crm" in set(actors)


async def test_stopping_cti_ends_an_open_stream_at_once(backoffice_with: ServiceWith) -> None:
    loop = asyncio.get_running_loop()
    service = backoffice_with(webhooks=FAST)
    svc = await service.__aenter__()
    try:
        async with logins_for(svc) as login:
            token = await add_key(await login("admin"), "events:read")
        stream = streaming(svc, token)
        open_stream = await stream.__aenter__()
    finally:
        started = loop.time()
        await service.__aexit__(None, None, None)
    stopped = loop.time() - started
    await asyncio.wait_for(open_stream.ended.wait(), timeout=5)
    await stream.__aexit__(None, None, None)
    assert stopped < 3, f"the stop waited {stopped:.1f} s for the stream's reader"


async def test_a_stream_of_some_types_sends_only_those(
    hooks: RunningService, admin: Client
) -> None:
    token = await add_key(admin, "events:read")
    status, body = await call_with(hooks, token, "GET", "api/v1/events/stream?types=call.nope")
    assert status == 400 and body["field"] == "types"
    async with hooks.runtime.db.engine.connect() as conn:
        planned = await conn.scalar(
            sa.text("SELECT id FROM attentions WHERE status = 'planned' ORDER BY id LIMIT 1")
        )
    async with streaming(hooks, token, query="?types=attention.closed,call.ended") as stream:
        await save_attention(admin, 1)
        await ok(await admin.patch(f"/api/v1/desk/attentions/{planned}", json={"status": "closed"}))
        await until(lambda: stream.events, what="the closing")
        await asyncio.sleep(0.3)
    assert [e["type"] for e in stream.events] == ["attention.closed"]


async def test_an_event_reaches_another_instances_stream_and_webhooks_without_waiting_a_poll(
    backoffice_with: ServiceWith, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event committed by one instance is told to every instance at its commit (PostgreSQL
    NOTIFY): another instance's open stream and its webhook loops get it at once, with their
    polls set so far apart that only the notice can bring it within the test's time."""
    monkeypatch.setattr(public, "STREAM_POLL", 300.0)
    monkeypatch.setattr(public, "KEEPALIVE", 600.0)
    asleep = dataclasses.replace(FAST, poll_seconds=60.0)
    async with (
        backoffice_with(webhooks=asleep) as writer,
        backoffice_with(webhooks=asleep) as reader,
        logins_for(writer) as login,
    ):
        admin = await login("admin")
        token = await add_key(admin, "events:read")
        async with streaming(reader, token) as live:
            # The reader's bus connection opens as it starts: once an event comes through, the
            # notices are heard; each attempt waits far less than any poll would.
            for _ in range(10):
                await save_attention(admin, 1)
                with contextlib.suppress(AssertionError):
                    await until(lambda: live.events, within=2.0, what="a first event")
                    break
            assert live.events, "no event reached the other instance's stream"
            await add_endpoint(admin, receiver.url)
            before = len(live.events)
            await save_attention(admin, 2)
            await until(lambda: len(live.events) == before + 1, within=5.0, what="the stream")
            await until(receiver.events, within=5.0, what="the webhook")
    assert live.events[-1]["data"]["attention"]["id"] == 2
    assert [e["data"]["attention"]["id"] for e in receiver.events()] == [2]
