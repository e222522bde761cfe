"""Printed reports (the seeds print the telemarketing reports): in Chromium's print mode a report is
the report alone, on white, with its filters and the date at the top, the chart kept whole and the
table on the following pages. Leaves docs/report-print.png with CTI_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from cti.app import RunningService
from tests.browser.conftest import browser_page, chromium, screenshot_path

from .conftest import Client
from .test_reports import seed

__all__ = ["browser_page", "chromium"]

pytestmark = pytest.mark.browser


async def test_a_report_prints_cleanly_with_its_filters_and_date(
    service: RunningService, supervisor: Client, browser_page: Page, tmp_path: Path
) -> None:
    s = await seed(service)
    page = browser_page
    await page.goto(service.url)
    await page.fill("#signin input[name=username]", "vera")
    await page.fill("#signin input[name=password]", "vera-secret-1")
    await page.click("#signin button[type=submit]")
    await page.wait_for_url("**/static/wallboard/index.html")
    await page.goto(f"{service.url}static/reports/index.html?report=productivity")
    day = s["d"].isoformat()
    await page.fill("#from", day)
    await page.fill("#to", day)
    await page.click("#filters button[type=submit]")
    await expect(page.locator("#table tbody tr").first).to_be_visible()
    await expect(page.locator("#print")).to_be_visible()
    await expect(page.locator("#print-head")).to_be_hidden()  # on screen, the filters say it

    await page.emulate_media(media="print")
    await page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    for hidden in ("header.top", "#tabs", "#filters"):
        await expect(page.locator(hidden)).to_be_hidden()
    head = page.locator("#print-head")
    await expect(head).to_be_visible()
    # The dates as the reader's language writes them (en-US: MM/DD/YYYY).
    shown = s["d"].strftime("%m/%d/%Y")
    await expect(head).to_contain_text(f"Period {shown} – {shown}")
    await expect(head).to_contain_text("Printed ")
    await expect(head).to_contain_text("by Vera Supervisor")
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(255, 255, 255)"
    await expect(page.locator("#table tbody tr", has_text="Ana")).to_be_visible()
    # (Taken before printing to PDF, whose afterprint puts the screen's look back.)
    await page.screenshot(path=str(screenshot_path("report-print.png", tmp_path)), full_page=True)
    # What a printer gets: a PDF whose first page is the head and the chart, the table after it.
    pdf = await page.pdf(format="A4", print_background=True)
    pages = re.findall(rb"/Type\s*/Page(?!s)", pdf)
    assert pdf.startswith(b"%PDF") and len(pages) >= 2, len(pages)
