"""A sans-I/O AMI frame parser: bytes in, header dictionaries out.

AMI frames are ``Key: Value`` lines ended by CRLF, a frame ended by an empty line. The parser
keeps undecoded bytes until a whole frame has arrived and decodes each frame on its own, so a
multi-byte UTF-8 character split across TCP reads survives (frame boundaries are ASCII). A frame
larger than ``max_frame`` bytes is skipped whole, without buffering it; a frame holding a line that
is not a header is skipped too. Both are counted and logged, never raised: one bad frame must not
take a PBX link down.

Frames whose first line names an event outside ``wanted_events`` are dropped before their headers
are split, which keeps the cost of events cti does not use close to zero.

Headers appearing more than once in a frame (``ChanVariable``) are joined with ``\\n``, which no
AMI value can contain.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Collection

log = logging.getLogger(__name__)

_split_header = operator.methodcaller("split", ": ", 1)

Frame = dict[str, str]

BANNER_PREFIX = b"Asterisk Call Manager/"
_END = b"\r\n\r\n"
_EOL = "\r\n"
DEFAULT_MAX_FRAME = 64 * 1024


class FrameParser:
    """Incremental AMI parser. Feed it bytes; it returns complete frames in order.

    Args:
        max_frame: the largest frame accepted, in bytes; a larger one is skipped.
        wanted_events: event names to keep; ``None`` keeps every event. Responses are always kept.
    """

    __slots__ = (
        "_buf",
        "_discarding",
        "_wanted",
        "banner",
        "malformed",
        "max_frame",
        "oversized",
        "skipped",
    )

    def __init__(
        self, *, max_frame: int = DEFAULT_MAX_FRAME, wanted_events: Collection[str] | None = None
    ) -> None:
        self.max_frame = max_frame
        self.banner: str | None = None
        self.malformed = 0
        self.oversized = 0
        self.skipped = 0
        self._buf = b""
        self._discarding = False
        self._wanted = (
            None if wanted_events is None else frozenset(e.encode() for e in wanted_events)
        )

    def feed(self, data: bytes) -> list[Frame]:
        """Add received bytes; return every frame they complete (possibly none)."""
        buf = self._buf + data if self._buf else data
        out: list[Frame] = []
        if self.banner is None:
            if len(buf) < len(BANNER_PREFIX) and BANNER_PREFIX.startswith(buf):
                self._buf = buf
                return out
            if buf.startswith(BANNER_PREFIX):
                eol = buf.find(b"\r\n")
                if eol < 0:
                    self._buf = buf[: self.max_frame]
                    return out
                self.banner = buf[:eol].decode("utf-8", "replace")
                buf = buf[eol + 2 :]
            else:
                self.banner = ""
        max_frame = self.max_frame
        if self._discarding:
            stop = buf.find(_END)
            if stop < 0:
                # keep 3 bytes: the terminator may straddle this read and the next
                self._buf = buf[-3:]
                return out
            self._discarding = False
            buf = buf[stop + 4 :]
        chunks = buf.split(_END)
        rest = chunks.pop()
        if len(rest) > max_frame:
            self._oversize()
            self._discarding = True
            rest = rest[-3:]
        self._buf = rest
        wanted = self._wanted
        split = _split_header
        for chunk in chunks:
            if len(chunk) > max_frame:
                self._oversize()
                continue
            if wanted is not None and chunk.startswith(b"Event: "):
                eol = chunk.find(b"\r\n")
                if (chunk[7:eol] if eol >= 0 else chunk[7:]) not in wanted:
                    self.skipped += 1
                    continue
            lines = chunk.decode("utf-8", "replace").split(_EOL)
            try:
                frame = dict(map(split, lines))
            except ValueError:
                frame = None
            if frame is None or len(frame) != len(lines):
                # an empty line, a bare ``Key:``, a repeated header or garbage: the careful way
                frame = self._parse(lines)
                if frame is None:
                    continue
            if "Event" in frame or "Response" in frame:
                out.append(frame)
            elif frame:
                self.malformed += 1
                log.warning(
                    "AMI frame with neither Event nor Response skipped: %r", list(frame)[:4]
                )
        return out

    def _oversize(self) -> None:
        self.oversized += 1
        log.warning("AMI frame larger than %d bytes skipped", self.max_frame)

    def _parse(self, lines: list[str]) -> Frame | None:
        frame: Frame = {}
        for line in lines:
            key, sep, value = line.partition(": ")
            if not sep:
                if line.endswith(":") and line[:-1] and " " not in line:
                    key, value = line[:-1], ""
                elif not line:
                    continue
                else:
                    self.malformed += 1
                    log.warning("malformed AMI frame skipped (line %r)", line[:80])
                    return None
            if key in frame:
                frame[key] = frame[key] + "\n" + value
            else:
                frame[key] = value
        return frame


__all__ = ["BANNER_PREFIX", "DEFAULT_MAX_FRAME", "Frame", "FrameParser"]
