"""Malformed input is a 400 naming the field, never a 500: NUL characters, integers beyond 64 bits,
numbers that are not finite, deeply nested JSON; a WebSocket frame that cannot be handled gets an
error frame and the socket stays open."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.web.conftest import Client, client_factory, service, users

__all__ = ["client_factory", "service", "users"]

ClientFactory = Callable[[], Awaitable[Client]]
HUGE = 2**70


async def _as(client_factory: ClientFactory, users: dict[str, str], name: str) -> Client:
    client = await client_factory()
    assert (await client.login(name, users[name])).status == 200
    return client


async def _problem(resp: aiohttp.ClientResponse, status: int = 400) -> dict[str, Any]:
    body = await resp.json()
    assert resp.status == status, body
    assert "Traceback" not in json.dumps(body)
    return dict(body)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "POST",
            "/api/v1/users",
            {"username": "x\x00y", "password": "green-tram-42", "role": "admin"},
            "username",
        ),
        (
            "POST",
            "/api/v1/users",
            {
                "username": "nina",
                "password": "green-tram-42",
                "role": "admin",
                "full_name": "Ni\x00na",
            },
            "full_name",
        ),
        (
            "POST",
            "/api/v1/messages",
            {"from_phone": "+12025550199", "to_user_id": 1, "description": "a\x00b"},
            "description",
        ),
        ("POST", "/api/v1/config/pause-reasons", {"name": "Lu\x00nch"}, "name"),
        (
            "POST",
            "/api/v1/supervisor/attentions/reassign",
            {"to_operator_id": HUGE},
            "to_operator_id",
        ),
        (
            "POST",
            "/api/v1/supervisor/attentions/reassign",
            {"to_operator_id": 1, "attention_ids": [1, -HUGE]},
            "attention_ids[1]",
        ),
        (
            "POST",
            "/api/v1/campaigns/1/collection-leads",
            {"min_overdue_days": 1, "min_amount": 1e400},
            "body",
        ),
    ],
)
async def test_bad_values_in_a_body_are_named(
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
    users: dict[str, str],
    client_factory: ClientFactory,
) -> None:
    root = await _as(client_factory, users, "root")
    resp = await root.http.request(
        method,
        f"{root.base}{path.lstrip('/')}",
        data=json.dumps(body),  # 1e400 goes out as "Infinity"
        headers={"Content-Type": "application/json", "X-CSRF-Token": root.csrf},
    )
    assert (await _problem(resp))["field"] == field


async def test_bad_paths_queries_and_nesting_are_named(
    users: dict[str, str], client_factory: ClientFactory
) -> None:
    root = await _as(client_factory, users, "root")
    assert (await _problem(await root.get(f"/api/v1/customers/{HUGE}")))["field"] == "id"
    assert (await _problem(await root.get("/api/v1/customers/%C2%B2"), 404))["error"]
    assert (await _problem(await root.get("/api/v1/customers?q=ab%00cd")))["field"] == "q"
    assert (await _problem(await root.get("/api/v1/dialer/calls/17%00")))["field"] == "linkedid"
    assert (await _problem(await root.get(f"/api/v1/audit?limit={HUGE}")))["field"] == "limit"
    deep = await root.http.post(
        f"{root.base}api/v1/login",
        data="[" * 100_000,
        headers={"Content-Type": "application/json"},
    )
    assert (await _problem(deep))["field"] == "body"
    deep_object = {"username": "ana", "password": "x", "takeover": json.loads("[" * 50 + "]" * 50)}
    named = (await _problem(await root.post("/api/v1/login", json=deep_object)))["field"]
    assert named.startswith("takeover[0]")


async def test_a_desk_frame_that_cannot_be_handled_gets_an_error_frame(
    users: dict[str, str], client_factory: ClientFactory
) -> None:
    ana = await _as(client_factory, users, "ana")
    ws = await ana.http.ws_connect(f"{ana.base}ws/desk", headers={"Origin": ana.base.rstrip("/")})
    assert (await ws.receive_json())["type"] == "snapshot"
    for frame in ("[" * 60_000, "not json", "[1, 2]", json.dumps({"type": [[["x"]]]})):
        await ws.send_str(frame)
        answer = await ws.receive_json(timeout=5)
        assert answer["type"] == "error", answer
    await ws.send_bytes(b"\x00\x01")
    assert (await ws.receive_json(timeout=5))["type"] == "error"
    await ws.send_str(json.dumps({"type": "ping"}))
    assert (await ws.receive_json(timeout=5))["type"] == "pong"
    await ws.close()
