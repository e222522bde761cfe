"""Preview dialing at the desk, in headless Chromium: the agent sees the next lead of a running
preview campaign of their queue, skips one and dials the next; each choice reaches the dialer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import sqlalchemy as sa
from playwright.async_api import Page, expect

from cti.app import RunningService
from cti.db.models import Attempt, Campaign, Lead
from cti.domain.model import CampaignKind, CampaignMode, CampaignStatus, LeadStatus
from tests.web.conftest import Client

from .conftest import sign_in

pytestmark = pytest.mark.browser


async def test_preview_lead_skip_and_dial_from_the_desk(
    service: RunningService,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
    browser_page: Page,
) -> None:
    db = service.runtime.db
    async with db.sessions.begin() as s:
        campaign = Campaign(
            name="Service follow-up",
            kind=CampaignKind.TELEMARKETING,
            mode=CampaignMode.PREVIEW,
            status=CampaignStatus.RUNNING,
            queue="support",
            caller_id="5550000",
            ring_seconds=20,
            windows=[{"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59"}],
            retry_rules={},
        )
        s.add(campaign)
        await s.flush()
        s.add_all(
            [
                Lead(campaign_id=campaign.id, phone="+12025550180", name="Rita Moss", priority=2),
                Lead(campaign_id=campaign.id, phone="+12025550181", name="Tom Vale", priority=1),
            ]
        )
        cid = int(campaign.id)

    page = browser_page
    await sign_in(page, service.url, "ana", password=users["ana"], landing="desk")
    card = page.locator("#preview")
    await page.click("#preview-next")
    await expect(card.locator(".preview-lead")).to_contain_text("Rita Moss")
    # Not signed in to her phone yet: she is told so, and nothing is dialled.
    await page.click("#preview-dial")
    await expect(page.locator(".toast.bad")).to_contain_text("sign in to your phone first")
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text("Ready")
    await expect(card).to_contain_text("Service follow-up")

    await page.click("#preview-skip")
    await page.click("#preview-next")
    await expect(card.locator(".preview-lead")).to_contain_text("Tom Vale")
    await page.click("#preview-dial")
    await expect(page.locator(".toast").last).to_contain_text("Dialling Tom Vale")

    async with db.sessions() as s:
        leads = {
            name: (status, attempts)
            for name, status, attempts in (
                await s.execute(
                    sa.select(Lead.name, Lead.status, Lead.attempts).where(Lead.campaign_id == cid)
                )
            ).all()
        }
        dialled = (
            (
                await s.execute(
                    sa.select(Lead.name)
                    .join(Attempt, Attempt.lead_id == Lead.id)
                    .where(Lead.campaign_id == cid)
                )
            )
            .scalars()
            .all()
        )
    assert dialled == ["Tom Vale"]
    assert leads["Rita Moss"][0] != LeadStatus.DIALING
