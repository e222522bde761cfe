"""A recording's size is taken only once its writer has closed the file."""

from __future__ import annotations

import io
import struct
import wave

from cti.domain.recordings import wav_finished


def closed_wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\1" * int(8000 * seconds))
    return out.getvalue()


def test_a_closed_wav_is_finished_and_one_still_written_is_not() -> None:
    done = closed_wav(1.5)
    assert wav_finished(done[:44], len(done))
    # As format_wav leaves it while recording: sizes 0 in the header, sound after it.
    open_header = done[:4] + struct.pack("<I", 0) + done[8:40] + struct.pack("<I", 0)
    assert not wav_finished(open_header, len(done))
    assert not wav_finished(open_header, 44)
    # Closed, then grown (an old header over new sound): not the recording's size either.
    assert not wav_finished(done[:44], len(done) + 4000)
    # format_wav pads an odd length with one byte after setting the header.
    assert wav_finished(done[:44], len(done) + 1)


def test_a_file_that_is_not_a_wav_is_taken_as_it_is() -> None:
    assert wav_finished(b"OggS" + b"\0" * 60, 64)
    assert wav_finished(b"", 0)
