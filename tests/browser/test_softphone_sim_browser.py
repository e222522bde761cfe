"""The desk's browser phone against cti's simulator (the demo, the fast suite): the simulator speaks
no SIP, so the page's phone is simulated (it rings and answers through the desk); the real one, on
a real Asterisk, is tests/pbx/test_softphone_browser.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from cti.app import RunningService
from cti.db.users import add_user, ensure_group
from cti.sim import PbxSimulator

from .conftest import sign_in

pytestmark = pytest.mark.browser


async def test_a_browser_phone_agent_takes_a_call_on_the_simulator(
    service: RunningService, sim: PbxSimulator, browser_page: Page
) -> None:
    await add_user(
        service.runtime.db,
        username="carla",
        password="carla-secret-1",
        role="operator",
        routines=["telemarketing"],
        extension="PJSIP/agent3",
        full_name="Carla Souza",
        softphone=True,
    )
    page = browser_page
    await sign_in(page, service.url, "carla", password="carla-secret-1", landing="desk")
    await expect(page.locator("#softphone")).to_be_visible()
    await page.click("#desk-signin")
    await expect(page.locator("#sp-status")).to_have_text("phone ready · simulated PBX")
    await expect(page.locator("#state-text")).to_have_text("Ready")

    sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await expect(page.locator("#sp-status")).to_have_text("ringing")
    await page.click("#answer")
    await expect(page.locator("#sp-status")).to_have_text("in call")
    await expect(page.locator("#pop-status")).to_contain_text("On the call")
    await page.click("#sp-hold")
    await expect(page.locator("#sp-status")).to_have_text("on hold")
    await page.click("#sp-hold")
    await page.click("#hangup")
    await expect(page.locator("#timer")).to_have_text("00:00")
    await expect(page.locator("#sp-status")).to_have_text("phone ready · simulated PBX")


# The desk's header: who the agent is, their state and phone, the inbox, the language and signing
# out on one row; the call's buttons (the browser phone's too) on the row under it.
_FIRST_ROW = (
    ".who",
    "#state",
    "#phone-label",
    "#sp-status",
    "#inbox-open",
    "select.lang-picker",
    "#logout",
)
_CALL_ROW = (
    "#answer",
    "#hangup",
    "#transfer-open",
    "#stop-recording",
    "#sp-mute",
    "#sp-hold",
    "#sp-keys",
    "#pause-reason",
    "#pause",
    "#desk-signout",
)


async def _boxes(page: Page, selectors: tuple[str, ...]) -> dict[str, dict[str, float]]:
    return dict(
        await page.evaluate(
            """sels => sels.map(s => {
                const r = document.querySelector(s).getBoundingClientRect();
                return [s, {top: r.top, bottom: r.bottom, middle: (r.top + r.bottom) / 2,
                            right: r.right, width: r.width}];
            })""",
            list(selectors),
        )
    )


def _two_rows(
    first: dict[str, dict[str, float]], second: dict[str, dict[str, float]], width: int = 1440
) -> None:
    """Each group on one row of its own, the second under the first, nothing off the page."""
    assert all(box["width"] > 0 and box["right"] <= width for box in (first | second).values())
    middles = [box["middle"] for box in first.values()]
    assert max(middles) - min(middles) < 4, first
    tops = [box["top"] for box in second.values()]
    assert max(tops) - min(tops) < 4, second
    assert max(box["bottom"] for box in first.values()) <= min(tops), (first, second)


async def _desk_in_spanish(
    service: RunningService,
    chromium: Browser,
    width: int,
    username: str,
    full_name: str,
    extension: str,
    *,
    softphone: bool = False,
    group: str | None = None,
) -> tuple[BrowserContext, Page]:
    """An operator of all three routines signed in to the desk in Spanish, ``width`` px wide."""
    password = f"{username}-secret-1"
    await add_user(
        service.runtime.db,
        username=username,
        password=password,
        role="operator",
        routines=["telemarketing", "telesales", "collection"],
        extension=extension,
        full_name=full_name,
        softphone=softphone,
        group=group,
    )
    context = await chromium.new_context(viewport={"width": width, "height": 900}, locale="es-ES")
    page = await context.new_page()
    page.set_default_timeout(8000)
    await sign_in(page, service.url, username, password=password, landing="desk")
    await expect(page.locator("#agent-name")).to_have_text(full_name)
    return context, page


async def test_at_1440_px_the_desk_header_keeps_its_calls_buttons_on_one_row_under_the_agent(
    service: RunningService, sim: PbxSimulator, chromium: Browser, tmp_path: Path
) -> None:
    context, page = await _desk_in_spanish(
        service, chromium, 1440, "diana", "Diana Prates", "PJSIP/agent3", softphone=True
    )
    # Not signed in to the phone yet: its sign-in is where the call's buttons will be.
    await page.screenshot(path=str(tmp_path / "desk-header-off.png"))
    no_phone_yet = tuple(s for s in _FIRST_ROW if s != "#phone-label")
    _two_rows(await _boxes(page, no_phone_yet), await _boxes(page, ("#interface", "#desk-signin")))
    await expect(page.locator("#sp-mute")).to_be_hidden()

    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text("Disponible")
    sim.inbound_call("collections", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await expect(page.locator("#answer")).to_be_visible()
    await page.screenshot(path=str(tmp_path / "desk-header.png"))
    _two_rows(await _boxes(page, _FIRST_ROW), await _boxes(page, _CALL_ROW))
    header = await _boxes(page, ("header.topbar", "#desk-signout"))
    # No third row.
    assert header["header.topbar"]["bottom"] - header["#desk-signout"]["bottom"] < 16, header

    # In the call, the keypad opens under its button, over the page.
    await page.click("#answer")
    await page.click("#sp-keys")
    await expect(page.locator('#sp-keypad [data-tone="5"]')).to_be_visible()
    await page.screenshot(path=str(tmp_path / "desk-keypad.png"))
    keys = await _boxes(page, ("#sp-keys", "#sp-keypad"))
    button, keypad = keys["#sp-keys"], keys["#sp-keypad"]
    assert keypad["top"] >= button["bottom"] - 1, keys
    assert abs((keypad["right"] - keypad["width"]) - (button["right"] - button["width"])) < 2, keys
    await context.close()


async def test_at_1280_px_a_long_phone_label_is_cut_short_not_the_header_wrapped(
    service: RunningService, sim: PbxSimulator, chromium: Browser, tmp_path: Path
) -> None:
    # In three queues and a group, on a desk phone: "PJSIP/agent4 · support, sales, collections"
    # took the room of the sign-out, which went to a row of its own.
    await ensure_group(service.runtime.db, "Cobranza y atención exprés", 30)
    context, page = await _desk_in_spanish(
        service,
        chromium,
        1280,
        "dario",
        "Dario Montes de Oca",
        "PJSIP/agent4",
        group="Cobranza y atención exprés",
    )
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text("Disponible")
    label = page.locator("#phone-label")
    whole = await label.text_content() or ""
    await page.screenshot(path=str(tmp_path / "desk-header-1280.png"))
    first = tuple(s for s in _FIRST_ROW if s != "#sp-status")
    _two_rows(await _boxes(page, first), await _boxes(page, _CALL_ROW[1:3]), width=1280)
    # Cut short where the row has no more room, whole in its tooltip.
    assert await label.get_attribute("title") == whole and whole.count(",") >= 1, whole
    await context.close()


async def test_at_1280_px_the_browser_phones_state_is_cut_short_not_the_header_wrapped(
    service: RunningService, sim: PbxSimulator, chromium: Browser, tmp_path: Path
) -> None:
    # A browser phone on the simulator, in three queues: "teléfono listo · centralita simulada" and
    # the phone's label took the sign-out's room, which went to a row of its own (the demo's carla).
    context, page = await _desk_in_spanish(
        service, chromium, 1280, "dora", "Dora Lima", "PJSIP/agent3", softphone=True
    )
    await page.click("#desk-signin")
    status = page.locator("#sp-status")
    await expect(status).to_have_text("teléfono listo · centralita simulada")
    await page.screenshot(path=str(tmp_path / "desk-header-softphone-1280.png"))
    _two_rows(await _boxes(page, _FIRST_ROW), await _boxes(page, ("#pause", "#desk-signout")), 1280)
    # Whole in its tooltip wherever it is cut short.
    assert await status.get_attribute("title") == "teléfono listo · centralita simulada"
    # A call rings: its buttons, the browser phone's and pause / leave the queues share one row
    # ("Salir de las colas" went to a third).
    sim.inbound_call("collections", "+12025550101", "ACME", talk_seconds=None)
    await sim.advance(0.2)
    await expect(page.locator("#answer")).to_be_visible()
    await page.screenshot(path=str(tmp_path / "desk-header-softphone-1280-ringing.png"))
    # Dora may not see personal data: the unknown caller's masked name ("AC**") is no name to
    # register them under; she types the one they give.
    await expect(page.locator("#pop-masked")).to_be_visible()
    await expect(page.locator("#reg-name")).to_have_value("")
    _two_rows(await _boxes(page, _FIRST_ROW), await _boxes(page, _CALL_ROW), 1280)
    await context.close()
