"""Recording files: when a file Asterisk writes is finished.

MixMonitor writes a WAV (``format_wav``) whose header says 0 bytes of sound until the stream is
closed, when the header's two sizes are set to the file's (the file may then gain one byte of
padding). A file whose header disagrees with its size is still being written: its size is not
yet the recording's.
"""

from __future__ import annotations

import struct

WAV_HEADER = 44


def wav_finished(header: bytes, size: int) -> bool:
    """Whether a WAV file of ``size`` bytes starting with ``header`` has been closed by its
    writer. A file that is not a RIFF/WAVE one is taken as finished (nothing to tell)."""
    if len(header) < WAV_HEADER or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        return True
    riff, data = struct.unpack_from("<I", header, 4)[0], struct.unpack_from("<I", header, 40)[0]
    if data == 0:
        return False  # nothing written yet, or not closed: an empty recording is not kept short
    return riff + 8 in (size, size - 1) and data + WAV_HEADER in (size, size - 1)
