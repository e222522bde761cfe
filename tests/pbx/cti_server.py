"""``cti serve`` as a call center runs it: a separate process, a config file, signals to stop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

from tests.pbx.asterisk import AMI_SECRET, free_port


class CtiServer:
    """One ``cti serve`` process against the tier's Asterisk and a test database."""

    def __init__(self, *, database_url: str, ami_port: int, extra: str = "") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.dir = Path(tempfile.mkdtemp(prefix="cti-serve-"))
        self.config = self.dir / "cti.toml"
        self.log = self.dir / "cti.log"
        self.config.write_text(
            f"""
[server]
host = "127.0.0.1"
port = {self.port}

[database]
url = "{database_url}"
pool_size = 5

[[ami]]
name = "pbx1"
host = "127.0.0.1"
port = {ami_port}
username = "cti"
secret = "{AMI_SECRET}"
ping_interval = 2.0
ping_timeout = 2.0
action_timeout = 5.0
reconnect_min = 0.2
reconnect_max = 1.0

[dialer]
connect_within_seconds = 3.0

[logging]
level = "INFO"
{extra}
"""
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cti", "--config", str(self.config), "serve"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        out.close()

    async def wait_ready(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait until ``/healthz`` says the database is up and the PBX connected."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: Any = None
        async with aiohttp.ClientSession() as http:
            while loop.time() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    raise AssertionError(f"cti serve exited {self.proc.returncode}\n{self.tail()}")
                try:
                    async with http.get(f"{self.url}healthz") as resp:
                        last = await resp.json()
                        if last.get("status") == "ok":
                            return dict(last)
                except aiohttp.ClientError as exc:
                    last = exc
                await asyncio.sleep(0.1)
        raise AssertionError(f"cti not ready within {timeout:.0f} s: {last}\n{self.tail()}")

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send ``sig`` and wait for the process to end; its exit status."""
        proc = self.proc
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(sig)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.to_thread(proc.wait)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            raise AssertionError(f"cti did not stop within {timeout:.0f} s\n{self.tail()}")
        self.proc = None
        return int(proc.returncode)

    def tail(self, lines: int = 80) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
