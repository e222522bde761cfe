"""Real headless Chromium (Debian's /usr/bin/chromium, GUIDE §6) driven by Playwright.

``browser_page`` is a fresh page in a fresh context; ``chromium`` is the launched browser. The
wallboard's tests can use both with their own service fixture.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

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
