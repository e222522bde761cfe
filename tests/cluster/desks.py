"""A desk page's socket through the proxy, and its reconnecting as the page does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.desk.conftest import DeskSocket
from tests.web.conftest import Client


async def open_desk(client: Client) -> DeskSocket:
    ws = await client.http.ws_connect(
        f"{client.base}ws/desk", headers={"Origin": client.base.rstrip("/")}
    )
    return DeskSocket(ws)


async def served_again(client: Client, want_call: bool, deadline: float) -> DeskSocket:
    """Reconnect as the desk page does (250 ms, then doubling) until the desk is back, signed in
    (and on its call)."""
    wait = 0.25
    while time.monotonic() < deadline:
        await asyncio.sleep(wait)
        wait = min(wait * 2, 1.0)
        try:
            sock = await open_desk(client)
        except aiohttp.ClientError:
            continue

        def ready(m: dict[str, Any]) -> bool:
            desk = m["desk"]
            return bool(desk["signed_in"]) and (not want_call or desk["attention"] is not None)

        if await _ready_within(sock, ready, deadline):
            return sock
        await sock.close()
    raise AssertionError(f"the desk of {client.user.get('username')} was not served again")


async def _ready_within(
    sock: DeskSocket, ready: Callable[[dict[str, Any]], bool], deadline: float
) -> bool:
    """Whether a snapshot that is ``ready`` comes before ``deadline`` (or the socket closes)."""
    while time.monotonic() < deadline and not sock.closed.is_set():
        if any(ready(m) for m in sock.of("snapshot")):
            return True
        await asyncio.sleep(0.01)
    return any(ready(m) for m in sock.of("snapshot"))
