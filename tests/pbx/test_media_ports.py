"""cti reads a real Asterisk's RTP port range (CLI ``rtp show settings`` over AMI) and warns, in
its log and on ``/healthz``, when the range holds a port browsers refuse: a browser phone's call
that Asterisk gives one has no audio at all (Chromium discards the candidate; seen in this tier
with 10080 inside the old 10000-10099)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.pbx.asterisk import Asterisk
from tests.pbx.cti_server import CtiServer


async def test_cti_warns_of_a_pbx_whose_rtp_ports_silence_browser_phones(
    asterisk_install: Path, migrated_database: str
) -> None:
    ast = Asterisk(asterisk_install, database=migrated_database)
    # Asterisk's own default range, which a call center's existing PBX often keeps.
    rtp = ast.root / "etc" / "rtp.conf"
    text = rtp.read_text()
    assert "rtpstart = 10100" in text and "rtpend = 10199" in text
    rtp.write_text(
        text.replace("rtpstart = 10100", "rtpstart = 10000").replace(
            "rtpend = 10199", "rtpend = 20000"
        )
    )
    server = CtiServer(database_url=migrated_database, ami_port=ast.ports.ami)
    warnings: list[str] = []
    try:
        ast.start()
        server.start()
        await server.wait_ready()
        # The first resync after Asterisk has booted reads the range.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        async with aiohttp.ClientSession() as http:
            while not warnings and loop.time() < deadline:
                async with http.get(f"{server.url}healthz") as resp:
                    warnings[:] = (await resp.json())["warnings"]
                await asyncio.sleep(0.2)
    finally:
        await server.stop()
        log = server.tail()
        ast.close()
    assert warnings, f"no warning on /healthz within 20 s; cti's log:\n{log}"
    [warning] = warnings
    assert "PBX 'pbx1'" in warning and "RTP ports 10000-20000 include 10080" in warning
    assert "10080" in log and "rtp.conf" in log  # and in cti's log, for whoever reads it
