"""The desk's browser phone against cti's simulator (the demo, the fast suite): the simulator speaks
no SIP, so the page's phone is simulated (it rings and answers through the desk); the real one, on
a real Asterisk, is tests/pbx/test_softphone_browser.py."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from cti.app import RunningService
from cti.db.users import add_user
from cti.sim import PbxSimulator

from .conftest import sign_in

pytestmark = pytest.mark.browser


async def test_a_browser_phone_agent_takes_a_call_on_the_simulator(
    service: RunningService, sim: PbxSimulator, browser_page: Page
) -> None:
    await add_user(
        service.runtime.db,
        username="carla",
        password="carla-secret-1",
        role="operator",
        routines=["telemarketing"],
        extension="PJSIP/agent3",
        full_name="Carla Souza",
        softphone=True,
    )
    page = browser_page
    await sign_in(page, service.url, "carla", password="carla-secret-1", landing="desk")
    await expect(page.locator("#softphone")).to_be_visible()
    await page.click("#desk-signin")
    await expect(page.locator("#sp-status")).to_have_text("phone ready · simulated PBX")
    await expect(page.locator("#state-text")).to_have_text("Ready")

    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await expect(page.locator("#sp-status")).to_have_text("ringing")
    await page.click("#answer")
    await expect(page.locator("#sp-status")).to_have_text("in call")
    await expect(page.locator("#pop-status")).to_contain_text("On the call")
    await page.click("#sp-hold")
    await expect(page.locator("#sp-status")).to_have_text("on hold")
    await page.click("#sp-hold")
    await page.click("#hangup")
    await expect(page.locator("#timer")).to_have_text("00:00")
    await expect(page.locator("#sp-status")).to_have_text("phone ready · simulated PBX")
