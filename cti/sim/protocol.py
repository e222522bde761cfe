"""AMI framing, sans-I/O: bytes in, header lists out, and back.

An AMI message is an ordered list of ``(name, value)`` pairs; a frame ends with an empty line.
Header order matters to fidelity, so messages are lists, not dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Headers = list[tuple[str, str]]


def encode(headers: Iterable[tuple[str, str]]) -> bytes:
    """One AMI frame, CRLF line ends, terminated by an empty line."""
    return ("".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode()


def get(headers: Sequence[tuple[str, str]], name: str, default: str = "") -> str:
    """The first value of header ``name`` (case-insensitive), or ``default``."""
    low = name.lower()
    for k, v in headers:
        if k.lower() == low:
            return v
    return default


def get_all(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    """Every value of a repeatable header such as ``Variable``."""
    low = name.lower()
    return [v for k, v in headers if k.lower() == low]


class FrameParser:
    """Split a byte stream into AMI messages.

    Accepts CRLF or bare LF line ends. A line without ``": "`` (such as the banner) becomes a message
    of its own with the whole line as the name and an empty value. Bytes of a multi-byte UTF-8
    character split across reads are kept until the rest arrives.
    """

    def __init__(self) -> None:
        self._buf = b""
        self._current: Headers = []

    def feed(self, data: bytes) -> list[Headers]:
        self._buf += data
        out: list[Headers] = []
        while True:
            nl = self._buf.find(b"\n")
            if nl < 0:
                break
            raw = self._buf[:nl]
            self._buf = self._buf[nl + 1 :]
            line = raw.rstrip(b"\r").decode("utf-8", errors="replace")
            if not line:
                if self._current:
                    out.append(self._current)
                    self._current = []
                continue
            name, sep, value = line.partition(":")
            if not sep:
                out.append([(line, "")])
                continue
            self._current.append((name.strip(), value[1:] if value.startswith(" ") else value))
        return out
