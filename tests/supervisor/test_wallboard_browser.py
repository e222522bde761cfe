"""The wallboard in real headless Chromium: a supervisor signs in and watches the simulator's calls
move the waiting count and the agents' states; pauses and resumes an agent from the page.
Leaves a screenshot in docs/wallboard.png with CTI_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from cti.app import RunningService
from cti.sim import PbxSimulator
from tests.browser.conftest import browser_page, chromium, screenshot_path

from .conftest import Client

__all__ = ["browser_page", "chromium"]

pytestmark = pytest.mark.browser

AGENTS = [
    ("support", "Local/101@sim-agent/n", "Ana Lima"),
    ("support", "Local/102@sim-agent/n", "Bruno Dias"),
    ("support", "Local/103@sim-agent/n", "Carla Souza"),
    ("sales", "Local/201@sim-agent/n", "Diego Costa"),
    ("sales", "Local/202@sim-agent/n", "Elena Gomez"),
    ("collections", "Local/301@sim-agent/n", "Fabiana Cristina de Albuquerque"),
    ("collections", "Local/302@sim-agent/n", "Irene Lopez"),
]


def tile(page: Page, interface: str) -> object:
    return page.locator(f'.agent[data-interface="{interface}"]')


async def test_the_wallboard_follows_the_calls(
    service: RunningService,
    sim: PbxSimulator,
    supervisor: Client,
    browser_page: Page,
    tmp_path: Path,
) -> None:
    page = browser_page
    support_1, support_2 = AGENTS[0][1], AGENTS[1][1]
    sim.add_simulated_agent("support", support_1, "Ana Lima")
    sim.add_simulated_agent("support", support_2, "Bruno Dias")

    # The printed URL: the sign-in page sends a supervisor to the wallboard.
    await page.goto(service.url)
    await page.fill("#signin input[name=username]", "vera")
    await page.fill("#signin input[name=password]", "vera-secret-1")
    await page.click("#signin button[type=submit]")
    await page.wait_for_url("**/static/wallboard/index.html")
    await expect(page.locator("#link")).to_have_attribute("data-status", "live")
    waiting = page.locator("#kpi-waiting .value")
    await expect(waiting).to_have_text("0")
    a1 = page.locator(f'.agent[data-interface="{support_1}"]')
    a2 = page.locator(f'.agent[data-interface="{support_2}"]')
    await expect(a1).to_have_attribute("data-state", "ready")
    await expect(a2).to_have_attribute("data-state", "ready")

    # Three callers, two agents: two talk, one waits.
    for n in range(3):
        sim.inbound_call("support", f"+1555000{n}", f"Caller {n}", talk_seconds=40)
    await sim.advance(1)
    await expect(waiting).to_have_text("1")
    await expect(a1).to_have_attribute("data-state", "in_call")
    await expect(a2).to_have_attribute("data-state", "in_call")
    await expect(page.locator('.queue[data-queue="support"] .waiting')).to_contain_text("1")
    await expect(a1.locator(".call")).to_contain_text("Caller")
    # Today's talk time counts the call going on (the server adds a call's talk when it ends).
    await sim.advance(12)
    await expect(a1.locator(".taken")).to_contain_text(re.compile(r"^1 call · 0:1\d talk"))

    # The first two calls end: the waiting caller is answered, the other agent is free.
    await sim.advance(40)
    await expect(waiting).to_have_text("0")
    states = {await a1.get_attribute("data-state"), await a2.get_attribute("data-state")}
    await expect(page.locator('.agent[data-state="in_call"]')).to_have_count(1)
    assert states <= {"in_call", "ready"}
    await expect(page.locator("#kpi-answered .value")).to_have_text("3")

    # Pause the free agent from the page, with a reason; then resume.
    free = page.locator('.agent[data-state="ready"]')
    interface = await free.get_attribute("data-interface")
    await free.locator("button.pause").click()
    await page.select_option("#pause-reason", "coaching")
    await page.click("#pause-go")
    paused = page.locator(f'.agent[data-interface="{interface}"]')
    await expect(paused).to_have_attribute("data-state", "paused")
    await expect(paused.locator(".call")).to_contain_text("coaching")
    # Today's time paused runs on the tile while the pause goes on, and stays once it is over.
    await expect(paused.locator(".paused-today")).to_have_text("0:00 paused")
    await sim.advance(20)
    await expect(paused.locator(".paused-today")).to_have_text(re.compile(r"^0:(19|2\d) paused$"))
    await paused.locator("button.resume").click()
    await expect(paused).to_have_attribute("data-state", "ready")
    await expect(paused.locator(".paused-today")).to_have_text(re.compile(r"^0:(19|20|21) paused$"))
    await page.wait_for_timeout(1500)
    await expect(paused.locator(".paused-today")).to_have_text(re.compile(r"^0:(19|20|21) paused$"))

    # A busier board for the screenshot: more agents, queues waiting, a breach, abandons.
    for queue, iface, name in AGENTS[2:]:
        sim.add_simulated_agent(queue, iface, name)
    await sim.advance(40)
    lunch = page.locator(f'.agent[data-interface="{AGENTS[6][1]}"]')
    await expect(lunch).to_have_attribute("data-state", "ready")
    await lunch.locator("button.pause").click()
    await page.select_option("#pause-reason", "lunch")
    await page.click("#pause-go")
    await expect(lunch).to_have_attribute("data-state", "paused")
    for n in range(4):
        sim.inbound_call("sales", f"+1555010{n}", f"Sales {n}", talk_seconds=90 + 20 * n)
    for n in range(4):
        sim.inbound_call("support", f"+1555020{n}", f"Support {n}", talk_seconds=120, patience=25)
    for n in range(3):
        sim.inbound_call("collections", f"+1555030{n}", f"Debtor {n}", talk_seconds=200)
    await service.runtime.ami.flush("pbx1")  # stamped now, before time moves on
    await sim.advance(30)  # one support caller gives up
    for n in range(3):
        sim.inbound_call("support", f"+1555040{n}", f"Late {n}", talk_seconds=100)
    await service.runtime.ami.flush("pbx1")
    for _ in range(12):
        await sim.advance(1)
    await expect(page.locator('.agent[data-state="paused"]')).to_have_count(1)
    await expect(page.locator("#kpi-abandoned .value")).not_to_have_text("0")
    # Every agent's name is shown whole beside their state, long ones on two lines (a name cut
    # to "Fabiana Cri…" leaves the supervisor guessing who it is).
    await expect(page.locator(".agent")).to_have_count(len(AGENTS))
    names = await page.evaluate(
        """() => [...document.querySelectorAll('.agent .name')].map((n) => ({
            text: n.textContent, cut: n.scrollWidth > n.clientWidth + 1
                || n.scrollHeight > n.clientHeight + 1}))"""
    )
    assert not [n for n in names if n["cut"]], names
    await page.wait_for_timeout(1200)
    await page.set_viewport_size({"width": 1600, "height": 1000})
    await page.wait_for_timeout(600)
    await page.screenshot(path=str(screenshot_path("wallboard.png", tmp_path)), full_page=True)


async def test_an_operator_gets_no_wallboard(
    service: RunningService, operator: Client, browser_page: Page
) -> None:
    page = browser_page
    await page.goto(f"{service.url}static/wallboard/index.html")
    await page.fill("#signin input[name=username]", "ana")
    await page.fill("#signin input[name=password]", "ana-secret-1")
    await page.click("#signin button[type=submit]")
    await expect(page.locator("#signin .signin-error")).to_contain_text("for supervisors")
    await expect(page.locator(".agent")).to_have_count(0)
