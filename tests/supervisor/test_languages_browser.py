"""The wallboard and the reports in Portuguese and Spanish, in real headless Chromium: the browser's
Accept-Language chooses the language, money is in the call center's currency as the language writes
it, dates as its country writes them. Leaves screenshots (docs/wallboard.pt-BR.png...) with
CTI_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from cti.app import RunningService, running_service
from cti.sim import PbxSimulator
from tests.browser.conftest import chromium, screenshot_path
from tests.web.conftest import service_settings

from .conftest import SimClock, until
from .test_reports import seed

__all__ = ["chromium"]

pytestmark = pytest.mark.browser

# locale, currency, and what the pages say there.
CASES = {
    "pt-BR": {
        "currency": "BRL",
        "waiting": "Em espera",
        "ready": "disponível",
        "dial_level": "Nível de discagem",
        "sl_foot": "atendidas em até 20 s",
        "critical": "Situações críticas",
        "problem": "Problema",
        "amount": r"R\$\s120,50",
        "promise": r"promessa de pagamento de R\$\s120,50 vencida",
        "tab": "Críticos",
        "period": ("De", "Até"),
        "browser_language": "Idioma do navegador",
        "amount_label": "Valor",
        "not_answered": "Não atendidas",
        "calls_legend": ["atendidas", "abandonadas"],
    },
    "es": {
        "currency": "EUR",
        "waiting": "En espera",
        "ready": "disponible",
        "dial_level": "Nivel de marcación",
        "sl_foot": "contestadas en 20 s",
        "critical": "Situaciones críticas",
        "problem": "Problema",
        "amount": r"120,50\s€",
        "promise": r"promesa de pago de 120,50\s€ vencida",
        "tab": "Críticos",
        "period": ("Desde", "Hasta"),
        "browser_language": "Idioma del navegador",
        "amount_label": "Importe",
        "not_answered": "No contestadas",
        "calls_legend": ["contestadas", "abandonadas"],
    },
}


@pytest.fixture
async def service(
    migrated_database: str, sim: PbxSimulator, request: pytest.FixtureRequest
) -> AsyncIterator[RunningService]:
    """cti connected to the simulator, its money in the currency the test asks for."""
    settings = service_settings(ami_port=sim.port, remote_answer=True)
    currency = str(getattr(request, "param", "USD"))
    settings = dataclasses.replace(
        settings, server=dataclasses.replace(settings.server, currency=currency)
    )
    async with running_service(
        settings, clock=SimClock(sim), database_url=migrated_database, migrate=False
    ) as svc:
        await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        await svc.runtime.ami.flush("pbx1")
        yield svc


# The header's texts that take more than one line (their text's line boxes have several tops), and
# the phone's label when it is not beside its field.
_SQUEEZED = """() => {
  const lines = [...document.querySelectorAll(
      ".top .brand, .top #link, .top #pbx span, .top #day, .top .myphone label > span,"
      + " .top .links > *, .queue dd, .chart figcaption")]
    .filter((e) => {
      const range = document.createRange();
      range.selectNodeContents(e);
      const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      return e.offsetParent !== null && tops.size > 1;
    })
    .map((e) => e.textContent.trim());
  const label = document.querySelector(".top .myphone label > span").getBoundingClientRect();
  const field = document.querySelector("#my-phone").getBoundingClientRect();
  const middle = (label.top + label.bottom) / 2;
  if (middle < field.top || middle > field.bottom) lines.push("label above its field");
  return lines;
}"""

# The campaigns' buttons that stand outside their row or the table, or in a cell shorter than its
# row (the row's line stops short of them).
_SPILLED = """() => {
  const table = document.querySelector("#campaigns table").getBoundingClientRect();
  return [...document.querySelectorAll("#campaigns tbody tr[data-campaign]")].flatMap((tr) => {
    const row = tr.getBoundingClientRect();
    const cell = tr.querySelector("td.actions").getBoundingClientRect();
    const out = [...tr.querySelectorAll("td.actions button")]
      .filter((b) => {
        const r = b.getBoundingClientRect();
        return r.top < row.top || r.bottom > row.bottom || r.right > table.right + 0.5;
      })
      .map((b) => `${tr.dataset.campaign}: ${b.textContent}`);
    // The row's line runs under the buttons: their cell is as tall as the row.
    if (Math.abs(cell.bottom - row.bottom) > 1) out.push(`${tr.dataset.campaign}: cell short`);
    return out;
  });
}"""


async def _page(chromium: Browser, locale: str) -> Page:
    context = await chromium.new_context(viewport={"width": 1440, "height": 900}, locale=locale)
    page = await context.new_page()
    page.set_default_timeout(8000)
    return page


@pytest.mark.parametrize(
    ("service", "locale"), [("BRL", "pt-BR"), ("EUR", "es")], indirect=["service"]
)
async def test_the_wallboard_and_a_report_speak_the_browsers_language(
    service: RunningService,
    sim: PbxSimulator,
    supervisor: object,
    chromium: Browser,
    locale: str,
    tmp_path: Path,
) -> None:
    case = CASES[locale]
    s = await seed(service)
    sim.add_simulated_agent("support", "Local/101@sim-agent/n", "Ana Lima")
    page = await _page(chromium, locale)

    await page.goto(f"{service.url}static/wallboard/index.html")
    await page.fill("#signin input[name=username]", "vera")
    await page.fill("#signin input[name=password]", "vera-secret-1")
    await page.click("#signin button[type=submit]")
    await expect(page.locator("#link")).to_have_attribute("data-status", "live")
    assert await page.get_attribute("html", "lang") == locale
    await expect(page.locator("#kpi-waiting .label")).to_have_text(case["waiting"])
    await expect(page.locator("#sl-foot")).to_contain_text(case["sl_foot"])
    await expect(page.locator("#campaigns thead")).to_contain_text(case["dial_level"])
    tile = page.locator('.agent[data-interface="Local/101@sim-agent/n"]')
    await expect(tile.locator(".state")).to_have_text(case["ready"])
    # Today as the country writes it: DD/MM/YYYY.
    today = service.runtime.clock.now().date()
    await expect(page.locator("#day")).to_have_text(today.strftime("%d/%m/%Y"))
    picker = page.locator("select.lang-picker")
    await expect(picker.locator("option").first).to_have_text(case["browser_language"])
    await page.wait_for_timeout(600)
    await page.screenshot(
        path=str(screenshot_path(f"wallboard.{locale}.png", tmp_path)), full_page=True
    )
    # The calls-per-hour chart counts calls: both of its legends plural ("atendida" before).
    legend = await page.evaluate(
        """() => Chart.getChart(document.getElementById("chart-hourly")).data.datasets
            .map((d) => d.label)"""
    )
    assert legend == case["calls_legend"], legend
    # A board just started has one sample of its last 30 minutes: drawn as dots (it was blank).
    dots = await page.evaluate(
        """() => { const c = Chart.getChart(document.getElementById("chart-trend"));
            return [c.data.labels.length, c.getDatasetMeta(2).data.map((p) => p.options.radius)]; }"""
    )
    assert dots == [1, [4]], dots
    # A call answered and ended in support: its card shows an average wait and talk.
    sim.inbound_call("5000", "2025550101", "Dora Cliente", talk_seconds=30)
    for _ in range(12):
        await sim.advance(5.0)
    averages = page.locator('.queue[data-queue="support"] dd').last
    await expect(averages).to_have_text(re.compile(r"^\d+:\d\d · \d+:\d\d$"))
    # Whatever the window's width, and after it narrows again (a wallboard moved from the TV to a
    # laptop), the page is no wider than the window: the charts shrink with it. At 1440 px, and at a
    # desk's 1280, nothing in the header, the queues' figures or the charts' captions is squeezed
    # onto two lines, and each campaign's buttons sit in its row, inside the table.
    for width in (1920, 1440, 1280, 1024, 1920, 1440):
        await page.set_viewport_size({"width": width, "height": 900})
        wide = 0
        for _ in range(20):  # the charts follow the window a frame or two later
            await page.wait_for_timeout(100)
            wide = await page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
            if wide <= 0:
                break
        assert wide <= 0, f"at {width} px the page is {wide} px wider than the window"
        if width not in (1440, 1280):
            continue
        squeezed = await page.evaluate(_SQUEEZED)
        assert squeezed == [], (width, squeezed)
        await expect(page.locator("#campaigns tbody tr[data-campaign]")).not_to_have_count(0)
        spilled = await page.evaluate(_SPILLED)
        assert spilled == [], (width, spilled)

    # The critical report: its title, columns and problems translated; money and dates local.
    day = s["d"]
    await page.goto(f"{service.url}static/reports/index.html?report=critical")
    # The period's two ends read as a period does in the language ("Desde … Hasta", not "De").
    for end, word in zip(("#from", "#to"), case["period"], strict=True):
        label = page.locator("#filters label", has=page.locator(end)).locator("span")
        await expect(label).to_have_text(word)
    await page.fill("#from", day.isoformat())
    await page.fill("#to", day.isoformat())
    await page.click("#filters button[type=submit]")
    shown = day.strftime("%d/%m/%Y")
    await expect(page.locator("#title")).to_have_text(f"{case['critical']} · {shown} – {shown}")
    await expect(page.locator('#tabs button[data-report="critical"]')).to_have_text(case["tab"])
    await expect(page.locator("#table thead")).to_contain_text(case["problem"])
    promise = page.locator("#table tbody tr", has_text=re.compile(case["promise"]))
    await expect(promise).to_have_count(1)
    await expect(promise).to_contain_text(re.compile(case["amount"]))
    # The promise was due the day after D: a date, DD/MM/YYYY.
    due = (await promise.locator("td").nth(6).text_content() or "").strip()
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", due), due
    await page.wait_for_timeout(300)
    await page.screenshot(
        path=str(screenshot_path(f"report.{locale}.png", tmp_path)), full_page=True
    )

    # Its CSV, as the page's button downloads it: a BOM, ';' between cells, the decimal comma.
    async with page.expect_download() as download:
        await page.click("#csv")
    saved = tmp_path / "critical.csv"
    await (await download.value).save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][0] == case["problem"] and lines[0][-1] == case["amount_label"]
    assert [line[-1] for line in lines[1:]].count("120,5") == 1

    # The queues' results: counts of calls, plural, and drawn in the colours their outcome has
    # everywhere else: answered green, abandoned red, not answered grey (abandoned was green).
    await page.click('#tabs button[data-report="queues"]')
    await expect(page.locator("#table thead")).to_contain_text(case["not_answered"])
    colours = await page.evaluate(
        """() => Chart.getChart(document.getElementById("chart")).data.datasets
            .map((d) => d.backgroundColor)"""
    )
    assert colours == ["#22c55e", "#ef4444", "#64748b"], colours
    await page.context.close()
