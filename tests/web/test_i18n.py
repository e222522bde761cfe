"""Languages: every text the code marks for translation is in every catalogue (with the same
fields), the reader's language is chosen as a user expects, money and numbers are written as the
language's country writes them, and the pages get their catalogue from the server."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal

import pytest

from cti.i18n import LANGUAGES, Formats, messages, negotiate, parse_decimal, translate
from cti.i18n_extract import extracted, from_html, from_js

from .conftest import Client

_FIELD = re.compile(r"\{\w+(?:![rsa])?(?::[^{}]*)?\}")  # {name}, {name!r}, {at:%H:%M}


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_text_the_code_uses_is_translated_with_its_fields(language: str) -> None:
    texts = extracted()
    assert len(texts) > 300  # the desk's texts at least
    catalogue = messages(language)
    missing = sorted(t for t in texts if t not in catalogue)
    assert missing == [], f"{language}: {len(missing)} texts not translated: {missing[:20]}"
    wrong = {
        t: catalogue[t]
        for t in texts
        if set(_FIELD.findall(t)) != set(_FIELD.findall(catalogue[t]))
    }
    assert wrong == {}, f"{language}: translations that lose or add a field: {wrong}"


def test_the_extractor_finds_what_the_pages_mark() -> None:
    js = 'x = t("Hang up"); y = N_("Ready"); el("b", {}, t(\'It\\\'s {n}\', { n }));'
    assert [text for text, _ in from_js(js)] == ["Hang up", "Ready", "It's {n}"]
    html = (
        "<button data-i18n>Sign in\n   to phone</button>"
        '<input placeholder="Number to call" data-i18n-attrs="placeholder">'
        "<span>not marked</span>"
        '<option value="closed" data-i18n="Closed|cases">Closed</option>'
    )
    assert sorted(text for text, _ in from_html(html)) == [
        "Closed|cases",
        "Number to call",
        "Sign in to phone",
    ]


def test_one_english_word_gets_the_translation_its_context_needs() -> None:
    # A case group among plural ones; a report's count of attentions beside a message's status.
    assert [translate("es", t) for t in ("Active", "Closed|cases")] == ["Activos", "Cerrados"]
    assert [translate("pt-BR", t) for t in ("Active", "Closed|cases")] == ["Ativos", "Encerrados"]
    assert translate("es", "Pending") == "Pendiente"
    assert translate("es", "Pending|attentions") == "Pendientes"
    assert translate("es", "Closed|attentions") == "Cerradas"
    # English reads the word alone; so does a language that has no translation for it.
    assert translate("en", "Closed|cases") == "Closed"
    assert translate("es", "Nothing|here") == "Nothing"


def test_the_language_is_the_users_own_then_the_browsers_then_the_servers() -> None:
    assert negotiate("pt-BR,pt;q=0.9,en;q=0.8", None, "en") == "pt-BR"
    assert negotiate("es-AR,es;q=0.9", None, "en") == "es"  # a Spanish of America is Spanish
    assert negotiate("pt-PT", None, "en") == "pt-BR"  # the Portuguese we have
    assert negotiate("fr-FR,es;q=0.5,en;q=0.4", None, "pt-BR") == "es"  # by preference order
    assert negotiate("fr-FR,de;q=0.5", None, "pt-BR") == "pt-BR"  # none of ours: the server's
    assert negotiate("es;q=0, en", None, "pt-BR") == "en"  # q=0 means "not this one"
    assert negotiate("es", "pt-BR", "en") == "pt-BR"  # the user's own choice wins
    assert translate("es", "Hang up") == "Colgar"
    assert translate("pt-BR", "Call {number}", number="+55 11 5555 0101") == (
        "Ligar para +55 11 5555 0101"
    )
    assert translate("es", "a text nobody translated") == "a text nobody translated"


def test_money_numbers_dates_and_csv_as_each_country_writes_them() -> None:
    br, es, us = Formats("pt-BR", "BRL"), Formats("es", "EUR"), Formats("en", "USD")
    assert br.money(Decimal("1234.5")).replace("\xa0", " ") == "R$ 1.234,50"
    assert es.money(Decimal("1234.5")).replace("\xa0", " ") == "1.234,50 €"
    assert us.money(Decimal("1234.5")) == "$1,234.50"
    assert br.date(date(2026, 12, 4)) == "04/12/2026"
    assert es.date(date(2026, 12, 4)) == "4/12/26"
    assert (br.csv_separator, br.decimal_mark) == (";", ",")
    assert (es.csv_separator, us.csv_separator) == (";", ",")
    assert br.csv_number(Decimal("1234.50")) == "1234,50"
    assert us.csv_number(Decimal("1234.50")) == "1234.50"
    assert parse_decimal("1.234,50") == (Decimal("1234.50"), ",")
    assert parse_decimal("1,234.50") == (Decimal("1234.50"), ".")
    assert parse_decimal("12,5") == (Decimal("12.5"), ",")
    assert parse_decimal("12.5") == (Decimal("12.5"), ".")
    with pytest.raises(ValueError):
        parse_decimal("twelve")


async def test_the_pages_get_their_catalogue_and_a_user_chooses_a_language(
    users: dict[str, str], client_factory: Callable[[], Awaitable[Client]]
) -> None:
    anonymous = await client_factory()
    got = await (await anonymous.get("/api/v1/i18n", headers={"Accept-Language": "pt-BR"})).json()
    assert got["language"] == "pt-BR" and got["currency"] == "USD"
    assert got["messages"]["Sign in to phone"] == "Entrar no telefone"
    assert got["languages"] == {"en": "English", "pt-BR": "Português (Brasil)", "es": "Español"}
    english = await (await anonymous.get("/api/v1/i18n")).json()
    assert (english["language"], english["messages"]) == ("en", {})

    ana = await client_factory()
    assert (await ana.login("ana", users["ana"])).status == 200
    refused = await ana.put("/api/v1/me/language", json={"language": "fr"})
    assert refused.status == 400
    assert (await refused.json())["field"] == "language"
    # A refusal meant for people is said in the reader's language, naming the same field.
    wrong = await ana.http.post(
        f"{ana.base}api/v1/desk/signin",
        json={"interface": "1001"},
        headers={"X-CSRF-Token": ana.csrf, "Accept-Language": "es"},
    )
    assert wrong.status == 400
    said = await wrong.json()
    assert (said["error"], said["field"]) == (
        "indica tu teléfono como una interfaz, por ejemplo PJSIP/1001",
        "interface",
    )
    assert (await ana.put("/api/v1/me/language", json={"language": "es"})).status == 200
    mine = await (await ana.get("/api/v1/i18n", headers={"Accept-Language": "pt-BR"})).json()
    assert (mine["language"], mine["chosen"]) == ("es", "es")
    assert mine["messages"]["Hang up"] == "Colgar"
    # Back to the browser's.
    assert (await ana.put("/api/v1/me/language", json={"language": None})).status == 200
    back = await (await ana.get("/api/v1/i18n", headers={"Accept-Language": "pt-BR"})).json()
    assert (back["language"], back["chosen"]) == ("pt-BR", None)
