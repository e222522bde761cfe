"""After-call work in real headless Chromium on the simulator: a call ends, the desk shows wrap-up
with its timer and what to do; no call is offered until the attention is disposed; then the agent
is ready and the waiting call rings. The group's maximum wrap-up time releases the agent and the
attention is flagged. The wallboard shows wrap-up as its own state. Leaves docs/desk-wrapup.png with
CTI_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.async_api import Browser, Page, expect

from cti.app import RunningService
from cti.db.models import ClosingReason
from cti.domain.wrapup import WRAPUP_REASON
from cti.sim import PbxSimulator

from .conftest import screenshot_path, sign_in

pytestmark = pytest.mark.browser


async def _group(service: RunningService, *, needs: str, max_seconds: int | None) -> None:
    async with service.runtime.db.sessions.begin() as s:
        await s.execute(
            sa.text(
                "UPDATE attention_groups SET wrapup_needs = :n, max_wrapup_seconds = :m"
                " WHERE name = 'Fast'"
            ),
            {"n": needs, "m": max_seconds},
        )
        s.add(ClosingReason(name="Solved"))


async def _call_ends(
    page: Page, sim: PbxSimulator, service: RunningService, users: dict[str, str]
) -> None:
    """Ana at her desk takes a call from Acme; Acme hangs up."""
    await sign_in(page, service.url, "ana", password=users["ana"], landing="desk")
    # The desk's buttons work once it has loaded (its name shows).
    await expect(page.locator("#agent-name")).to_have_text("Ana Lima")
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text("Ready")
    await expect(page.locator("#wrapup")).to_be_hidden()
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await expect(page.locator("#pop-name")).to_have_text("Acme Supplies")
    await page.click("#answer")
    await expect(page.locator("#attention")).to_be_visible()
    assert sim.hangup("PJSIP/agent1")


async def test_wrap_up_holds_calls_until_the_attention_is_disposed(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    browser_page: Page,
    chromium: Browser,
    tmp_path: Path,
) -> None:
    await _group(service, needs="reason", max_seconds=None)
    page = browser_page
    board_context = await chromium.new_context(viewport={"width": 1440, "height": 900})
    board = await board_context.new_page()
    await sign_in(board, service.url, "sofia", password=users["sofia"], landing="wallboard")
    tile = board.locator('.agent[data-interface="PJSIP/agent1"]')

    await _call_ends(page, sim, service, users)
    banner = page.locator("#wrapup")
    await expect(page.locator("#state-text")).to_have_text("Wrap-up")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("After-call work")
    await expect(page.locator("#wrapup-todo")).to_contain_text(
        "No call is offered to you until you set the attention's status"
    )
    await expect(page.locator("#wrapup-todo")).to_contain_text("closing reason")
    await expect(page.locator("#wrapup-limit")).to_have_text("no time limit")
    await expect(page.locator("#wrapup-then")).to_have_text("Then you are ready.")
    await expect(page.locator("#wrapup-timer")).not_to_have_text("00:00", timeout=4000)
    # The wallboard: wrap-up, its own state (not paused, not ready).
    await expect(tile).to_have_attribute("data-state", "wrap_up")
    await expect(tile.locator(".state")).to_have_text("wrap-up")
    await expect(tile).to_contain_text("after-call work: no call offered")
    # (The board redraws its tiles every second: no scrolling to one, the whole page is taken.)
    await board.screenshot(path=str(tmp_path / "wallboard-wrapup.png"), full_page=True)

    # Laura calls and waits: she is not offered to Ana, however long she waits.
    sim.inbound_call("support", "+12025550111", "Laura", talk_seconds=None)
    await sim.advance(30.0)
    member = sim.pbx.queues["support"].members["PJSIP/agent1"]
    assert member.paused and member.paused_reason == WRAPUP_REASON
    await expect(page.locator("#pop-name")).to_have_text("Acme Supplies")
    await expect(page.locator("#state-text")).to_have_text("Wrap-up")
    await page.screenshot(path=str(screenshot_path("desk-wrapup.png", tmp_path)))

    # Finishing early says what is missing.
    await page.click("#wrapup-finish")
    await expect(page.locator(".toast.bad")).to_contain_text("to finish after-call work")
    # A status alone: the group asks for a closing reason too.
    await page.select_option("#status", "closed")
    await page.click("#save")
    await expect(page.locator(".toast", has_text="Attention saved")).to_be_visible()
    await expect(page.locator("#wrapup-todo")).to_contain_text(
        "pick the attention's closing reason"
    )
    await expect(page.locator("#state-text")).to_have_text("Wrap-up")
    await page.select_option("#closing-reason", label="Solved")
    await page.click("#save")
    # Disposed: wrap-up ends, Ana is ready, and Laura, still waiting, rings her now.
    await expect(banner).to_be_hidden()
    await sim.advance(1.5)
    await expect(page.locator("#pop-name")).to_have_text("Laura Smith")
    await expect(page.locator("#pop-status")).to_contain_text("Ringing")
    await expect(tile).to_have_attribute("data-state", "ringing")
    await board_context.close()


async def test_the_maximum_wrap_up_time_releases_the_agent_and_flags_the_attention(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    browser_page: Page,
    tmp_path: Path,
) -> None:
    await _group(service, needs="status", max_seconds=2)
    page = browser_page
    await _call_ends(page, sim, service, users)
    await expect(page.locator("#state-text")).to_have_text("Wrap-up")
    await expect(page.locator("#wrapup-limit")).to_contain_text("ends by itself in")
    # Nothing saved: the group's 2 s run out, Ana takes calls again, the attention stays pending.
    await expect(page.locator("#state-text")).to_have_text("Ready")
    await expect(page.locator("#wrapup")).to_be_hidden()
    await expect(page.locator(".toast.bad")).to_contain_text("maximum wrap-up time is over")
    await expect(page.locator("#attention-flag")).to_be_visible()
    await expect(page.locator("#attention-flag")).to_have_text("wrap-up time ran out")
    await expect(page.locator("#status")).to_have_value("pending")
    member = sim.pbx.queues["support"].members["PJSIP/agent1"]
    assert not member.paused
    await page.screenshot(path=str(tmp_path / "desk-wrapup-released.png"))
    # Saved later: the flag goes once the attention is no longer pending.
    await page.select_option("#status", "closed")
    await page.click("#save")
    await expect(page.locator("#attention-flag")).to_be_hidden()


async def test_a_second_call_never_overwrites_an_open_attention(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    browser_page: Page,
    tmp_path: Path,
) -> None:
    # Released by the maximum wrap-up time, Acme's attention is still open when Laura calls.
    await _group(service, needs="status", max_seconds=1)
    page = browser_page
    await _call_ends(page, sim, service, users)
    await expect(page.locator("#attention-party")).to_have_text("Acme Supplies")
    await expect(page.locator("#state-text")).to_have_text("Wrap-up")
    await expect(page.locator("#state-text")).to_have_text("Ready")
    await expect(page.locator("#attention-flag")).to_be_visible()
    first_id = (await page.locator("#attention-id").text_content() or "").split(" ")[0]

    sim.inbound_call("support", "+12025550111", "Laura", talk_seconds=None)
    await sim.advance(0.2)
    # Laura's screen: her pop, no attention of Acme's under it; Acme's keeps its own tab.
    await expect(page.locator("#pop-name")).to_have_text("Laura Smith")
    await expect(page.locator("#attention")).to_be_hidden()
    held = page.locator(f'#screens [data-screen="{first_id[1:]}"]')
    await expect(held).to_have_text(f"Acme Supplies · {first_id} open")
    await page.click("#answer")
    await expect(page.locator("#attention-party")).to_have_text("Laura Smith · Acme Supplies")
    await expect(page.locator("#attention-id")).not_to_contain_text(first_id)
    await page.fill("#note", "Laura asks for the catalogue.")

    # The held tab shows Acme's call whole: its pop, its attention, its history.
    await held.click()
    await expect(page.locator("#attention-party")).to_have_text("Acme Supplies")
    await expect(page.locator("#attention-id")).to_contain_text(first_id)
    await expect(page.locator("#pop-name")).to_have_text("Acme Supplies")
    await expect(page.locator("#attention-flag")).to_be_visible()
    # Laura's note stays with Laura's attention: Acme's screen has its own.
    await expect(page.locator("#note")).to_have_value("")
    await page.screenshot(path=str(tmp_path / "desk-held.png"))
    await page.select_option("#status", "closed")
    await page.click("#save")
    # Disposed: its tab closes and the desk is back on Laura's call.
    await expect(page.locator("#screens")).to_be_hidden()
    await expect(page.locator("#pop-name")).to_have_text("Laura Smith")
    await expect(page.locator("#attention-party")).to_have_text("Laura Smith · Acme Supplies")
    await expect(page.locator("#note")).to_have_value("Laura asks for the catalogue.")
    async with service.runtime.db.sessions() as s:
        statuses = dict(
            (await s.execute(sa.text("SELECT id, status FROM attentions ORDER BY id"))).all()
        )
    assert list(statuses.values()) == ["closed", "pending"]


async def test_the_attention_header_names_the_caller_masked_as_the_pop_is(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    browser_page: Page,
) -> None:
    # Bruno (telesales) may not see personal data: the header masks the name as his pop does.
    page = browser_page
    await sign_in(page, service.url, "bruno", password=users["bruno"], landing="desk")
    await expect(page.locator("#agent-name")).to_have_text("Bruno Dias")
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text("Ready")
    sim.inbound_call("sales", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await page.click("#answer")
    party = page.locator("#attention-party")
    await expect(party).not_to_be_empty()
    shown = await party.text_content()
    assert shown and "Acme" not in shown and "*" in shown
    await expect(page.locator("#pop-name")).to_have_text(shown)
