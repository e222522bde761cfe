"""The back office's Integrations page in real headless Chromium: an admin registers a webhook
endpoint (its secret shown once), sees a delivery dead-lettered by a failing receiver, replays it
and sees it delivered; makes an API key (shown once) and revokes it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from cti.app import RunningService
from tests.backoffice.conftest import (
    ServiceWith,
    backoffice_with,
    logins_for,
    seeded_database,
    seeded_template,
)
from tests.integrations.conftest import (
    FAST,
    Receiver,
    attempted,
    clock_of,
    deliveries,
    receiver,
    save_attention,
    until,
)

from .conftest import sign_in

__all__ = ["backoffice_with", "receiver", "seeded_database", "seeded_template"]

pytestmark = pytest.mark.browser


@pytest.fixture
async def hooks(backoffice_with: ServiceWith) -> AsyncIterator[RunningService]:
    async with backoffice_with(webhooks=FAST) as svc:
        yield svc


async def test_admin_registers_a_webhook_replays_a_dead_letter_and_manages_keys(
    hooks: RunningService, browser_page: Page, receiver: Receiver
) -> None:
    page = browser_page
    await sign_in(page, hooks.url, "admin")
    await page.wait_for_url("**/admin/index.html")
    await page.click("#nav [data-section=integrations]")

    await page.fill("#webhook-url", receiver.url)
    await page.click("#webhook-add")
    await expect(page.locator("#shown-value")).to_contain_text("whsec_")
    secret = await page.locator("#shown-value").text_content()
    assert secret and secret.startswith("whsec_")
    await expect(page.locator("#webhooks-table tbody tr")).to_have_count(1)
    await expect(page.locator("#webhooks-table")).not_to_contain_text(secret)

    # The receiver fails every post: after the last retry the delivery is a dead letter.
    receiver.status = 500
    clock = clock_of(hooks)
    async with logins_for(hooks) as login:
        admin = await login("admin")
        await save_attention(admin, 1)
        for tries in range(1, FAST.max_attempts + 1):
            await until(lambda n=tries: len(receiver.got) >= n, what=f"try {tries}")
            # The retry is due from when the failure was recorded: the clock moves after that.
            await until(lambda n=tries: attempted(admin, n), what=f"try {tries} recorded")
            clock.advance(10)
        await page.select_option("#delivery-filter", "dead")
        dead = page.locator("#deliveries-table tr[data-status=dead]")
        await expect(dead).to_have_count(1)
        await expect(dead).to_contain_text("HTTP 500")

        receiver.status = 200
        await dead.locator("button.replay").click()
        await expect(page.locator(".toast")).to_contain_text("will be sent again")
        await until(lambda: len(receiver.got) == FAST.max_attempts + 1, what="the replay")
        # The list is read when the filter changes: once the delivery is recorded.
        await until(lambda: deliveries(admin, "?status=delivered"), what="the replay recorded")
    await page.select_option("#delivery-filter", "delivered")
    await expect(page.locator("#deliveries-table tr[data-status=delivered]")).to_have_count(1)

    # An API key: shown once, then revoked.
    await page.fill("#key-name", "The CRM")
    await page.click("#key-add")
    await expect(page.locator("#shown-value")).to_contain_text("cti_")
    token = await page.locator("#shown-value").text_content()
    assert token and token.startswith("cti_")
    row = page.locator("#keys-table tbody tr")
    await expect(row).to_contain_text("events:read")
    await expect(page.locator("#keys-table")).not_to_contain_text(token)
    page.once("dialog", lambda d: d.accept())
    await row.locator("button", has_text="Revoke").click()
    await expect(row).to_contain_text("revoked")
