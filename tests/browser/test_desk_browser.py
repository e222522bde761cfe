"""The agent desk in real headless Chromium: sign in, a pop, the timer turning red, an attention
saved with a note and found in the customer's history. Leaves a screenshot in docs/desk.png with CTI_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from cti.app import RunningService
from cti.db.models import (
    Attention,
    AttentionNote,
    CallMessage,
    CallMessageSituation,
    CallMessageType,
    ClosingReason,
)
from cti.domain.model import AttentionKind, AttentionStatus, Direction
from cti.sim import PbxSimulator

from .conftest import screenshot_path, sign_in

pytestmark = pytest.mark.browser


async def _history_and_lists(
    service: RunningService, acme: int, users_by_name: dict[str, int]
) -> None:
    now = service.runtime.clock.now()
    async with service.runtime.db.sessions.begin() as s:
        s.add_all([ClosingReason(name="Solved"), ClosingReason(name="Wrong number")])
        s.add(CallMessageSituation(code="PE", name="Pending", pending=True, usual_pending=True))
        s.add(CallMessageType(code="RE", name="Complaint", is_default=True))
        old = Attention(
            kind=AttentionKind.TELEMARKETING,
            direction=Direction.INBOUND,
            status=AttentionStatus.CLOSED,
            operator_id=users_by_name["bruno"],
            customer_id=acme,
            subject="Invoice copy",
            created_at=now - timedelta(days=9),
            closed_at=now - timedelta(days=9),
        )
        s.add(old)
        await s.flush()
        s.add(
            AttentionNote(
                attention_id=old.id,
                author_id=users_by_name["bruno"],
                text="Sent the copy by e-mail.",
            )
        )
        s.add(
            CallMessage(
                created_by=users_by_name["bruno"],
                situation_code="PE",
                type_code="RE",
                from_customer_id=acme,
                to_user_id=users_by_name["ana"],
                description="Damaged delivery; wants a call back after 14:00.",
            )
        )


async def test_desk_pop_timer_attention_and_history_in_chromium(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    browser_page: Page,
    tmp_path: Path,
) -> None:
    import sqlalchemy as sa

    from cti.db.models import Operator

    async with service.runtime.db.sessions() as s:
        ids = dict((await s.execute(sa.select(Operator.username, Operator.id))).all())
    await _history_and_lists(service, customers["acme"], ids)
    page = browser_page

    await sign_in(page, service.url, "ana", password=users["ana"], landing="desk")
    await expect(page.locator("#agent-name")).to_have_text("Ana Lima")
    await expect(page.locator("#interface")).to_have_value("PJSIP/agent1")
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text("Ready")
    await expect(page.locator("#link")).to_contain_text("live")

    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await expect(page.locator("#pop-name")).to_have_text("Acme Supplies")
    await expect(page.locator("#pop-status")).to_contain_text("Ringing")
    await expect(page.locator("#pop-body")).to_contain_text("Damaged delivery")
    await expect(page.locator("#pop-body")).to_contain_text("Invoice copy")

    await page.click("#answer")
    await expect(page.locator("#pop-status")).to_contain_text("On the call")
    timer = page.locator("#timer")
    await expect(timer).to_have_attribute("data-over", "false")
    await expect(timer).not_to_have_text("00:00")
    # Ana's group's ideal talk time is 5 s: past it the timer turns red.
    await expect(timer).to_have_attribute("data-over", "true", timeout=9000)
    assert await timer.evaluate("n => getComputedStyle(n).backgroundColor") == "rgb(217, 45, 32)"

    await expect(page.locator("#attention")).to_be_visible()
    await page.fill("input[name=subject]", "Delivery delayed")
    await page.fill("input[name=product]", "Standing desk")
    await page.fill("textarea[name=occurrence]", "The order arrived damaged.")
    await page.fill("input[name=action]", "Send a replacement")
    await page.select_option("#status", "closed")
    await page.select_option("#closing-reason", label="Solved")
    await page.fill("#note", "Replacement promised for Friday.")
    await page.click("#save")
    await expect(page.locator("#notes")).to_contain_text("Replacement promised for Friday.")
    await expect(page.locator("#notes")).to_contain_text("Ana Lima")
    await expect(page.locator("#f-status")).to_have_text("closed")

    row = page.locator("#history-table tbody tr", has_text="Delivery delayed")
    await expect(row).to_contain_text("Replacement promised for Friday.")
    await expect(row).to_contain_text("closed")
    await expect(page.locator("#history-table tbody tr", has_text="Invoice copy")).to_be_visible()

    await page.evaluate("document.querySelectorAll('.toast').forEach(t => t.remove())")
    await page.locator("#note").blur()
    await page.screenshot(path=str(screenshot_path("desk.png", tmp_path)))

    # The caller hangs up: the timer resets, the footer shows the last call.
    assert sim.hangup("PJSIP/agent1")
    await expect(timer).to_have_text("00:00")
    await expect(page.locator("#f-last")).to_contain_text("ACME")
