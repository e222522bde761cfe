"""The agent desk in real headless Chromium: sign in, a pop, the timer turning red, an attention
saved with a note and found in the customer's history. Leaves a screenshot in docs/desk.png with CTI_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from cti.app import RunningService
from cti.db.models import (
    Attention,
    AttentionNote,
    CallMessage,
    CallMessageSituation,
    CallMessageType,
    ClosingReason,
    TicketAction,
    TicketOccurrence,
    TicketSubject,
)
from cti.domain.model import AttentionKind, AttentionStatus, Direction
from cti.domain.tickets import TicketStatus
from cti.sim import PbxSimulator

from .conftest import ana_answers_a_call, screenshot_path, sign_in

pytestmark = pytest.mark.browser


async def _history_and_lists(
    service: RunningService, acme: int, users_by_name: dict[str, int]
) -> None:
    now = service.runtime.clock.now()
    async with service.runtime.db.sessions.begin() as s:
        s.add_all([ClosingReason(name="Solved"), ClosingReason(name="Wrong number")])
        s.add(CallMessageSituation(code="PE", name="Pending", pending=True, usual_pending=True))
        s.add(CallMessageType(code="RE", name="Complaint", is_default=True))
        subject = TicketSubject(name="Delivery delayed")
        s.add(subject)
        await s.flush()
        occurrence = TicketOccurrence(subject_id=subject.id, name="The order arrived damaged")
        s.add(occurrence)
        await s.flush()
        s.add(
            TicketAction(
                occurrence_id=occurrence.id,
                name="Send a replacement",
                sets_status=TicketStatus.DONE,
            )
        )
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

    async with service.runtime.db.sessions.begin() as s:
        ids = dict((await s.execute(sa.select(Operator.username, Operator.id))).all())
        # Ana's phone is the desk's own (the browser phone; simulated against the simulator).
        await s.execute(
            sa.update(Operator).where(Operator.username == "ana").values(softphone=True)
        )
    await _history_and_lists(service, customers["acme"], ids)
    page = browser_page

    await sign_in(page, service.url, "ana", password=users["ana"], landing="desk")
    await expect(page.locator("#agent-name")).to_have_text("Ana Lima")
    await expect(page.locator("#interface")).to_have_value("PJSIP/agent1")
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text("Ready")
    await expect(page.locator("#link")).to_contain_text("live")
    # A short break: the footer's time paused today runs while it goes on and stays after it.
    await expect(page.locator("#f-paused")).to_have_text("00:00")
    await page.click("#pause")
    await expect(page.locator("#state-text")).to_contain_text("Paused")
    await expect(page.locator("#f-paused")).to_have_text("00:02", timeout=4000)
    await page.click("#resume")
    await expect(page.locator("#state-text")).to_have_text("Ready")
    await expect(page.locator("#f-paused")).to_have_text(re.compile(r"^00:0[23]$"))
    stays = await page.locator("#f-paused").text_content()
    await page.wait_for_timeout(1500)
    await expect(page.locator("#f-paused")).to_have_text(stays or "")

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
    await page.select_option("select[name=item_subject]", label="Delivery delayed")
    await page.select_option("select[name=item_occurrence]", label="The order arrived damaged")
    await page.select_option("select[name=item_action]", label="Send a replacement")
    await page.fill("input[name=item_product]", "Standing desk")
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
    # How long it lasted reads as the timer did (minutes:seconds), not as a count of seconds.
    await expect(page.locator("#f-last")).to_have_text(re.compile(r"ACME.* · \d\d:\d\d · "))


async def test_in_an_800_px_window_nothing_overlaps_and_every_select_shows_its_value(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    chromium: Browser,
    tmp_path: Path,
) -> None:
    async with service.runtime.db.sessions.begin() as s:
        s.add(ClosingReason(name="Customer will call back next week"))
    context = await chromium.new_context(viewport={"width": 800, "height": 900}, locale="en-US")
    page = await context.new_page()
    page.set_default_timeout(8000)
    await ana_answers_a_call(page, service.url, sim, users["ana"])
    await page.select_option("#status", "cancelled")
    await page.select_option("#closing-reason", label="Customer will call back next week")
    await page.screenshot(path=str(tmp_path / "desk-800.png"), full_page=True)

    boxes = {
        sel: await page.locator(sel).bounding_box()
        for sel in ("#pop", "#attention-card", "#history-card")
    }
    for sel, box in boxes.items():
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 800, sel
    # One column: the caller, then the attention, then the history, none over another.
    pop, attention, history = boxes["#pop"], boxes["#attention-card"], boxes["#history-card"]
    assert pop and attention and history
    assert pop["y"] + pop["height"] <= attention["y"]
    assert attention["y"] + attention["height"] <= history["y"]
    # Each select is wide enough for the text it shows (plus its arrow).
    for sel in ("#status", "#closing-reason"):
        shown, room = await page.locator(sel).evaluate(
            """s => {
                const c = document.createElement("canvas").getContext("2d");
                c.font = getComputedStyle(s).font;
                return [c.measureText(s.selectedOptions[0].text).width, s.clientWidth - 28];
            }"""
        )
        assert shown <= room, f"{sel}: {shown:.0f} px of text in {room:.0f} px"
    await context.close()


async def test_a_status_chosen_during_the_call_survives_the_calls_end(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    browser_page: Page,
) -> None:
    page = browser_page
    await ana_answers_a_call(page, service.url, sim, users["ana"])
    # Ana picks the status and a subject, then looks at the pop (the form loses focus) ...
    await page.select_option("#status", "closed")
    await page.fill("input[name=item_product]", "Standing desk")
    await page.locator("#pop-name").click()
    # ... the caller hangs up: the attention is refreshed with the call's end, her choices stay.
    assert sim.hangup("PJSIP/agent1")
    await expect(page.locator("#timer")).to_have_text("00:00")
    await expect(page.locator("#state-text")).to_have_text("Wrap-up")
    await expect(page.locator("#status")).to_have_value("closed")
    await expect(page.locator("input[name=item_product]")).to_have_value("Standing desk")
    await page.click("#save")
    await expect(page.locator(".toast", has_text="Attention saved")).to_be_visible()
    await expect(page.locator("#state-text")).to_have_text("Ready")
