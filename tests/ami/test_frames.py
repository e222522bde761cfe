"""The sans-I/O frame parser, fed with literal bytes and the real captures."""

from __future__ import annotations

from pathlib import Path

from cti.ami.frames import FrameParser

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


def feed_all(parser: FrameParser, data: bytes, step: int) -> list[dict[str, str]]:
    frames = []
    for i in range(0, len(data), step):
        frames += parser.feed(data[i : i + step])
    return frames


def test_banner_then_frames_in_any_read_size(transcripts_dir: Path) -> None:
    data = (transcripts_dir / "inbound_queue_call.ami").read_bytes()
    whole = FrameParser().feed(data)
    for step in (1, 2, 3, 7, 64, 1500):
        parser = FrameParser()
        assert feed_all(parser, data, step) == whole
        assert parser.banner == "Asterisk Call Manager/11.0.0"
    assert whole[0] == {
        "Response": "Success",
        "ActionID": "login-1",
        "Message": "Authentication accepted",
    }
    assert sum(1 for f in whole if "Event" in f) == 154


def test_multibyte_character_split_across_reads_survives() -> None:
    frame = "Event: NewCallerid\r\nCallerIDName: José Müller 東京\r\nUniqueid: 1.1\r\n\r\n".encode()
    cut = frame.index("é".encode()) + 1  # in the middle of the two bytes of é
    parser = FrameParser()
    assert parser.feed(BANNER + frame[:cut]) == []
    (got,) = parser.feed(frame[cut:])
    assert got["CallerIDName"] == "José Müller 東京"


def test_oversized_frame_is_skipped_and_the_next_one_kept() -> None:
    parser = FrameParser(max_frame=200)
    big = b"Event: VarSet\r\nValue: " + b"x" * 1000 + b"\r\n\r\n"
    good = b"Event: Newstate\r\nUniqueid: 1.2\r\n\r\n"
    frames = feed_all(parser, BANNER + big + good, 50)
    assert frames == [{"Event": "Newstate", "Uniqueid": "1.2"}]
    assert parser.oversized == 1
    # the parser never held the whole oversized frame
    assert len(parser._buf) <= 200


def test_garbage_is_skipped_and_parsing_goes_on() -> None:
    parser = FrameParser()
    data = (
        BANNER
        + b"\x00\xff garbage without colon\r\n\r\n"
        + b"Key: value without event\r\n\r\n"
        + b"Event: Hangup\r\nUniqueid: 9.9\r\nCause: 16\r\n\r\n"
    )
    assert parser.feed(data) == [{"Event": "Hangup", "Uniqueid": "9.9", "Cause": "16"}]
    assert parser.malformed == 2


def test_unwanted_events_are_dropped_unread_and_responses_kept() -> None:
    parser = FrameParser(wanted_events={"Hangup"})
    data = (
        BANNER
        + b"Event: VarSet\r\nVariable: X\r\n\r\n"
        + b"Response: Success\r\nActionID: a1\r\n\r\n"
        + b"Event: Hangup\r\nUniqueid: 1\r\n\r\n"
    )
    assert [f.get("Event") or f["Response"] for f in parser.feed(data)] == ["Success", "Hangup"]
    assert parser.skipped == 1


def test_repeated_headers_are_joined_and_empty_values_kept() -> None:
    parser = FrameParser()
    data = (
        BANNER
        + b"Event: CoreShowChannel\r\nChanVariable: A=1\r\nChanVariable: B=2\r\nBridgeId: \r\n\r\n"
    )
    (frame,) = parser.feed(data)
    assert frame["ChanVariable"] == "A=1\nB=2"
    assert frame["BridgeId"] == ""


def test_no_banner_is_fine() -> None:
    parser = FrameParser()
    assert parser.feed(b"Response: Success\r\n\r\n") == [{"Response": "Success"}]
    assert parser.banner == ""
