"""`cti demo` as a user runs it: embedded PostgreSQL, the simulator, traffic, the logins; Ctrl-C stops it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else ""


async def _wait_for_url(
    proc: asyncio.subprocess.Process, within: float, log: Path
) -> tuple[str, str]:
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=deadline - time.monotonic())
        if not line:
            break
        seen += line.decode()
        if "Ctrl-C stops everything" in seen:
            match = re.search(r"open (http://\S+)", seen)
            assert match, seen
            return match.group(1), seen
    said = _tail(log)
    raise AssertionError(
        f"no banner within {within} s:\n{seen}\n--- its log (last lines) ---\n{said}"
    )


@asynccontextmanager
async def _demo(tmp_path: Path, *args: str) -> AsyncIterator[tuple[str, str]]:
    """``cti demo ARGS`` on its own embedded PostgreSQL: (its URL, its banner); Ctrl-C at the end,
    which must stop it cleanly, the embedded PostgreSQL with it."""
    data = tmp_path / "pg"
    env = {
        **os.environ,
        "CTI_DATABASE__URL": "",
        "CTI_DATABASE__EMBEDDED_DIR": str(data),
        "CTI_SERVER__PORT": str(_free_port()),
        "CTI_DEMO__SIM_PORT": "0",
        "CTI_DEMO__INBOUND_PER_MINUTE": "30",
    }
    log = tmp_path / "demo.log"  # what it says on stderr, shown if it fails to start
    with log.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cti",
            "demo",
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    try:
        yield await _wait_for_url(proc, within=60, log=log)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), timeout=30)
    assert code == 0
    assert not (data / "postmaster.pid").exists()


async def test_demo_shows_calls_arriving_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    async with _demo(tmp_path) as (url, banner):
        for user in ("ana", "bruno", "carla", "diego", "sofia", "admin"):
            assert f"    {user}" in banner
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            health = await (await http.get(f"{url}healthz")).json()
            assert health["database"] == "up"
            login = await http.post(
                f"{url}api/v1/login", json={"username": "sofia", "password": "sofia123"}
            )
            assert login.status == 200
            deadline = time.monotonic() + 45
            seen_calls = False
            while time.monotonic() < deadline and not seen_calls:
                live = await (await http.get(f"{url}api/v1/live")).json()
                pbx = live["pbxs"][0]
                queues = {q["name"]: q for q in pbx["queues"]}
                busy = any(
                    q["waiting"] or q["completed"] or q["abandoned"] for q in queues.values()
                )
                seen_calls = pbx["status"] == "connected" and (busy or bool(pbx["calls"]))
                await asyncio.sleep(0.5)
            assert seen_calls, live
            assert {"support", "sales", "collections"} <= set(queues)
            # The simulated agents are every queue's backups: a person who signs in at a desk
            # (penalty 0) is rung first (tests/sim/test_queue_penalty.py).
            backups = [m for q in queues.values() for m in q["members"]]
            assert len(backups) == 9, backups
            assert {m["penalty"] for m in backups} == {1}, backups


async def test_a_demo_in_portuguese_has_its_data_pages_and_money_in_portuguese(
    tmp_path: Path,
) -> None:
    async with _demo(tmp_path, "--language", "pt-BR") as (url, banner):
        assert "demo data in Português (Brasil)" in banner
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            # A browser that asks for no language of ours gets the demo's.
            i18n = await (
                await http.get(f"{url}api/v1/i18n", headers={"Accept-Language": "de"})
            ).json()
            assert (i18n["language"], i18n["currency"]) == ("pt-BR", "BRL")
            login = await http.post(
                f"{url}api/v1/login", json={"username": "sofia", "password": "sofia123"}
            )
            assert login.status == 200
            campaigns = (await (await http.get(f"{url}api/v1/campaigns")).json())["campaigns"]
            assert {c["name"] for c in campaigns} == {"Vendas de primavera", "Faturas vencidas"}
