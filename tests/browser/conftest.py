"""Real headless Chromium (Debian's /usr/bin/chromium, GUIDE §6) driven by Playwright.

``browser_page`` is a fresh page in a fresh context; ``chromium`` is the launched browser. The
wallboard's tests can use both with their own service fixture.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from cti.sim import PbxSimulator
from tests.desk.conftest import carla, client_factory, customers, service, sim, users

__all__ = ["carla", "client_factory", "customers", "service", "sim", "users"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def browser_page(chromium: Browser) -> AsyncIterator[Page]:
    context = await chromium.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = await context.new_page()
    page.set_default_timeout(8000)
    try:
        yield page
    finally:
        await context.close()


def screenshot_path(name: str, tmp: Path) -> Path:
    """Where a browser test leaves its screenshot: docs/NAME when CTI_UPDATE_SCREENSHOTS=1 (for
    the README), else a temporary folder, so a test run leaves the work tree clean."""
    if os.environ.get("CTI_UPDATE_SCREENSHOTS") == "1":
        docs = Path(__file__).resolve().parents[2] / "docs"
        docs.mkdir(exist_ok=True)
        return docs / name
    return tmp / name


async def sign_in(
    page: Page, base_url: str, username: str, *, password: str = "", landing: str = ""
) -> None:
    """Sign a user in from the sign-in page (by default a demo user: password = user name + ``123``)
    and, when ``landing`` is given (``admin``, ``wallboard``, ``desk``), wait for that page."""
    await page.goto(base_url)
    await page.fill("#username", username)
    await page.fill("#password", password or f"{username}123")
    await page.click("#go")
    if landing:
        await page.wait_for_url(f"**/{landing}**")


async def ana_answers_a_call(page: Page, base_url: str, sim: PbxSimulator, password: str) -> None:
    """Ana (telemarketing, the tests' users) signs in to the desk, a caller rings the support
    queue, she answers: the attention's form is on screen."""
    await sign_in(page, base_url, "ana", password=password, landing="desk")
    # The desk's buttons work once it has loaded (its name shows).
    await expect(page.locator("#agent-name")).to_have_text("Ana Lima")
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text("Ready")
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await page.click("#answer")
    await expect(page.locator("#attention")).to_be_visible()


class HeldRequests:
    """Requests whose URL matches ``matches`` wait until ``release()``; ``held`` is set at the
    first one. Lets a test make one answer arrive late, on purpose."""

    def __init__(self, page: Page, matches: Callable[[str], bool]) -> None:
        self.page = page
        self.matches = matches
        self.held = asyncio.Event()
        self._release = asyncio.Event()

    async def _hold(self, route: Route) -> None:
        self.held.set()
        await self._release.wait()
        await route.continue_()

    async def start(self) -> HeldRequests:
        await self.page.route(self.matches, self._hold)
        return self

    async def release_and_wait(self) -> None:
        """Let the held requests go and wait until the first late answer has been read."""
        async with self.page.expect_response(lambda r: self.matches(r.url)) as late:
            self._release.set()
        await (await late.value).finished()

    async def stop(self) -> None:
        self._release.set()
        await self.page.unroute(self.matches)
