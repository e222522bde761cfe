"""A supervisor starts, pauses and re-paces a campaign from the wallboard (headless Chromium)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.async_api import Page, expect

from cti.app import RunningService
from cti.db.models import AuditEvent, Campaign
from cti.domain.model import CampaignKind, CampaignMode, CampaignStatus
from tests.browser.conftest import browser_page, chromium, sign_in

from .conftest import Client

pytestmark = pytest.mark.browser
__all__ = ["browser_page", "chromium"]


async def test_campaign_start_pause_and_pacing_from_the_wallboard(
    service: RunningService, supervisor: Client, browser_page: Page
) -> None:
    db = service.runtime.db
    async with db.sessions.begin() as s:
        campaign = Campaign(
            name="Spring renewals",
            kind=CampaignKind.TELESALES,
            mode=CampaignMode.PROGRESSIVE,
            status=CampaignStatus.PAUSED,
            queue="sales",
            caller_id="5550000",
            ring_seconds=20,
            windows=[{"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59"}],
            retry_rules={},
        )
        s.add(campaign)
        await s.flush()
        cid = int(campaign.id)

    async def status() -> CampaignStatus:
        async with db.sessions() as s:
            return (
                await s.execute(sa.select(Campaign.status).where(Campaign.id == cid))
            ).scalar_one()

    page = browser_page
    await page.goto(service.url)
    await page.fill("#signin input[name=username]", "vera")
    await page.fill("#signin input[name=password]", "vera-secret-1")
    await page.click("#signin button[type=submit]")
    row = page.locator(f'#campaigns tr[data-campaign="{cid}"]')
    await expect(row).to_have_attribute("data-status", "paused")

    await row.get_by_role("button", name="Start").click()
    await expect(row).to_have_attribute("data-status", "running")
    assert await status() == CampaignStatus.RUNNING

    await row.get_by_role("button", name="Pacing").click()
    await page.select_option("#pacing-mode", "predictive")
    await page.fill("#pacing-cap", "2.5")
    await page.click("#pacing-go")
    await expect(row.locator("td").nth(1)).to_have_text("predictive")

    await row.get_by_role("button", name="Pause").click()
    await expect(row).to_have_attribute("data-status", "paused")
    assert await status() == CampaignStatus.PAUSED

    # A new campaign from the dialog: a mistake is named, then it is created as a draft.
    await page.click("#campaign-new")
    await page.fill("#campaign-form input[name=name]", "Autumn collections")
    await page.select_option("#campaign-form select[name=kind]", "collection")
    await page.fill("#campaign-form input[name=queue]", "collections")
    await page.fill("#campaign-form input[name=end]", "08:00")
    await page.click("#campaign-go")
    await expect(page.locator("#campaign-error")).to_contain_text("windows[0]")
    await page.fill("#campaign-form input[name=end]", "19:00")
    # Collections calls are not to be recorded here.
    await page.uncheck("#campaign-form input[name=record]")
    await page.click("#campaign-go")
    created = page.locator('#campaigns tr[data-status="draft"]')
    await expect(created).to_contain_text("Autumn collections")
    async with db.sessions() as s:
        autumn = (
            await s.execute(sa.select(Campaign).where(Campaign.name == "Autumn collections"))
        ).scalar_one()
        assert (autumn.kind.value, autumn.queue, autumn.windows[0]["end"], autumn.record) == (
            "collection",
            "collections",
            "19:00",
            False,
        )

    async with db.sessions() as s:
        actions = (
            (
                await s.execute(
                    sa.select(AuditEvent.action)
                    .where(AuditEvent.actor == "vera")
                    .order_by(AuditEvent.id)
                )
            )
            .scalars()
            .all()
        )
    assert [a for a in actions if a.startswith("campaign.")][-4:] == [
        "campaign.running",
        "campaign.pacing",
        "campaign.paused",
        "campaign.created",
    ]


async def test_a_new_install_creates_its_first_campaign_from_the_wallboard(
    service: RunningService, supervisor: Client, browser_page: Page
) -> None:
    page = browser_page
    await sign_in(page, service.url, "vera", password="vera-secret-1", landing="wallboard")
    # No campaign yet: the section is there, says so, and offers to create one.
    await expect(page.locator("#campaigns tr.empty")).to_contain_text("No campaign yet")
    await page.click("#campaign-new")
    await page.fill("#campaign-form input[name=name]", "First run")
    await page.fill("#campaign-form input[name=queue]", "sales")
    await page.click("#campaign-go")
    await expect(page.locator('#campaigns tr[data-status="draft"]')).to_contain_text("First run")
    await expect(page.locator("#campaigns tr.empty")).to_have_count(0)
