"""The browser phone behind NAT: cti gives the desk a TURN server with a user of its own.

Chromium runs the desk; a real coturn checks the user cti issued against its shared secret (its
``use-auth-secret``, as a call center's coturn would), so a relay granted to the browser proves
the user is right. A TURN server out of reach must not hold the answer: the page answers with the
candidates it has after a moment, and the call has audio over the direct path.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

from tests.pbx.asterisk import Asterisk
from tests.pbx.conftest import make_users
from tests.pbx.cti_server import CtiServer
from tests.pbx.helpers import Phones
from tests.pbx.test_softphone_browser import SLOW, answer_a_queue_call, carla, desk_page
from tests.pbx.turn import SilentServer, TurnServer

__all__ = ["carla", "desk_page"]

pytestmark = pytest.mark.browser

SECRET = "turn-shared-secret-pbx-1"

StartCti = Callable[[str], Awaitable[CtiServer]]


@pytest.fixture
async def start_cti(pbx: Asterisk, migrated_database: str) -> AsyncIterator[StartCti]:
    """``cti serve`` against the tier's Asterisk with these lines added to its [softphone]."""
    started: list[CtiServer] = []

    async def start(softphone: str) -> CtiServer:
        await make_users(migrated_database)
        extra = (
            f'[softphone]\nws_url = "wss://127.0.0.1:{pbx.ports.https}/ws"\n'
            f'domain = "127.0.0.1"\n{softphone}'
        )
        server = CtiServer(database_url=migrated_database, ami_port=pbx.ports.ami, extra=extra)
        started.append(server)
        server.start()
        await server.wait_ready()
        return server

    try:
        yield start
    finally:
        for server in started:
            await server.stop()
            print(f"--- cti serve log (last lines) ---\n{server.tail()}")


async def test_the_browser_phone_gets_a_relay_with_the_turn_user_cti_gave_it(
    pbx: Asterisk, start_cti: StartCti, phones: Phones, carla: str, desk_page: Page
) -> None:
    with TurnServer(SECRET) as turn:
        cti = await start_cti(f'ice_servers = ["{turn.url}"]\nturn_secret = "{SECRET}"\n')
        caller, _ = await answer_a_queue_call(desk_page, cti, pbx, phones)
        # The call has audio both ways.
        await expect(desk_page.locator("#sp-quality")).to_contain_text("good", timeout=SLOW)
        assert caller.media.packets_received > 0
        # coturn granted the browser a relay: it took the user cti issued for carla's phone
        # (web1), checked against the shared secret the browser never saw.
        granted = turn.allocations()
        assert granted, f"coturn granted no relay:\n{turn.read_log()[-3000:]}"
        expiry, _, user = granted[-1].partition(":")
        assert user == "web1"
        # It lasts as long as her sign-in (12 hours by default), not beyond.
        assert time.time() + 11.9 * 3600 < int(expiry) <= time.time() + 12 * 3600
        assert SECRET not in await desk_page.content()


async def test_a_turn_server_out_of_reach_does_not_hold_the_answer(
    pbx: Asterisk, start_cti: StartCti, phones: Phones, carla: str, desk_page: Page
) -> None:
    silent = SilentServer()
    try:
        cti = await start_cti(f'ice_servers = ["{silent.url}"]\nturn_secret = "{SECRET}"\n')
        caller, took = await answer_a_queue_call(desk_page, cti, pbx, phones)
        print(f"answered {took:.2f} s after the click with a TURN server out of reach")
        # The answer went with the candidates the browser had: audio over the direct path.
        await expect(desk_page.locator("#sp-quality")).to_contain_text("good", timeout=SLOW)
        assert caller.media.packets_received > 0
        setup = await desk_page.locator("#sp-quality").get_attribute("data-setup")
        print(f"softphone call setup with a TURN server out of reach: {setup} ms")
    finally:
        silent.close()
