"""Attended transfer in real headless Chromium on the simulator: Ana, on a call with Acme, opens
Transfer…, picks Bruno among the free agents and consults him (Acme on hold); Bruno's desk shows
the caller with Ana's attention and note. Ana completes the transfer (the call is Bruno's) or
cancels it (she is back with Acme). Leaves desk-transfer-pick.png and desk-transfer-consult.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from cti.app import RunningService
from cti.sim import PbxSimulator

from .conftest import screenshot_path, sign_in

pytestmark = pytest.mark.browser


async def _at_desk(
    page: Page, service: RunningService, user: str, password: str, name: str
) -> None:
    await sign_in(page, service.url, user, password=password, landing="desk")
    await expect(page.locator("#agent-name")).to_have_text(name)
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text("Ready")


async def _dispose(page: Page) -> None:
    """After-call work: save the attention closed; the agent is ready again.

    The call's end repaints the attention form once its call times are stored, which can land
    just after a status was picked (the desk's own behaviour): then the agent picks it again.
    """
    await expect(page.locator("#wrapup-todo")).to_contain_text("No call is offered")
    for _ in range(5):
        await page.select_option("#status", "closed")
        await page.click("#save")
        await expect(page.locator(".toast", has_text="Attention saved").last).to_be_visible()
        try:
            await expect(page.locator("#wrapup")).to_be_hidden(timeout=2000)
            return
        except AssertionError:
            continue
    raise AssertionError("the wrap-up never ended")


async def _consulting(
    service: RunningService,
    sim: PbxSimulator,
    users: dict[str, str],
    chromium: Browser,
    ana: Page,
    tmp_path: Path,
) -> Page:
    """Ana on a call with Acme, with a note, consults Bruno; Bruno answers. Bruno's page."""
    bruno_context = await chromium.new_context(viewport={"width": 1440, "height": 900})
    bruno = await bruno_context.new_page()
    bruno.set_default_timeout(8000)
    await _at_desk(ana, service, "ana", users["ana"], "Ana Lima")
    await _at_desk(bruno, service, "bruno", users["bruno"], "Bruno Dias")
    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await expect(ana.locator("#pop-name")).to_have_text("Acme Supplies")
    await expect(ana.locator("#transfer-open")).to_be_disabled()
    await ana.click("#answer")
    await expect(ana.locator("#attention")).to_be_visible()
    await ana.fill("#note", "Wants the March invoice reissued")
    await ana.click("#save")
    await expect(ana.locator(".toast", has_text="Attention saved")).to_be_visible()

    await ana.click("#transfer-open")
    dialog = ana.locator("#xfer")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator(".xfer-agent")).to_have_text(["Bruno Dias"])
    await dialog.locator(".xfer-agent", has_text="Bruno Dias").click()
    await expect(dialog.locator(".xfer-agent")).to_have_attribute("aria-pressed", "true")
    await ana.screenshot(path=str(screenshot_path("desk-transfer-pick.png", tmp_path)))
    await ana.click("#xfer-consult-go")
    await expect(ana.locator("#xfer-with")).to_have_text("Bruno Dias")

    # Bruno's desk: the caller (masked: he has no personal_data), Ana's attention and note.
    await expect(bruno.locator("#pop-status")).to_contain_text("Transfer for you")
    note = bruno.locator("#pop-transfer")
    await expect(note).to_contain_text("Ana Lima consults you about this caller")
    await expect(note).to_contain_text("Wants the March invoice reissued")
    await bruno.click("#answer")
    await expect(ana.locator("#xfer-line")).to_contain_text("You are talking to them")
    await expect(ana.locator("#xfer-complete")).to_be_enabled()
    await ana.screenshot(path=str(screenshot_path("desk-transfer-consult.png", tmp_path)))
    return bruno


async def test_an_attended_transfer_completes_in_the_browser(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    browser_page: Page,
    chromium: Browser,
    tmp_path: Path,
) -> None:
    ana = browser_page
    bruno = await _consulting(service, sim, users, chromium, ana, tmp_path)

    await ana.click("#xfer-complete")
    await expect(ana.locator(".toast", has_text="Call transferred to Bruno Dias")).to_be_visible()
    await expect(ana.locator("#xfer")).to_be_hidden()
    await expect(ana.locator("#state-text")).to_have_text("Wrap-up")
    await _dispose(ana)
    await expect(ana.locator("#state-text")).to_have_text("Ready")

    # The call is Bruno's: on the call, his timer runs, his own attention is open.
    await expect(bruno.locator("#pop-status")).to_contain_text("On the call")
    await expect(bruno.locator("#attention")).to_be_visible()
    await expect(bruno.locator("#timer")).not_to_have_text("00:00", timeout=4000)
    await expect(bruno.locator("#pop-transfer")).to_contain_text("Transferred by Ana Lima")
    await expect(bruno.locator("#pop-transfer")).to_contain_text("Wants the March invoice")
    await bruno.screenshot(path=str(tmp_path / "desk-transfer-received.png"))
    await expect(bruno.locator("#state-text")).to_have_text("On a call")
    await bruno.click("#hangup")
    await expect(bruno.locator("#state-text")).to_have_text("Wrap-up")
    assert not any(n.startswith("PJSIP/carrier") for n in sim.pbx.channels)  # the caller too
    await _dispose(bruno)
    await bruno.context.close()


async def test_an_attended_transfer_cancels_in_the_browser(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    browser_page: Page,
    chromium: Browser,
    tmp_path: Path,
) -> None:
    ana = browser_page
    bruno = await _consulting(service, sim, users, chromium, ana, tmp_path)

    await ana.click("#xfer-cancel")
    await expect(ana.locator(".toast", has_text="back with the caller")).to_be_visible()
    await expect(ana.locator("#xfer")).to_be_hidden()
    await expect(ana.locator("#pop-status")).to_contain_text("On the call")
    await expect(ana.locator("#transfer-open")).to_be_enabled()
    await expect(bruno.locator("#pop-status")).to_contain_text("Transfer cancelled")
    await expect(bruno.locator("#state-text")).to_have_text("Ready")

    assert sim.hangup("PJSIP/agent1")
    await expect(ana.locator("#state-text")).to_have_text("Wrap-up")
    await _dispose(ana)
    await bruno.context.close()


async def test_the_wallboard_shows_the_consulted_agent_on_a_call_then_in_wrap_up(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    browser_page: Page,
    chromium: Browser,
    tmp_path: Path,
) -> None:
    ana = browser_page
    bruno = await _consulting(service, sim, users, chromium, ana, tmp_path)
    board_context = await chromium.new_context(viewport={"width": 1440, "height": 900})
    board = await board_context.new_page()
    board.set_default_timeout(8000)
    await sign_in(board, service.url, "sofia", password=users["sofia"], landing="wallboard")
    ana_tile = board.locator('.agent[data-interface="PJSIP/agent1"]')
    bruno_tile = board.locator('.agent[data-interface="PJSIP/agent2"]')
    await expect(bruno_tile).to_have_attribute("data-state", "in_call")
    await expect(bruno_tile.locator(".state")).to_have_text("on a call")
    await expect(bruno_tile.locator(".call .kind")).to_have_text("· consultation")
    await expect(ana_tile).to_have_attribute("data-state", "in_call")
    await expect(ana_tile.locator(".call .kind")).to_have_count(0)  # a queue's call: its queue

    await ana.click("#xfer-complete")
    await expect(bruno.locator("#pop-status")).to_contain_text("On the call")
    # Bruno's desk holds him paused for the wrap-up to come: the wallboard shows him talking.
    await expect(bruno_tile.locator(".call .kind")).to_have_text("· direct call")
    await expect(bruno_tile).to_have_attribute("data-state", "in_call")
    await expect(ana_tile).to_have_attribute("data-state", "wrap_up")
    await expect(ana_tile.locator(".call")).to_have_text("after-call work: no call offered")
    await board.locator("#agents").screenshot(path=str(tmp_path / "wallboard-direct-call.png"))

    await bruno.click("#hangup")
    await expect(bruno_tile).to_have_attribute("data-state", "wrap_up")
    await expect(bruno_tile.locator(".state")).to_have_text("wrap-up")
    await board.locator("#agents").screenshot(
        path=str(tmp_path / "wallboard-direct-call-ended.png")
    )
    await board_context.close()
    await bruno.context.close()
