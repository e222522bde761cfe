"""The desk in Portuguese and in Spanish, in real headless Chromium: a collection operator whose
browser asks for pt-BR (or es) gets every text of the desk in that language, money in the call
center's currency as that country writes it, dates as it writes them; she can choose another
language herself, and the desk speaks it from then on."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.async_api import Browser, Page, expect

from cti.app import RunningService, running_service
from cti.db.users import add_user
from cti.sim import PbxSimulator
from tests.desk.conftest import add_carla, until
from tests.web.conftest import service_settings

from .conftest import screenshot_path, sign_in
from .test_collection_browser import _delinquent

pytestmark = pytest.mark.browser

# What each language must show: (locale, currency, texts by element, money, days overdue).
CASES = {
    "pt-BR": {
        "currency": "BRL",
        "signin": "Entrar no telefone",
        "ready": "Disponível",
        "answered": "Em ligação",
        "overdue_total": "R$ 973,00",
        "invoice": "R$ 611,50",
        "days": "45 dias em atraso",
        "labels": ["Motivo de encerramento", "Próxima ligação", "Salvar atendimento"],
        "footer": "Tempo de conversa",
        "other": ("es", "Colgar"),
        "sign_in": "Entrar",
        "wrong": "usuário ou senha incorretos",
        "missed": "chamadas perdidas",
        "missed_toast": "Uma chamada tocou sem resposta",
    },
    "es": {
        "currency": "EUR",
        "signin": "Conectar el teléfono",
        "ready": "Disponible",
        "answered": "En la llamada",
        "overdue_total": "973,00 €",
        "invoice": "611,50 €",
        "days": "45 días de atraso",
        "labels": ["Motivo de cierre", "Próxima llamada", "Guardar la atención"],
        "footer": "Tiempo de conversación",
        "other": ("pt-BR", "Desligar"),
        "sign_in": "Entrar",
        "wrong": "usuario o contraseña incorrectos",
        "missed": "llamadas perdidas",
        "missed_toast": "Una llamada sonó sin respuesta",
    },
}


@pytest.fixture(params=list(CASES))
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def local_service(
    migrated_database: str, sim: PbxSimulator, language: str
) -> AsyncIterator[RunningService]:
    """cti whose call center counts money in the language's country's currency."""
    settings = service_settings(ami_port=sim.port, remote_answer=True)
    server = dataclasses.replace(settings.server, currency=CASES[language]["currency"])
    settings = dataclasses.replace(settings, server=server)
    async with running_service(settings, database_url=migrated_database, migrate=False) as svc:
        await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        await svc.runtime.ami.flush("pbx1")
        yield svc


async def _page(chromium: Browser, locale: str) -> Page:
    context = await chromium.new_context(viewport={"width": 1440, "height": 900}, locale=locale)
    page = await context.new_page()
    page.set_default_timeout(8000)
    return page


async def _signed_in(
    service: RunningService, chromium: Browser, locale: str, user: tuple[str, str, str]
) -> Page:
    """A new ``user`` (username, full name, role) signed in, in a browser speaking ``locale``,
    on their role's page (the back office or the wallboard)."""
    username, full_name, role = user
    password = f"{username}-secret-1"
    await add_user(
        service.runtime.db, username=username, password=password, role=role, full_name=full_name
    )
    page = await _page(chromium, locale)
    landing = "admin" if role == "admin" else "wallboard"
    await sign_in(page, service.url, username, password=password, landing=landing)
    return page


def _plain(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


async def test_the_desk_speaks_the_operators_language_with_local_money_and_dates(
    local_service: RunningService,
    sim: PbxSimulator,
    chromium: Browser,
    language: str,
    tmp_path: Path,
) -> None:
    case = CASES[language]
    await add_carla(local_service)
    await _delinquent(local_service)
    page = await _page(chromium, language)
    # The sign-in page already speaks the browser's language, its refusals too.
    await page.goto(local_service.url)
    await expect(page.locator("#go")).to_have_text(case["sign_in"])
    await page.fill("#username", "carla")
    await page.fill("#password", "not-her-password")
    await page.click("#go")
    await expect(page.locator("#error")).to_have_text(case["wrong"])
    await sign_in(page, local_service.url, "carla", password="carla-secret-1", landing="desk")
    await expect(page.locator("html")).to_have_attribute("lang", language)
    await expect(page.locator("#desk-signin")).to_have_text(case["signin"])
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text(case["ready"])

    sim.inbound_call("collections", "+12025550104", "BLUE HARBOR", talk_seconds=None)
    await sim.advance(0.2)
    await expect(page.locator("#pop-name")).to_have_text("Blue Harbor Logistics")
    overdue = page.locator("#pop-body li.overdue").first
    await expect(overdue).to_contain_text(case["days"])
    assert case["invoice"] in _plain(await overdue.inner_text())
    # The due date as the country writes it (day first, with slashes).
    assert "/" in _plain(await overdue.inner_text())
    await page.click("#answer")
    await expect(page.locator("#pop-status")).to_contain_text(case["answered"])
    total = page.locator("#overdue-total")
    await expect(total).not_to_be_empty()
    assert _plain(await total.inner_text()) == case["overdue_total"]
    form = page.locator("#attention")
    for label in case["labels"]:
        await expect(form).to_contain_text(label)
    await expect(page.locator("footer")).to_contain_text(case["footer"])
    await page.screenshot(path=str(screenshot_path(f"desk.{language}.png", tmp_path)))

    # She chooses the other language herself: the desk reloads in it.
    other, hang_up = case["other"]
    await page.select_option("select.lang-picker", other)
    await expect(page.locator("html")).to_have_attribute("lang", other)
    await expect(page.locator("#hangup")).to_have_text(hang_up)


async def test_a_call_left_ringing_pauses_the_agent_and_the_desk_says_why_in_her_language(
    local_service: RunningService,
    sim: PbxSimulator,
    chromium: Browser,
    language: str,
    tmp_path: Path,
) -> None:
    case = CASES[language]
    await add_carla(local_service, personal_data=False)
    page = await _page(chromium, language)
    await sign_in(page, local_service.url, "carla", password="carla-secret-1", landing="desk")
    await page.click("#desk-signin")
    await expect(page.locator("#state-text")).to_have_text(case["ready"])

    # A call rings her desk out (she is away): cti pauses her and the desk says why.
    sim.inbound_call("collections", "+12025550104", "BLUE HARBOR", talk_seconds=None)
    await sim.advance(0.2)
    await expect(page.locator("#pop-name")).to_be_visible()
    await sim.advance(sim.pbx.queues["collections"].timeout + 0.5)
    await expect(page.locator(".toast.bad")).to_contain_text(case["missed_toast"])
    await expect(page.locator("#state-text")).to_contain_text(case["missed"])
    member = sim.pbx.queues["collections"].members["PJSIP/agent3"]
    assert member.paused
    await page.screenshot(path=str(screenshot_path(f"desk-missed.{language}.png", tmp_path)))
    # The supervisor's wallboard says why, in the same language.
    board = await _signed_in(
        local_service, chromium, language, ("vera", "Vera Lopes", "supervisor")
    )
    tile = board.locator('.agent[data-interface="PJSIP/agent3"]')
    await expect(tile).to_contain_text(f"motivo: {case['missed']}")

    # Back, she resumes: ready for the queue's calls.
    await page.click("#resume")
    await expect(page.locator("#state-text")).to_have_text(case["ready"])
    assert not member.paused


@pytest.mark.parametrize("language", ["pt-BR"])
async def test_the_back_office_dashboard_speaks_portuguese(
    local_service: RunningService, chromium: Browser, language: str
) -> None:
    page = await _signed_in(local_service, chromium, language, ("root", "Rita Root", "admin"))
    await expect(page.locator("main h1")).to_have_text("Painel")
    await expect(page.locator("#nav")).to_contain_text("Configuração")
    await expect(page.locator("[data-tile=messages] .label")).to_have_text("Recados pendentes")
    await expect(page.locator("#me-role")).to_have_text("administrador")
    # The case groups read as a list of plurals, closed ones included (they read "Encerrado", the
    # word an attention's status takes).
    groups = page.locator("#nav a.sub[data-section^='cases/'] span[data-i18n]")
    await expect(groups).to_have_text(
        ["Ativos", "Atribuídos", "Suspensos", "Inadimplentes", "Desistências", "Encerrados"]
    )

    # A message postponed to tomorrow says so in Portuguese, with the date as Brazil writes it.
    async with local_service.runtime.db.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO call_message_situations (code, name, pending)"
                " VALUES ('PE', 'Pendente', true)"
            )
        )
        await conn.execute(
            sa.text(
                "INSERT INTO call_messages (created_by, situation_code, from_phone, to_user_id,"
                " description, postponed_until, postpone_reason)"
                " SELECT id, 'PE', '+5511999990000', id, 'Retornar amanhã',"
                " TIMESTAMPTZ '2030-03-04 12:00+00', 'cliente viajando'"
                " FROM operators WHERE username = 'root'"
            )
        )
    await page.click("#nav [data-section=messages]")
    chip = page.locator(".chip.warn")
    await expect(chip).to_contain_text("adiado até 04/03/2030")
    assert "postponed" not in _plain(await page.locator("main").inner_text())
    # The long chip takes two lines; what the call was about keeps room to be read (it was
    # squeezed to a word a line beside it).
    about = await page.locator("#messages-table .msg-about").first.bounding_box()
    assert about and about["width"] >= 200, about
    # The filters count messages (recados: plural, masculine; "Pendente, Finalizada" before).
    pills = await page.locator(".subtabs .pill").all_inner_texts()
    assert pills == ["Pendentes", "Finalizados", "Todos"], pills
    # No empty card beside the list until one is picked: the list has the page's width.
    await expect(page.locator("#message-side")).to_be_hidden()
    # Its card, too: who took it, until when and why it waits, in Portuguese.
    await page.click("tr[data-message]")
    card = page.locator(".msg-card")
    await expect(card.locator(".msg-head b")).to_have_text(re.compile(r"^Recado #\d+$"))
    await expect(card.locator(".msg-meta")).to_contain_text("por Rita Root")
    await expect(card.locator(".msg-meta")).to_contain_text("até 04/03/2030")
    await expect(card.locator(".msg-meta")).to_contain_text("— cliente viajando")
    words = set(re.findall(r"[a-z]+", _plain(await card.locator(".msg-meta").inner_text())))
    assert not words & {"by", "until", "message"}, words
    await page.click("#message-close")
    await expect(page.locator("#message-side")).to_be_hidden()

    # A case's own state is singular, its list plural: the active cases ("Ativos") hold a case
    # that is "Ativo" (its chip read "Ativos").
    async with local_service.runtime.db.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "WITH c AS (INSERT INTO customers (code, name) VALUES ('C900', 'Padaria Sol')"
                " RETURNING id) INSERT INTO cases (customer_id, kind, subject)"
                " SELECT id, 'telemarketing', 'Entrega atrasada' FROM c"
            )
        )
    await page.click("#nav [data-section='cases/active']")
    await expect(page.locator("main h1")).to_have_text("Casos ativos")
    await expect(page.locator("#cases-table tbody tr .chip")).to_have_text("Ativo")
