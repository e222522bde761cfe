"""The back office in real headless Chromium, on the demo data: the admin goes from the wallboard to
the back office, adds a user, assigns an active case to the operator the balancing suggestion
names, renames and retires pause reasons, and finds those changes in the audit log, whose details
are named in the reader's language. The dashboard is left in docs/admin.png, the audit log in
Portuguese in docs/audit.pt-BR.png, with CTI_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from cti.app import RunningService
from cti.db.audit import audit
from tests.backoffice.conftest import (
    backoffice,
    backoffice_with,
    body,
    logins_for,
    seeded_database,
    seeded_template,
)

from .conftest import HeldRequests, screenshot_path, sign_in

__all__ = ["backoffice", "backoffice_with", "seeded_database", "seeded_template"]

pytestmark = pytest.mark.browser


async def test_admin_adds_a_user_assigns_a_case_and_changes_pause_reasons(
    backoffice: RunningService, browser_page: Page, tmp_path: Path
) -> None:
    page = browser_page
    # An admin lands on the back office's dashboard.
    await sign_in(page, backoffice.url, "admin")
    await page.wait_for_url("**/admin/index.html")

    # The dashboard: cases by state, pending messages, load by operator.
    await expect(page.locator("[data-tile=active] .value")).to_have_text("1")
    await expect(page.locator("[data-tile=suspended] .value")).to_have_text("1")
    await expect(page.locator("[data-tile=messages] .value")).to_have_text("3")
    await expect(page.locator("#load .bar-row")).to_have_count(4)
    # Each operator's bar is filled in proportion to their open cases against the busiest
    # operator's, on a pale track: one with none shows an empty bar, and the figures beside it
    # read on one line.
    bars = await page.evaluate(
        """() => [...document.querySelectorAll('#load .bar-row')].map((row) => {
            const [name, bar, label] = row.children;
            const filled = [...bar.children].reduce((w, i) => w + i.getBoundingClientRect().width, 0);
            return {name: name.textContent, label: label.textContent,
                    filled: filled / bar.getBoundingClientRect().width,
                    track: getComputedStyle(bar).backgroundColor,
                    label_height: label.getBoundingClientRect().height};
        })"""
    )
    top = max(int(b["label"].split(" ")[0]) for b in bars)
    assert top > 0 and any(b["label"].startswith("0 ") for b in bars), bars
    for b in bars:
        assert abs(b["filled"] - int(b["label"].split(" ")[0]) / top) < 0.02, b
        assert b["track"] == "rgb(238, 240, 243)", b
        assert b["label_height"] < 24, b
    await expect(page.locator("#nav [data-count=active]")).to_have_text("1")
    # Who is signed in sits at the right of the header, beside signing out, after the links.
    header = await page.evaluate(
        """() => Object.fromEntries(["header .brand", "header nav", "#me-name", "#logout"]
            .map((s) => [s, document.querySelector(s).getBoundingClientRect().left]))"""
    )
    assert header["header .brand"] < header["header nav"] < header["#me-name"], header
    assert header["#me-name"] < header["#logout"], header
    await page.screenshot(path=str(screenshot_path("admin.png", tmp_path)))

    # Users: add maria, a telemarketing operator of the Service group on extension 1050.
    await page.click("#nav [data-section=users]")
    await expect(page.locator("#users-table tr[data-user=ana]")).to_contain_text("PJSIP/agent1")
    # The whole table fits its half of the page beside the form (it ran under the form, hiding
    # who is signed in), the admin's own flags under their name.
    await expect(page.locator("#users-table tr[data-user=admin] .user-flags")).to_contain_text(
        "signed in"
    )
    table_right, card_right = await page.evaluate(
        """() => { const table = document.querySelector('#users-table');
            return [table.getBoundingClientRect().right,
                    table.closest('.card').getBoundingClientRect().right]; }"""
    )
    assert table_right <= card_right, (table_right, card_right)
    # Until a user is picked or added there is no empty form beside the table: it has the page's
    # width, and at a desk's 1280 px still shows every column, the phones' included.
    await expect(page.locator("#user-side")).to_be_hidden()
    await page.set_viewport_size({"width": 1280, "height": 900})
    table_right, card_right = await page.evaluate(
        """() => { const table = document.querySelector('#users-table');
            return [table.getBoundingClientRect().right,
                    table.closest('.card').getBoundingClientRect().right]; }"""
    )
    assert table_right <= card_right, (table_right, card_right)
    await page.set_viewport_size({"width": 1440, "height": 900})
    await page.click("#user-new")
    await page.fill("#user-username", "maria")
    await page.fill("#user-password", "maria-tram-42")
    await page.fill("#user-full_name", "Maria Souza")
    await page.click("#user-save")
    # An operator without a routine is refused, next to the routines.
    await expect(page.locator(".field-error[data-field=routines]")).to_contain_text("routine")
    await page.check("[name=routine-telemarketing]")
    await page.select_option("#user-group", "Service")
    await page.fill("#user-extension", "1050")
    await page.click("#user-save")
    row = page.locator("#users-table tr[data-user=maria]")
    await expect(row).to_contain_text("PJSIP/1050")
    await expect(row).to_contain_text("telemarketing")
    await expect(row).to_contain_text("Service")
    # Saved, her form stays open beside the table; closing it gives the table its width back.
    await expect(page.locator("#user-side h2")).to_have_text("maria")
    await page.click("#user-close")
    await expect(page.locator("#user-side")).to_be_hidden()

    async with logins_for(backoffice) as login:
        maria = await login("maria", "maria-tram-42")
        assert maria.user["routines"] == ["telemarketing"]
        admin = await login("admin")

        # Cases: the one active case goes to whoever the suggestion names (the lightest load
        # among the telemarketing operators: ana, diego, maria all have none; ana by name).
        await page.click("#nav [data-section='cases/active']")
        case_row = page.locator("#cases-table tbody tr", has_text="Recurring delivery complaints")
        case_id = await case_row.get_attribute("data-case")
        await case_row.locator("input[type=checkbox]").check()
        await expect(page.locator("#suggested")).to_contain_text("ana")
        await page.click("#use-suggestion")
        await page.click("#assign-go")
        await expect(page.locator(".toast")).to_contain_text("assigned to ana")
        await expect(page.locator("#cases-table")).to_have_count(0)
        await expect(page.locator("#nav [data-count=assigned]")).to_have_text("1")
        case = await body(await admin.get(f"/api/v1/cases/{case_id}"))
        assert (case["assignee"], case["status"]) == ("ana", "assigned")

        # Configuration: rename one pause reason, retire another.
        await page.click("#nav [data-section=config]")
        await page.click("#config-tabs [data-table=pause-reasons]")
        lunch = page.locator("#config-table tr[data-name=lunch]")
        await lunch.locator("[name=name]").fill("Lunch break")
        await lunch.locator(".row-save").click()
        await expect(page.locator("#config-table tr[data-name='Lunch break']")).to_have_count(1)
        training = page.locator("#config-table tr[data-name=training]")
        await training.locator("[name=active]").uncheck()
        await training.locator(".row-save").click()
        # Saved and reloaded: the retired reason stays listed, greyed out, unchecked.
        retired = page.locator("#config-table tr[data-name=training]")
        await expect(retired).to_have_class("retired")
        await expect(retired.locator("[name=active]")).not_to_be_checked()
        # Required fields: named as the forms label them; what is ticked is enforced.
        await page.click("#config-tabs [data-table=required-fields]")
        quote = page.locator("[data-form=quote]")
        await expect(quote.locator("h2")).to_have_text("Quote")
        await quote.locator("label", has_text="Valid until").locator("input").check()
        await quote.locator("button", has_text="Save").click()
        await expect(page.locator(".toast")).to_contain_text(
            "Required on the quote form: Valid until"
        )
        attention = page.locator("[data-form=attention]")
        await expect(attention.locator("label", has_text="Closing reason")).to_have_count(1)
        await expect(attention).not_to_contain_text("closing reason id")

        # The desk and the wallboard offer what the admin set.
        lists = await body(await admin.get("/api/v1/supervisor/lists"))
        assert set(lists["pause_reasons"]) == {"backoffice", "break", "Lunch break"}

        # The audit log holds each change, with who made it.
        await page.click("#nav [data-section=audit]")
        await page.fill("#audit-form [name=action]", "config.*")
        await page.click("#audit-go")
        lines = page.locator("#audit-table tbody tr[data-action='config.pause-reasons']")
        await expect(lines).to_have_count(2)
        await expect(lines.first).to_contain_text("admin")
        # (user.add: the demo admin's own "admin123" is flagged as user.weak_password too)
        await page.fill("#audit-form [name=action]", "user.add")
        await page.click("#audit-go")
        await expect(page.locator("#audit-table tbody tr")).to_have_count(1)
        await expect(page.locator("#audit-table tbody tr")).to_contain_text("maria")
        # Its details read as names and values, not as JSON (each name as people say it, the
        # key it is stored under in its title).
        shown = page.locator("#audit-table tbody tr .audit-details")
        await expect(shown.locator("dt[title=username]")).to_have_text("User")
        await expect(shown.locator("dt[title=username] + dd")).to_have_text("maria")
        await expect(shown).not_to_contain_text("{")


async def test_an_audit_lines_details_are_named_in_the_admins_language(
    backoffice: RunningService, chromium: Browser, tmp_path: Path
) -> None:
    # Ana opens a customer's record: the read is audited with its purpose and the personal fields
    # it showed. A line written with a key this page does not know (an older or a newer one).
    async with logins_for(backoffice) as login:
        ana = await login("ana")
        await body(await ana.get("/api/v1/customers/1"))
    await audit(backoffice.runtime.db, "ana", "personal.future", "customer:1", {"new_key": 7})

    # The admin reads the audit log in Brazilian Portuguese.
    context = await chromium.new_context(viewport={"width": 1440, "height": 900}, locale="pt-BR")
    page = await context.new_page()
    page.set_default_timeout(8000)
    await sign_in(page, backoffice.url, "admin", landing="admin")
    await page.click("#nav [data-section=audit]")
    await page.fill("#audit-form [name=actor]", "ana")
    await page.fill("#audit-form [name=action]", "personal.*")
    await page.click("#audit-go")
    read = page.locator("#audit-table tbody tr[data-action='personal.read']")
    await expect(read).to_have_count(1)
    await expect(read).to_contain_text("customer:1")
    shown = read.locator(".audit-details")
    # Each detail is named in the admin's language, the key it is stored under in its title.
    await expect(shown.locator("dt[title=fields]")).to_have_text("Campos")
    await expect(shown.locator("dt[title=purpose]")).to_have_text("Finalidade")
    await expect(shown.locator("dt[title=fields] + dd")).to_contain_text("name")
    assert sorted(await shown.locator("dt").all_text_contents()) == ["Campos", "Finalidade"]
    # A key it has no name for is shown as written.
    future = page.locator("#audit-table tbody tr[data-action='personal.future'] .audit-details")
    await expect(future.locator("dt[title=new_key]")).to_have_text("new_key")
    await expect(future.locator("dt[title=new_key] + dd")).to_have_text("7")
    await page.screenshot(path=str(screenshot_path("audit.pt-BR.png", tmp_path)))
    await context.close()


async def test_a_supervisor_sees_the_back_office_without_the_admin_sections(
    backoffice: RunningService, browser_page: Page
) -> None:
    page = browser_page
    await sign_in(page, backoffice.url, "sofia")
    await page.wait_for_url("**/wallboard/index.html")
    await page.goto(f"{backoffice.url}static/admin/index.html#users")
    # Users and the audit log are the admins'; the supervisor is shown the dashboard instead.
    await expect(page.locator("#nav [data-section=users]")).to_be_hidden()
    await expect(page.locator("#nav [data-section=audit]")).to_be_hidden()
    await expect(page.locator("[data-tile=active] .value")).to_have_text("1")
    await page.click("#nav [data-section='cases/suspended']")
    await expect(page.locator("#cases-table tbody tr")).to_have_count(1)
    await expect(page.locator("#assign-bar")).to_have_count(0)
    await page.click("#nav [data-section=config]")
    await expect(page.locator("#config-table [name=name]").first).to_be_disabled()
    await expect(page.locator("#config-add")).to_have_count(0)


async def test_a_section_still_loading_never_lands_in_the_next_one(
    backoffice: RunningService, browser_page: Page
) -> None:
    page = browser_page
    # The critical report (only the dashboard asks for it) is held back.
    late = await HeldRequests(page, lambda url: "/api/v1/reports/critical" in url).start()
    await sign_in(page, backoffice.url, "admin", landing="admin")
    # The dashboard is on its way when the admin opens Messages.
    await asyncio.wait_for(late.held.wait(), 5)
    await page.click("#nav [data-section=messages]")
    await expect(page.locator("#message-new")).to_be_visible()
    await late.release_and_wait()
    await page.evaluate("() => new Promise((done) => setTimeout(done, 300))")
    # The late dashboard is not drawn into the messages section.
    await expect(page.locator("#main")).to_have_attribute("data-section", "messages")
    await expect(page.locator("[data-tile]")).to_have_count(0)
    await expect(page.locator("#message-new")).to_be_visible()
    await late.stop()
