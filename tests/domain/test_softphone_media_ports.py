"""What cti says of a PBX's RTP port range for browser phones: the ports browsers refuse that it
holds, and how often a call is given one (and so has no audio) — the figure the back office
shows an admin, and the one seen on the real PBX (about one call in 50 on 10000-10099)."""

from __future__ import annotations

from cti.domain.softphone import CLEAR_MEDIA_PORTS, media_ports_warning


def test_asterisks_default_range_silences_about_one_browser_call_in_5000() -> None:
    warning = media_ports_warning(10000, 20000)
    assert warning is not None
    assert (warning.code, warning.first, warning.last) == (
        "rtp_ports_browser_refused",
        10000,
        20000,
    )
    assert warning.refused == (10080,)
    assert warning.one_in == 5000
    # The English of cti's log and /healthz.
    assert warning.text == (
        "its RTP ports 10000-20000 include 10080, which browsers refuse: a browser phone's call"
        " given one has no audio (move rtpstart/rtpend in rtp.conf past them, e.g. 10100-10199)"
    )


def test_the_old_range_silenced_one_browser_call_in_50_as_the_real_pbx_showed() -> None:
    warning = media_ports_warning(10000, 10099)
    assert warning is not None and warning.one_in == 50


def test_only_even_refused_ports_count_as_asterisk_gives_calls_even_ports_only() -> None:
    # 6000-6999 holds 6000, 6566, 6665-6669, 6679 and 6697; calls get the even ones of 500 ports.
    wide = media_ports_warning(6000, 6999)
    assert wide is not None
    assert wide.refused == (6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697)
    assert wide.one_in == 125  # 500 / 4 (6000, 6566, 6666, 6668)
    # 4000-4100 holds 4045 alone, odd: listed, but no call is given it.
    odd = media_ports_warning(4000, 4100)
    assert odd is not None and odd.refused == (4045,) and odd.one_in is None


def test_the_clear_range_proposed_holds_no_refused_port() -> None:
    assert media_ports_warning(*CLEAR_MEDIA_PORTS) is None
