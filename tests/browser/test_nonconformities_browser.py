"""The quality team's page in real headless Chromium: with telemarketing.nonconformity_integration
(MV_QLYXCAL) on, an item confirmed with an action flagged for it shows in the back office's
non-conformities as a potential one, with its source ticket."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from cti.config import TelemarketingSettings
from tests.backoffice.conftest import ServiceWith, backoffice_with, seeded_database, seeded_template
from tests.backoffice.test_tickets import confirm_a_flagged_item

from .conftest import screenshot_path, sign_in

__all__ = ["backoffice_with", "seeded_database", "seeded_template"]

pytestmark = pytest.mark.browser


async def test_the_quality_team_sees_a_potential_nonconformity_and_its_source_ticket(
    backoffice_with: ServiceWith, browser_page: Page, tmp_path: Path
) -> None:
    on = TelemarketingSettings(nonconformity_integration=True)
    async with backoffice_with(telemarketing=on) as svc:
        item, _ = await confirm_a_flagged_item(svc)
        page = browser_page
        # A supervisor lands on the wallboard; the back office is a click away.
        await sign_in(page, svc.url, "sofia", landing="wallboard")
        await page.goto(f"{svc.url}static/admin/index.html")
        await page.click("#nav [data-section=quality]")
        row = page.locator(f"#nc-table tr[data-nc='{item['nonconformity_id']}']")
        attention = item["number"].split("-")[0]
        await expect(row).to_contain_text(f"#{attention} item {item['number']}")
        await expect(row).to_contain_text("Potential")
        await expect(row).to_contain_text("Complaint · Damaged delivery · Replace the product")
        await expect(row).to_contain_text("Office chair")
        await page.screenshot(path=str(screenshot_path("nonconformities.png", tmp_path)))
