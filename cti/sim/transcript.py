"""Read the recorded AMI captures: ``NAME.ami`` (bytes received) and ``NAME.ami.sent`` (actions sent)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cti.sim.protocol import FrameParser, Headers

_STEP = re.compile(r"^--- t=\+([0-9.]+)s(?: SHELL: (.*))?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class SentStep:
    """One step of a ``.ami.sent`` file: an action, or a shell command run at that time."""

    at: float
    action: Headers
    shell: str = ""


def read_received(path: Path) -> list[Headers]:
    """Every message of a ``.ami`` capture, the banner first."""
    parser = FrameParser()
    messages = parser.feed(path.read_bytes())
    return messages


def read_sent(path: Path) -> list[SentStep]:
    """The steps of a ``.ami.sent`` file, in order."""
    steps: list[SentStep] = []
    at = 0.0
    shell = ""
    lines: Headers = []

    def flush() -> None:
        nonlocal lines, shell
        if lines or shell:
            steps.append(SentStep(at=at, action=lines, shell=shell))
        lines = []
        shell = ""

    for raw in path.read_text().splitlines():
        m = _STEP.match(raw)
        if m:
            flush()
            at = float(m.group(1))
            shell = m.group(2) or ""
            continue
        if not raw.strip():
            continue
        name, _, value = raw.partition(": ")
        lines.append((name, value))
    flush()
    return steps
