"""The back office's dashboard tells an admin, in their language, what is wrong with a PBX's own
configuration, in real headless Chromium: a PBX on Asterisk's default RTP range (10000-20000, which
holds 10080, a port browsers refuse) gets a card above the tiles saying which PBX, what it does to
browser-phone calls, and what to change; a PBX on a clear range gets none, and a supervisor is not
shown it. The card is left in docs/pbx-warning.LANG.png with CTI_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from cti.sim import PbxSimulator
from tests.backoffice.conftest import ServiceWith, backoffice_with, seeded_database, seeded_template
from tests.desk.conftest import until
from tests.web.conftest import service_settings

from .conftest import screenshot_path, sign_in

__all__ = ["backoffice_with", "seeded_database", "seeded_template"]

pytestmark = pytest.mark.browser

CARD = "[data-pbx-warning=rtp_ports_browser_refused]"

# What the card says in each language: the title, the PBX, what is wrong (the number of calls as
# the language writes it), what to do.
SAID = {
    "es": (
        "⚠ Teléfonos en el navegador: algunas llamadas no tienen audio",
        "Centralita pbx1",
        "La centralita pbx1 da a los teléfonos en el navegador los puertos RTP 10000–20000, que"
        " incluyen el 10080: los navegadores rechazan ese puerto. Más o menos una de cada 5000"
        " llamadas de los teléfonos en el navegador recibe un puerto así y se queda sin audio.",
        "Qué hacer: en el rtp.conf de la centralita, pon en rtpstart y rtpend un rango sin esos"
        " puertos, por ejemplo 10100–10199; abre ese rango (UDP) en el cortafuegos; luego haz que"
        " Asterisk vuelva a leer el archivo: module reload res_rtp_asterisk.so",
    ),
    "pt-BR": (
        "⚠ Telefones no navegador: algumas chamadas ficam sem áudio",
        "PABX pbx1",
        "O PABX pbx1 dá aos telefones no navegador as portas RTP 10000–20000, que incluem a 10080:"
        " os navegadores recusam essa porta. Cerca de uma em cada 5.000 chamadas dos telefones no"
        " navegador recebe uma porta assim e fica sem áudio.",
        "O que fazer: no rtp.conf do PABX, defina rtpstart e rtpend com uma faixa sem essas"
        " portas, por exemplo 10100–10199; libere essa faixa (UDP) no firewall; depois faça o"
        " Asterisk ler o arquivo de novo: module reload res_rtp_asterisk.so",
    ),
}


async def _page(chromium: Browser, locale: str) -> Page:
    context = await chromium.new_context(viewport={"width": 1440, "height": 900}, locale=locale)
    page = await context.new_page()
    page.set_default_timeout(8000)
    return page


@pytest.mark.parametrize("language", list(SAID))
async def test_an_admin_is_told_in_their_language_that_a_pbxs_rtp_ports_silence_browser_calls(
    backoffice_with: ServiceWith, chromium: Browser, language: str, tmp_path: Path
) -> None:
    title, pbx, what, todo = SAID[language]
    async with PbxSimulator(rtp_ports=(10000, 20000)) as sim:
        ami = service_settings(ami_port=sim.port).ami
        async with backoffice_with(ami=ami) as svc:
            await until(lambda: bool(svc.runtime.ami.warnings()), what="the RTP settings read")
            page = await _page(chromium, language)
            await sign_in(page, svc.url, "admin", landing="admin")
            card = page.locator(CARD)
            await expect(card).to_have_attribute("data-pbx", "pbx1")
            await expect(card.locator("h2")).to_have_text(title)
            await expect(card.locator(".chip")).to_have_text(pbx)
            await expect(card.locator(".what")).to_have_text(what)
            await expect(card.locator(".todo")).to_have_text(todo)
            await expect(card).to_contain_text("docs/production.md")
            # Above the tiles, across the whole section, edged in the warning colour.
            await expect(page.locator("[data-tile=active] .value")).to_have_text("1")
            box = await page.evaluate(
                """() => { const card = document.querySelector('[data-pbx-warning]');
                    const c = card.getBoundingClientRect();
                    const tiles = document.querySelector('#tiles').getBoundingClientRect();
                    return {above: c.bottom <= tiles.top, width: c.width, tiles: tiles.width,
                            edge: getComputedStyle(card).borderLeftColor}; }"""
            )
            assert box["above"] and abs(box["width"] - box["tiles"]) < 1, box
            assert box["edge"] == "rgb(180, 83, 9)", box  # --warn
            await page.screenshot(
                path=str(screenshot_path(f"pbx-warning.{language}.png", tmp_path))
            )
            await page.context.close()

            # A supervisor's dashboard has no such card: the PBX is the admins' business.
            page = await _page(chromium, language)
            await sign_in(page, svc.url, "sofia", landing="wallboard")
            await page.goto(f"{svc.url}static/admin/index.html")
            await expect(page.locator("[data-tile=active] .value")).to_have_text("1")
            await expect(page.locator(CARD)).to_have_count(0)
            await page.context.close()


async def test_a_pbx_on_a_clear_rtp_range_shows_no_card(
    backoffice_with: ServiceWith, chromium: Browser
) -> None:
    # The simulator's range is config/asterisk/rtp.conf's, 10100-10199.
    async with PbxSimulator() as sim:
        ami = service_settings(ami_port=sim.port).ami
        async with backoffice_with(ami=ami) as svc:
            await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="login")
            await svc.runtime.ami.resync("pbx1")
            page = await _page(chromium, "es")
            await sign_in(page, svc.url, "admin", landing="admin")
            # The dashboard is drawn once every one of its requests has answered.
            await expect(page.locator("[data-tile=active] .value")).to_have_text("1")
            await expect(page.locator("#main h1")).to_have_text("Panel")
            await expect(page.locator(CARD)).to_have_count(0)
            await page.context.close()
