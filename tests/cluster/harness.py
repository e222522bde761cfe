"""Several ``cti serve`` processes behind a real HAProxy (Debian's ``haproxy``), as a call center
runs them: one database, one PBX, a reverse proxy that keeps each browser on one instance (a
cookie) and sends it to another when its instance is gone. Used by ``tests/cluster`` and by
``bench/failover.py``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
SERVER_COOKIE = "CTI_SERVER"


# Every port handed out in this test process: the kernel may hand the same free port to two
# bind-and-close probes in a row, and a test's listeners once got one port twice (Asterisk's AMI
# and its HTTP server: cti read "HTTP/1.1 404 Not Found" where AMI should answer).
_GIVEN: set[int] = set()


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port free for ``kind`` (TCP or UDP) right now, never handed out before here."""
    while True:
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


def haproxy_missing() -> str | None:
    """Why HAProxy cannot run here, or None."""
    if not os.path.exists(HAPROXY):
        return "HAProxy is not installed (Debian package haproxy: apt-get install haproxy)"
    return None


class CtiProcess:
    """One ``cti serve`` process on its own port, against a database and an AMI server, as a call
    center runs it: a config file, a log, signals to stop (``tests/pbx`` runs it against a real
    Asterisk, ``tests/cluster`` and ``bench/failover.py`` several behind HAProxy)."""

    # How fast the AMI link notices a PBX gone and comes back (the simulator answers at once).
    AMI_TIMINGS = (
        "ping_interval = 1.0\nping_timeout = 1.0\naction_timeout = 3.0\n"
        "reconnect_min = 0.1\nreconnect_max = 0.5\n"
    )

    def __init__(
        self,
        name: str,
        *,
        database_url: str,
        ami_port: int,
        ami_user: str = "cti",
        ami_secret: str = "ctisecret",
        remote_answer: bool = True,
        extra: str = "",
    ) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.dir = Path(tempfile.mkdtemp(prefix=f"cti-{name}-"))
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
username = "{ami_user}"
secret = "{ami_secret}"
remote_answer = {"true" if remote_answer else "false"}
{self.AMI_TIMINGS}
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
        """Until ``/healthz`` says the database is up and the PBX connected; what it said."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: Any = None
        async with aiohttp.ClientSession() as http:
            while loop.time() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    raise AssertionError(
                        f"{self.name} exited {self.proc.returncode}\n{self.tail()}"
                    )
                try:
                    async with http.get(f"{self.url}healthz") as resp:
                        last = await resp.json()
                        if last.get("status") == "ok":
                            return dict(last)
                except aiohttp.ClientError as exc:
                    last = exc
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} not ready within {timeout:.0f} s: {last}\n{self.tail()}")

    def kill(self) -> None:
        """``kill -9``: no clean stop, nothing given back."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send ``sig`` (SIGTERM, as an upgrade or ``systemctl stop`` does) and wait for the
        process to end; its exit status."""
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
            raise AssertionError(f"{self.name} did not stop within {timeout:.0f} s\n{self.tail()}")
        self.proc = None
        return int(proc.returncode)

    def tail(self, lines: int = 80) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "(no log)"
        return f"--- {self.name} ---\n" + "\n".join(text)


def haproxy_config(port: int, servers: list[CtiProcess]) -> str:
    """The proxy of ``docs/production.md``: round robin, a cookie keeps a browser on its
    instance, a dead instance's browsers are sent to another (redispatch), health checks."""
    lines = "\n".join(
        f"  server {s.name} 127.0.0.1:{s.port} check inter 500 fall 2 rise 2 cookie {s.name}"
        for s in servers
    )
    return f"""
global
  maxconn 2000

defaults
  mode http
  timeout connect 1s
  timeout client 1h
  timeout server 1h
  timeout tunnel 1h
  retries 3
  option redispatch 1

frontend cti
  bind 127.0.0.1:{port}
  default_backend ctis

backend ctis
  balance roundrobin
  cookie {SERVER_COOKIE} insert indirect nocache httponly
  option httpchk GET /healthz
{lines}
"""


class Haproxy:
    """HAProxy in front of the instances, on its own port."""

    def __init__(self, servers: list[CtiProcess]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.dir = Path(tempfile.mkdtemp(prefix="haproxy-"))
        self.config = self.dir / "haproxy.cfg"
        self.config.write_text(haproxy_config(self.port, servers))
        self.log = self.dir / "haproxy.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        """Check the config and start HAProxy in the foreground (``-db``), logging to a file."""
        check = subprocess.run(
            [HAPROXY, "-c", "-f", str(self.config)], capture_output=True, check=False
        )
        if check.returncode != 0:
            raise AssertionError(f"haproxy config refused: {check.stderr.decode()}")
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(self.config)], stdout=out, stderr=subprocess.STDOUT
        )
        out.close()

    async def start(self, timeout: float = 10.0) -> None:
        """Launch it and wait until it answers."""
        self.launch()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession() as http:
            while loop.time() < deadline:
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.url}healthz") as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise AssertionError(f"haproxy not answering\n{self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def server_of(jar: aiohttp.CookieJar) -> str | None:
    """The instance HAProxy keeps this browser on (its cookie)."""
    for cookie in jar:
        if cookie.key == SERVER_COOKIE:
            return cookie.value
    return None
