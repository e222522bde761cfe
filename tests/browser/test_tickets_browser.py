"""Telemarketing tickets in real headless Chromium: an admin adds a subject, an occurrence of it
and an action of that (which sets "in progress" and opens a service order) in the back office's
configuration; an agent at the desk adds a ticket item with them during a call and confirms the
attention: the item shows its child-ticket number, its status and its service order's number,
and the attention (the parent ticket) keeps its own status."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from cti.app import RunningService
from cti.sim import PbxSimulator

from .conftest import ana_answers_a_call, screenshot_path, sign_in

pytestmark = pytest.mark.browser


async def _add(page: Page, table: str, name: str, **choices: str) -> None:
    """Add a row to a configuration table (its tab open) from its last (new) row; ``choices``:
    select labels."""
    await expect(page.locator(f"#config-tabs [data-table={table}]")).to_have_class(
        re.compile("active")
    )
    new = page.locator("#config-new")
    await expect(new.locator("[name=name]")).to_be_visible()
    for field, label in choices.items():
        await new.locator(f"[name={field}]").select_option(label=label)
    await new.locator("[name=name]").fill(name)
    await page.click("#config-add")
    await expect(page.locator(f"#config-table tr[data-name='{name}']")).to_have_count(1)


async def test_admin_catalogue_then_agent_confirms_a_ticket_item_in_chromium(
    service: RunningService,
    sim: PbxSimulator,
    customers: dict[str, int],
    users: dict[str, str],
    chromium: Browser,
    tmp_path: Path,
) -> None:
    admin_context = await chromium.new_context(viewport={"width": 1440, "height": 900})
    admin = await admin_context.new_page()
    admin.set_default_timeout(8000)
    await sign_in(admin, service.url, "root", password=users["root"], landing="admin")
    await admin.click("#nav [data-section=config]")
    await admin.click("#config-tabs [data-table=ticket-subjects]")
    await _add(admin, "ticket-subjects", "Complaint")
    await admin.click("#config-tabs [data-table=ticket-occurrences]")
    await _add(admin, "ticket-occurrences", "Damaged delivery", subject_id="Complaint")
    await admin.click("#config-tabs [data-table=ticket-actions]")
    new = admin.locator("#config-new")
    await expect(new.locator("[name=occurrence_id] option")).to_have_count(2)
    await new.locator("[name=occurrence_id]").select_option(label="Complaint › Damaged delivery")
    await new.locator("[name=sets_status]").select_option(label="In progress")
    await new.locator("[name=service_order]").check()
    await _add(admin, "ticket-actions", "Send a technician")
    row = admin.locator("#config-table tr[data-name='Send a technician']")
    await expect(row.locator("[name=service_order]")).to_be_checked()
    await expect(row.locator("[name=sets_status]")).to_have_value("in_progress")
    await admin_context.close()

    context = await chromium.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = await context.new_page()
    page.set_default_timeout(8000)
    await ana_answers_a_call(page, service.url, sim, users["ana"])

    await page.select_option("select[name=item_subject]", label="Complaint")
    await page.select_option("select[name=item_occurrence]", label="Damaged delivery")
    await page.select_option("select[name=item_action]", label="Send a technician")
    await expect(page.locator("#ticket-hint")).to_contain_text("opens a service order")
    await page.fill("input[name=item_product]", "Standing desk")
    await page.click("#item-add")
    pending = page.locator("#ticket-items tr[data-item=new]")
    await expect(pending).to_contain_text("In progress on save")
    await page.click("#save")
    await expect(page.locator(".toast", has_text="Attention saved")).to_be_visible()

    item = page.locator("#ticket-items tbody tr").first
    await expect(item).to_have_attribute("data-item", re.compile(r"^\d+-1$"))
    await expect(item.locator(".item-status")).to_have_text("In progress")
    await expect(item.locator(".item-os")).to_have_text(re.compile(r"^OS-\d{6}$"))
    await expect(item).to_contain_text("Standing desk")
    await expect(item).to_contain_text("Damaged delivery")
    # The parent ticket, the attention, keeps its own status.
    await expect(page.locator("#status")).to_have_value("pending")
    await expect(page.locator("#ticket-items tr[data-item=new]")).to_have_count(0)

    await page.evaluate("document.querySelectorAll('.toast').forEach(t => t.remove())")
    await page.locator("#attention-card").screenshot(
        path=str(screenshot_path("desk-tickets.png", tmp_path))
    )
    await context.close()
