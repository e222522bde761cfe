"""The pages work under the Content-Security-Policy in Chromium: nothing is refused by it on the
sign-in page, the desk, the wallboard, the reports and the back office."""

from __future__ import annotations

import pytest
from playwright.async_api import ConsoleMessage, Page, expect

from cti.app import RunningService
from tests.backoffice.conftest import backoffice, backoffice_with, seeded_database, seeded_template

from .conftest import sign_in

__all__ = ["backoffice", "backoffice_with", "seeded_database", "seeded_template"]

pytestmark = pytest.mark.browser


async def test_no_page_breaks_the_content_security_policy(
    backoffice: RunningService, browser_page: Page
) -> None:
    page = browser_page
    refused: list[str] = []

    def note(msg: ConsoleMessage) -> None:
        if "Content Security Policy" in msg.text or "Refused to" in msg.text:
            refused.append(msg.text)

    page.on("console", note)
    await sign_in(page, backoffice.url, "sofia", landing="wallboard")
    await expect(page.locator("body")).to_contain_text("Service level")
    await page.goto(f"{backoffice.url}static/reports/index.html")
    await page.wait_for_load_state("networkidle")
    await page.goto(f"{backoffice.url}static/admin/index.html")
    await page.wait_for_load_state("networkidle")
    await page.context.clear_cookies()
    await sign_in(page, backoffice.url, "ana", landing="desk")
    await page.wait_for_load_state("networkidle")
    assert refused == []
