"""No page shows a programming value where words belong: every section of the back office (and a
new script's editor), the reports, the wallboard and the desk, read in Chromium as their users read
them, hold no "null", "undefined", "NaN" or "[object Object]"."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page

from cti.app import RunningService
from tests.backoffice.conftest import backoffice, backoffice_with, seeded_database, seeded_template

from .conftest import sign_in

__all__ = ["backoffice", "backoffice_with", "seeded_database", "seeded_template"]

pytestmark = pytest.mark.browser

STRAY = re.compile(r"\b(?:null|undefined|NaN)+\b|\[object Object\]")


async def _stray(page: Page, where: str) -> list[str]:
    await page.wait_for_load_state("networkidle")
    text = await page.locator("body").inner_text()
    return [
        f"{where}: …{text[max(0, m.start() - 40) : m.end() + 20]!r}…" for m in STRAY.finditer(text)
    ]


async def test_no_page_shows_null_undefined_or_nan(
    backoffice: RunningService, browser_page: Page
) -> None:
    page = browser_page
    found: list[str] = []
    await sign_in(page, backoffice.url, "admin", landing="admin")
    sections = await page.locator("#nav [data-section]").evaluate_all(
        "links => links.filter(a => a.offsetParent !== null).map(a => a.dataset.section)"
    )
    assert len(sections) >= 10, sections
    for section in sections:
        await page.click(f'#nav [data-section="{section}"]')
        found += await _stray(page, f"back office #{section}")
    await page.click('#nav [data-section="scripts"]')
    await page.click("#script-new")
    await page.locator("#script-form").wait_for()
    found += await _stray(page, "a new script")
    await page.goto(f"{backoffice.url}static/reports/index.html")
    found += await _stray(page, "reports")
    await page.context.clear_cookies()
    await sign_in(page, backoffice.url, "sofia", landing="wallboard")
    await page.locator("body").filter(has_text="Service level").wait_for()
    found += await _stray(page, "wallboard")
    await page.context.clear_cookies()
    await sign_in(page, backoffice.url, "ana", landing="desk")
    found += await _stray(page, "desk")
    assert found == []
