"""The main flows in real headless Chromium against a real Asterisk: an agent's desk from sign-in to
a call's end, the phone that is not registered, and a supervisor listening from the wallboard."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import browser_page, chromium, screenshot_path, sign_in
from tests.pbx.asterisk import Asterisk
from tests.pbx.conftest import PASSWORDS
from tests.pbx.cti_server import CtiServer
from tests.pbx.helpers import PBX_WAIT, Phones, sign_in_to_phone, wait_desk
from tests.web.conftest import Client

pytestmark = pytest.mark.browser
__all__ = ["browser_page", "chromium"]


async def test_an_agent_takes_a_call_at_the_desk_on_a_real_pbx(
    pbx: Asterisk, cti: CtiServer, phones: Phones, browser_page: Page, tmp_path: Path
) -> None:
    page = browser_page
    await sign_in(page, cti.url, "ana", password=PASSWORDS["ana"], landing="desk")
    await expect(page.locator("#interface")).to_have_value("PJSIP/agent1")
    await page.click("#desk-signin")
    # The softphone is not running yet: the desk says so, and the agent is not ready.
    warning = page.locator("#phone-warning")
    await expect(warning).to_contain_text("not registered")
    await expect(page.locator("#state-text")).to_have_text("Offline")
    await page.screenshot(path=str(screenshot_path("pbx-desk-unregistered.png", tmp_path)))

    agent1 = await phones("agent1")
    await expect(page.locator("#state-text")).to_have_text("Ready")
    await expect(warning).to_be_hidden()

    carrier = await phones("carrier")
    caller = await carrier.call(
        "5000", caller="2025550166", caller_name="Dora", target=pbx.trunk_address
    )
    await expect(page.locator("#pop-status")).to_contain_text("Ringing")
    leg = await agent1.incoming(PBX_WAIT)
    await leg.answer()
    await expect(page.locator("#pop-status")).to_contain_text("On the call")
    timer = page.locator("#timer")
    await expect(timer).not_to_have_text("00:00")
    await expect(page.locator("#attention")).to_be_visible()
    await page.screenshot(path=str(screenshot_path("pbx-desk-call.png", tmp_path)))

    await caller.hangup()
    await expect(timer).to_have_text("00:00")
    await expect(page.locator("#f-last")).to_contain_text("Dora")
    assert await leg.ended(PBX_WAIT) == "bye-received"


async def test_a_supervisor_listens_from_the_wallboard_and_the_session_ends_with_the_call(
    pbx: Asterisk, cti: CtiServer, phones: Phones, browser_page: Page, tmp_path: Path
) -> None:
    agent1, mine = await phones("agent1"), await phones("agent9")
    carrier = await phones("carrier")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        ana = Client(http=http, base=cti.url)  # the agent's side, over the API
        assert (await ana.login("ana", PASSWORDS["ana"])).status == 200
        await sign_in_to_phone(ana)
        await wait_desk(ana, "ready", lambda d: d["state"] == "ready")
        caller = await carrier.call("5000", caller="2025550188", target=pbx.trunk_address)
        await (await agent1.incoming(PBX_WAIT)).answer()

        page = browser_page
        await sign_in(page, cti.url, "sofia", password=PASSWORDS["sofia"], landing="wallboard")
        await page.fill("#my-phone", "PJSIP/agent9")
        await page.click("#my-phone-save")
        await expect(page.locator(".toast").last).to_contain_text("PJSIP/agent9")
        tile = page.locator('article.agent[data-interface="PJSIP/agent1"]')
        await expect(tile).to_have_attribute("data-state", "in_call")
        await tile.get_by_role("button", name="Listen").click()
        listening = await mine.incoming(PBX_WAIT)
        await listening.answer()
        session = page.locator("#spy-list li")
        await expect(session).to_contain_text("Sofia Reis")
        await expect(session).to_contain_text("listening to")
        await page.screenshot(path=str(screenshot_path("pbx-wallboard-listening.png", tmp_path)))
        await caller.hangup()
        assert await listening.ended(PBX_WAIT) == "bye-received"
        await expect(page.locator("#spies")).to_be_hidden()
