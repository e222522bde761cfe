"""A TURN server for the browser phone's tests: Debian's coturn (``scripts/ensure-coturn``) on a
loopback port, checking users by a shared secret (``use-auth-secret``), as a call center's own
coturn would; and a "server" that swallows every packet, as one out of reach does."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.cluster.harness import free_port

TURNSERVER = "/usr/bin/turnserver"


class TurnServer:
    """``turnserver`` on 127.0.0.1 (UDP), relaying from 127.0.0.1, until closed."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.port = free_port(socket.SOCK_DGRAM)
        self.root = Path(tempfile.mkdtemp(prefix="cti-turn-"))
        self.log = self.root / "turn.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def start(self) -> None:
        if not os.path.exists(TURNSERVER):
            raise AssertionError("coturn is missing: scripts/ensure-coturn installs it")
        self.process = subprocess.Popen(
            [
                TURNSERVER,
                "-n",  # no configuration file: all of it is here
                "--listening-ip=127.0.0.1",
                f"--listening-port={self.port}",
                "--relay-ip=127.0.0.1",
                "--min-port=49152",
                "--max-port=65535",
                "--use-auth-secret",
                f"--static-auth-secret={self.secret}",
                "--realm=cti.test",
                "--no-tls",
                "--no-dtls",
                "--no-tcp",
                "--no-cli",
                "--no-rfc5780",
                "--fingerprint",
                # Asterisk is on this host: its media addresses are loopback's neighbours.
                "--allow-loopback-peers",
                f"--log-file={self.log}",
                "--simple-log",
                "--no-stdout-log",
                f"--pidfile={self.root / 'pid'}",
                f"--userdb={self.root / 'turndb'}",
                "--verbose",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while "UDP listener opened" not in self.read_log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"coturn did not start:\n{self.read_log()[-3000:]}")
            time.sleep(0.05)

    def read_log(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def allocations(self) -> list[str]:
        """The users whose relay allocation coturn granted, in order."""
        return re.findall(
            r"user <([^>]*)>: incoming packet ALLOCATE processed, success", self.read_log()
        )

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TurnServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class SilentServer:
    """A UDP port that takes every packet and answers none: a TURN server out of reach."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def close(self) -> None:
        self.socket.close()
