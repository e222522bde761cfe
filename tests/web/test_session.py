"""Sign-in, roles, CSRF, throttling, the one-desk rule, health and the live state, over real HTTP."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from cti.app import RunningService, running_service
from cti.sim import PbxSimulator
from tests.desk.conftest import until

from .conftest import Client, closed_port, service_settings

ClientFactory = Callable[[], Awaitable[Client]]


async def test_healthz_reports_database_up_and_unreachable_pbx_disconnected(
    service: RunningService, client_factory: ClientFactory
) -> None:
    c = await client_factory()
    resp = await c.get("/healthz")
    assert resp.status == 200
    body = await resp.json()
    assert body["database"] == "up"
    assert body["pbx"] == {"pbx1": "disconnected"}
    assert body["status"] == "degraded"


async def test_healthz_warns_of_a_pbx_whose_media_ports_silence_browser_phones(
    migrated_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Asterisk's own default range, 10000-20000, holds 10080, which browsers refuse.
    async with PbxSimulator(rtp_ports=(10000, 20000)) as sim:
        settings = service_settings(ami_port=sim.port)
        async with running_service(settings, database_url=migrated_database) as svc:
            await until(lambda: bool(svc.runtime.ami.warnings()), what="the RTP settings read")
            async with aiohttp.ClientSession() as http:
                body = await (await http.get(f"{svc.url}healthz")).json()
    assert body["status"] == "ok"  # the PBX works; its configuration is what is wrong
    [warning] = body["warnings"]
    assert "PBX 'pbx1'" in warning and "10000-20000 include 10080" in warning
    assert "browser phone" in warning and "rtp.conf" in warning
    assert any("10080" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)

    # Ours (config/asterisk/rtp.conf, the simulator's default): nothing to say.
    async with PbxSimulator() as sim:
        settings = service_settings(ami_port=sim.port)
        async with running_service(settings, database_url=migrated_database) as svc:
            await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="login")
            await svc.runtime.ami.resync("pbx1")
            async with aiohttp.ClientSession() as http:
                body = await (await http.get(f"{svc.url}healthz")).json()
    assert body["warnings"] == []


async def test_unreachable_pbx_is_retried_with_backoff_and_logged_without_spam(
    migrated_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = service_settings(ami_port=closed_port())
    async with running_service(settings, database_url=migrated_database):
        await asyncio.sleep(2.0)  # reconnect_min 0.05 s, max 0.5 s: many tries in 2 s
    lines = [
        r for r in caplog.records if r.name.startswith("cti.ami") and r.levelno >= logging.WARNING
    ]
    # One warning for the outage, not one per try.
    assert 1 <= len(lines) <= 3, [r.getMessage() for r in lines]
    assert "ctisecret" not in caplog.text


async def test_sign_in_me_and_sign_out(
    users: dict[str, str], client_factory: ClientFactory
) -> None:
    c = await client_factory()
    assert (await c.get("/api/v1/me")).status == 401
    resp = await c.login("ana", users["ana"])
    assert resp.status == 200
    assert c.user["role"] == "operator"
    assert c.user["routines"] == ["telemarketing"]
    assert c.user["ideal_talk_seconds"] == 5
    assert "password" not in str(await resp.json())
    assert (
        "HttpOnly" in resp.headers["Set-Cookie"] and "SameSite=Strict" in resp.headers["Set-Cookie"]
    )
    me = await (await c.get("/api/v1/me")).json()
    assert me["user"]["username"] == "ana"
    # Sign-out needs the CSRF token.
    token, c.csrf = c.csrf, ""
    assert (await c.post("/api/v1/logout")).status == 403
    c.csrf = token
    assert (await c.post("/api/v1/logout")).status == 200
    assert (await c.get("/api/v1/me")).status == 401


async def test_wrong_password_is_refused_and_repeated_failures_are_slowed(
    users: dict[str, str], client_factory: ClientFactory
) -> None:
    c = await client_factory()
    statuses = [(await c.login("ana", "wrong")).status for _ in range(5)]
    assert statuses[:3] == [401, 401, 401]
    assert 429 in statuses[3:]
    refused = await c.login("ana", users["ana"])  # even the right password waits now
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) >= 1
    unknown = await c.login("nobody", "x")
    assert unknown.status in (401, 429)
    assert (await unknown.json())["error"] in (
        "wrong user name or password",
    ) or unknown.status == 429


async def test_operator_is_refused_supervisor_endpoints(
    users: dict[str, str], client_factory: ClientFactory
) -> None:
    op = await client_factory()
    await op.login("ana", users["ana"])
    resp = await op.get("/api/v1/live")
    assert resp.status == 403
    assert "supervisor" in (await resp.json())["error"]
    sup = await client_factory()
    await sup.login("sofia", users["sofia"])
    live = await (await sup.get("/api/v1/live")).json()
    assert live["pbxs"][0]["status"] == "disconnected"


async def test_bad_body_names_the_field(client_factory: ClientFactory) -> None:
    c = await client_factory()
    resp = await c.post("/api/v1/login", json={"username": "ana"})
    assert resp.status == 400
    assert (await resp.json()) == {
        "error": "is required",
        "field": "password",
        "problem": "is required",
    }
    resp = await c.http.post(
        f"{c.base}api/v1/login", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400 and (await resp.json())["field"] == "body"


async def test_openapi_document_lists_the_endpoints(client_factory: ClientFactory) -> None:
    c = await client_factory()
    doc = await (await c.get("/api/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/login" in doc["paths"]
    assert (
        doc["paths"]["/api/v1/live"]["get"]["description"] == "Needs the role supervisor or above."
    )
