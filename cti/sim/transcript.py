"""Read the recorded AMI captures: ``NAME.ami`` (bytes received) and ``NAME.ami.sent`` (actions sent).

A ``.ami.sent`` file is a list of steps, each introduced by ``--- t=+S.SSSs`` (seconds since the
client first connected). A plain step is followed by the headers of the action sent; a step may
instead name something done outside AMI on the same line:

- ``SHELL: <command>``: a shell command (the shared captures' sipp runs);
- ``SIP: <phone> <verb> [args]``: what a softphone or the carrier did (``agent1 register``,
  ``carrier call 5000 from 2025550199 "Dora"``, ``agent1 answer``, ``carrier hangup``...);
- ``ASTERISK: <cli command, "kill" or "start">``: what was done to the PBX itself;
- ``RECONNECT``: the PBX had dropped the socket and the client connected again (the new banner
  follows in ``.ami``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cti.sim.protocol import FrameParser, Headers

_STEP = re.compile(r"^--- t=\+([0-9.]+)s(?: (SHELL|SIP|ASTERISK): (.*)| (RECONNECT))?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class SentStep:
    """One step of a ``.ami.sent`` file: an action, or a step taken outside AMI at that time."""

    at: float
    action: Headers
    shell: str = ""
    sip: str = ""
    asterisk: str = ""
    reconnect: bool = False


def read_received(path: Path) -> list[Headers]:
    """Every message of a ``.ami`` capture, the banner first."""
    parser = FrameParser()
    messages = parser.feed(path.read_bytes())
    return messages


def read_sent(path: Path) -> list[SentStep]:
    """The steps of a ``.ami.sent`` file, in order."""
    steps: list[SentStep] = []
    at = 0.0
    kind = ""
    text = ""
    lines: Headers = []

    def flush() -> None:
        nonlocal lines, kind, text
        if lines or kind:
            steps.append(
                SentStep(
                    at=at,
                    action=lines,
                    shell=text if kind == "SHELL" else "",
                    sip=text if kind == "SIP" else "",
                    asterisk=text if kind == "ASTERISK" else "",
                    reconnect=kind == "RECONNECT",
                )
            )
        lines = []
        kind = text = ""

    for raw in path.read_text().splitlines():
        m = _STEP.match(raw)
        if m:
            flush()
            at = float(m.group(1))
            kind = m.group(2) or ("RECONNECT" if m.group(4) else "")
            text = m.group(3) or ""
            continue
        if not raw.strip():
            continue
        name, _, value = raw.partition(": ")
        lines.append((name, value))
    flush()
    return steps
