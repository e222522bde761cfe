"""A real Asterisk for the ``pbx`` tier, run from cti's own ``config/asterisk/``.

The folder is copied as it ships; the copy may differ only in directory paths, bind addresses and
ports, the carrier's and the database's addresses, and a throwaway TLS certificate for the
HTTP server (each substitution must match exactly once, so a config that
changes under the tier fails loudly here instead of being silently patched). Anything else a test
needs from Asterisk is a bug in the shipped configuration.

Asterisk itself comes from ``../shared/pbx/build-asterisk`` (prefix ``/opt/asterisk-22.10.1``,
or ``CTI_ASTERISK_PREFIX``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.cluster.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "asterisk"
DEFAULT_PREFIX = Path("/opt/asterisk-22.10.1")
BUILD_HINT = (
    "no Asterisk for the pbx tier: build it once with ../shared/pbx/build-asterisk "
    "(10-15 min; installs /opt/asterisk-22.10.1 and sipp), or point CTI_ASTERISK_PREFIX at an "
    "install of Asterisk 22"
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MEMBER_INTERFACE = re.compile(r"\((\w+/[^) ]+)\)")
AMI_SECRET = "pbx-tier-ami-secret"
AGENT_PASSWORD = "pbx-tier-agent-password"


def asterisk_prefix() -> Path | None:
    """Where Asterisk is installed, or ``None`` when it is not."""
    prefix = Path(os.environ.get("CTI_ASTERISK_PREFIX") or DEFAULT_PREFIX)
    return prefix if (prefix / "sbin" / "asterisk").is_file() else None


@dataclass
class Ports:
    """Where the tier's Asterisk listens, and where it finds the carrier."""

    ami: int = field(default_factory=free_port)
    agents: int = field(default_factory=lambda: free_port(socket.SOCK_DGRAM))
    trunk: int = field(default_factory=lambda: free_port(socket.SOCK_DGRAM))
    carrier: int = field(default_factory=lambda: free_port(socket.SOCK_DGRAM))
    http: int = field(default_factory=free_port)
    https: int = field(default_factory=free_port)


def _sub(text: str, old: str, new: str, where: str) -> str:
    count = text.count(old)
    if count != 1:
        raise AssertionError(f"{where}: expected {old!r} once in the shipped config, found {count}")
    return text.replace(old, new)


def make_certificate(keys: Path) -> None:
    """A throwaway self-signed certificate for 127.0.0.1 (``asterisk.crt``, ``asterisk.key``): what
    an operator gets from their CA or Let's Encrypt (docs/production.md)."""
    keys.mkdir(exist_ok=True)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(keys / "asterisk.key"), "-out", str(keys / "asterisk.crt"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip


def render_config(prefix: Path, root: Path, ports: Ports, database: str | None = None) -> Path:
    """Copy ``config/asterisk`` into ``root/etc`` with the tier's paths and ports; return the
    path of its ``asterisk.conf``. ``database`` (a URL) is where the softphones' realtime rows are
    read (res_pgsql.conf)."""
    etc = root / "etc"
    shutil.copytree(CONFIG, etc)
    make_certificate(etc / "keys")
    var = prefix / "var"
    dirs = {
        "astetcdir": etc,
        "astmoddir": prefix / "lib" / "asterisk" / "modules",
        "astvarlibdir": root / "lib",
        "astdbdir": root / "lib",
        "astkeydir": root / "lib",
        "astdatadir": var / "lib" / "asterisk",
        "astagidir": var / "lib" / "asterisk" / "agi-bin",
        "astspooldir": root / "spool",
        "astrundir": root / "run",
        "astlogdir": root / "log",
        "astsbindir": prefix / "sbin",
        "astcachedir": root / "cache",
    }
    for name in ("lib", "spool", "run", "log", "cache"):
        (root / name).mkdir()
    conf = etc / "asterisk.conf"
    text = conf.read_text()
    for key, path in dirs.items():
        text, n = re.subn(rf"(?m)^{key} => .*$", f"{key} => {path}", text)
        if n != 1:
            raise AssertionError(f"asterisk.conf: [directories] has {n} '{key}' lines, not 1")
    conf.write_text(text)

    def edit(name: str, *pairs: tuple[str, str]) -> None:
        path = etc / name
        text = path.read_text()
        for old, new in pairs:
            text = _sub(text, old, new, name)
        path.write_text(text)

    exec_dir = ("/bin/sh /etc/asterisk/env-setting.sh", f"/bin/sh {etc}/env-setting.sh")
    edit(
        "pjsip.conf",
        ("bind = 0.0.0.0:5060", f"bind = 127.0.0.1:{ports.agents}"),
        ("bind = 0.0.0.0:5062", f"bind = 127.0.0.1:{ports.trunk}"),
        ("contact = sip:sip.carrier.example:5060", f"contact = sip:127.0.0.1:{ports.carrier}"),
        ("match = 203.0.113.10", "match = 127.0.0.1"),
        exec_dir,
    )
    edit(
        "manager.conf",
        ("port = 5038", f"port = {ports.ami}"),
        ("bindaddr = 0.0.0.0", "bindaddr = 127.0.0.1"),
    )
    # manager.conf reads two secrets through the same script.
    manager = etc / "manager.conf"
    manager.write_text(manager.read_text().replace(*exec_dir))
    edit(
        "http.conf",
        ("\nbindaddr = 0.0.0.0", "\nbindaddr = 127.0.0.1"),
        ("bindport = 8088", f"bindport = {ports.http}"),
        ("tlsbindaddr = 0.0.0.0:8089", f"tlsbindaddr = 127.0.0.1:{ports.https}"),
        ("/etc/asterisk/keys/asterisk.crt", f"{etc}/keys/asterisk.crt"),
        ("/etc/asterisk/keys/asterisk.key", f"{etc}/keys/asterisk.key"),
    )
    db = make_url(database) if database else None
    edit(
        "res_pgsql.conf",
        ("dbhost = postgres", f"dbhost = {db.host if db else '127.0.0.1'}"),
        ("dbport = 5432", f"dbport = {db.port if db and db.port else 5432}"),
        ("dbname = cti", f"dbname = {db.database if db else 'no-database'}"),
        ("dbuser = cti", f"dbuser = {db.username if db else 'postgres'}"),
        exec_dir,
    )
    edit(
        "extensions.conf",
        ("/var/lib/asterisk/sounds/cti/abandon", f"{etc}/sounds/abandon"),
        ("/var/spool/asterisk/monitor/cti", f"{root}/recordings"),
    )
    return conf


class Asterisk:
    """One Asterisk daemon on its own copy of the configuration."""

    def __init__(
        self, prefix: Path, ports: Ports | None = None, *, database: str | None = None
    ) -> None:
        self.prefix = prefix
        self.ports = ports or Ports()
        # Short: the control socket's path must fit a sockaddr_un (108 bytes).
        self.root = Path(tempfile.mkdtemp(prefix="cti-ast-"))
        self.conf = render_config(prefix, self.root, self.ports, database)
        self.certificate = self.root / "etc" / "keys" / "asterisk.crt"
        # Where the dialplan records calls (extensions.conf CTI_RECORDINGS).
        self.recordings = self.root / "recordings"
        self.binary = prefix / "sbin" / "asterisk"
        self.env = {
            **os.environ,
            "AMI_SECRET": AMI_SECRET,
            "AMI_READONLY_SECRET": "",
            "SIP_AGENT_PASSWORD": AGENT_PASSWORD,
            "POSTGRES_PASSWORD": "",  # trust authentication on the tier's PostgreSQL
        }

    # --- life --------------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        """Start the daemon and wait until it is fully booted."""
        subprocess.run(
            [str(self.binary), "-C", str(self.conf)],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=30,
        )
        self.wait_booted(timeout)

    def wait_booted(self, timeout: float = 60.0, *, after_pid: int | None = None) -> None:
        deadline = time.monotonic() + timeout
        while True:
            done = subprocess.run(
                [str(self.binary), "-C", str(self.conf), "-rx", "core waitfullybooted"],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            booted = done.returncode == 0 and "fully booted" in done.stdout.lower()
            if booted and (after_pid is None or self.pid() not in (None, after_pid)):
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Asterisk did not boot within {timeout:.0f} s: {done.stdout}{done.stderr}"
                    f"\n--- messages.log ---\n{self.log_tail()}"
                )
            time.sleep(0.2)

    def cli(self, command: str, timeout: float = 30.0) -> str:
        """Run one CLI command in the running Asterisk; its output.

        A busy machine sometimes gets "Unable to connect to remote asterisk" from a live daemon's
        control socket: the command never ran, so it is tried again, for up to 5 s."""
        deadline = time.monotonic() + 5.0
        while True:
            done = subprocess.run(
                [str(self.binary), "-C", str(self.conf), "-rx", command],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            refused = "Unable to connect to remote asterisk" in done.stdout + done.stderr
            if not (refused and self.alive() and time.monotonic() < deadline):
                break
            time.sleep(0.2)
        if done.returncode != 0:
            raise AssertionError(f"asterisk -rx {command!r} failed: {done.stdout}{done.stderr}")
        return done.stdout

    def pid(self) -> int | None:
        try:
            return int((self.root / "run" / "asterisk.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def alive(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    def restart_now(self, timeout: float = 60.0) -> None:
        """``core restart now``: every channel is hung up, the daemon starts over."""
        before = self.started_at()
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            self.cli("core restart now", timeout=10)
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                self.wait_booted(timeout=5)
                if self.started_at() != before:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Asterisk did not come back from a restart\n{self.log_tail()}"
                )
            time.sleep(0.2)

    def started_at(self) -> str:
        """The system uptime line of ``core show uptime seconds`` (changes on every restart)."""
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            for line in self.cli("core show uptime seconds", timeout=5).splitlines():
                if line.startswith("System uptime"):
                    return str(int(time.time()) - int(line.split(":")[1]))
        return ""

    def kill(self) -> None:
        """SIGKILL, as a crash: no hangups sent, the AMI socket just drops."""
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        (self.root / "run" / "asterisk.pid").unlink(missing_ok=True)
        (self.root / "run" / "asterisk.ctl").unlink(missing_ok=True)

    def stop(self) -> None:
        if self.alive():
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                self.cli("core stop now", timeout=10)
            deadline = time.monotonic() + 10
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.kill()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def trunk_address(self) -> tuple[str, int]:
        """Where the carrier sends its calls (pjsip.conf transport-trunk)."""
        return ("127.0.0.1", self.ports.trunk)

    # --- looking in ------------------------------------------------------------------------------

    def log_tail(self, lines: int = 60) -> str:
        path = self.root / "log" / "messages.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no messages.log)"

    def queue_members(self, queue: str) -> list[str]:
        """The member lines of ``queue show`` for a queue, colours removed:
        ``Ana Lima (PJSIP/agent1) (ringinuse disabled) (dynamic) (paused:lunch was 3 secs ago)
        (Not in use) has taken no calls yet (login was 5 secs ago)``."""
        out = ANSI.sub("", self.cli(f"queue show {queue}"))
        members: list[str] = []
        in_members = False
        for line in out.splitlines():
            stripped = line.strip()
            if stripped.startswith("Members:"):
                in_members = True
                continue
            if stripped.startswith(("Callers:", "No Callers")):
                in_members = False
            if in_members and stripped and not stripped.startswith("No Members"):
                members.append(stripped)
        return members

    def queue_interfaces(self, queue: str) -> set[str]:
        """The interfaces of a queue's members."""
        found = set()
        for line in self.queue_members(queue):
            match = MEMBER_INTERFACE.search(line)
            if match is not None:
                found.add(match.group(1))
        return found

    def channels(self) -> list[str]:
        """Channel names of ``core show channels concise``."""
        out = self.cli("core show channels concise")
        return [line.split("!")[0] for line in out.splitlines() if "!" in line]
