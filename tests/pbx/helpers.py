"""What the pbx tier's tests share: waiting for the desk, signing in to the phone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from tests.pbx.asterisk import Asterisk
from tests.pbx.sipua import Phone
from tests.web.conftest import Client

# How long a real PBX is given for what it does at once (a REGISTER, a QueueAdd, a ring).
PBX_WAIT = 10.0

Phones = Callable[..., Awaitable[Phone]]
SignedIn = Callable[[str], Awaitable[Client]]


async def desk(client: Client) -> dict[str, Any]:
    resp = await client.get("/api/v1/desk")
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def sign_in_to_phone(client: Client) -> dict[str, Any]:
    resp = await client.post("/api/v1/desk/signin", json={})
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def wait_desk(
    client: Client,
    what: str,
    test: Callable[[dict[str, Any]], bool],
    within: float = PBX_WAIT,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    body: dict[str, Any] = {}
    while loop.time() < deadline:
        body = (await desk(client))["desk"]
        if test(body):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"desk never {what}: {body}")


async def members(pbx: Asterisk, queue: str) -> list[str]:
    return await asyncio.to_thread(pbx.queue_members, queue)


async def dispose_after_call(client: Client, within: float = PBX_WAIT) -> None:
    """The agent's call ended: wait for their after-call work, close its attention, and wait
    until they are ready for the next call."""
    await wait_desk(client, "in wrap-up", lambda d: d["state"] == "wrap_up" and d["wrapup"], within)
    attention = (await desk(client))["desk"]["attention"]
    resp = await client.patch(
        f"/api/v1/desk/attentions/{attention['id']}", json={"status": "closed"}
    )
    assert resp.status == 200, await resp.text()
    await wait_desk(client, "ready for the next call", lambda d: d["state"] == "ready", within)
