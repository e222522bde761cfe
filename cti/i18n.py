"""Languages and local formats: English, Brazilian Portuguese and Spanish.

The texts people read (the pages, the API's messages meant for people, the CSV headers) are
written in English in the code and translated through gettext catalogues: ``cti/locale/<lang>/
LC_MESSAGES/cti.po``, one per language, kept up to date from the code by ``python -m
cti.i18n_extract`` (``tests/test_i18n.py`` fails when a catalogue misses a text the code uses).
The browser pages read the same catalogues as JSON (``GET /api/v1/i18n``).

A user's language is their own setting, else their browser's ``Accept-Language``, else
``server.language``. Money, numbers and dates are written as the language's country writes them
(Babel here, ``Intl`` in the browser), in the call center's currency (``server.currency``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

from cti.domain.amounts import parse_decimal
from cti.errors import UserInputError

__all__ = ["LANGUAGES", "Formats", "messages", "negotiate", "parse_decimal", "translate"]

LANGUAGES: tuple[str, ...] = ("en", "pt-BR", "es")
LANGUAGE_NAMES = {"en": "English", "pt-BR": "Português (Brasil)", "es": "Español"}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "cti"


def po_path(language: str) -> Path:
    """The catalogue file of a language (``pt-BR`` → ``cti/locale/pt_BR/LC_MESSAGES/cti.po``)."""
    return LOCALE_DIR / babel_name(language) / "LC_MESSAGES" / f"{DOMAIN}.po"


def babel_name(language: str) -> str:
    return language.replace("-", "_")


@functools.cache
def messages(language: str) -> dict[str, str]:
    """The translations of a language, by English text (English itself: none)."""
    if language not in LANGUAGES or language == "en":
        return {}
    with po_path(language).open("rb") as f:
        catalog = read_po(f, locale=babel_name(language), domain=DOMAIN)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string
        if not m.fuzzy
    }


def translate(language: str, text: str, /, **values: object) -> str:
    """``text`` in ``language`` (itself when not translated), its ``{name}`` fields filled.

    A text that needs a translation of its own in some context carries it after a bar
    (``"Closed|cases"``); English shows it without (``"Closed"``)."""
    found = messages(language).get(text) or _CONTEXT.sub("", text)
    return found.format(**values) if values else found


_CONTEXT = re.compile(r"\|[\w-]+$")


def canonical(tag: str) -> str | None:
    """The language of ours a language tag names (``pt-br``, ``pt``, ``es-AR``...), if any."""
    tag = tag.strip().replace("_", "-").lower()
    if not tag:
        return None
    for language in LANGUAGES:
        if tag == language.lower():
            return language
    primary = tag.split("-")[0]
    for language in LANGUAGES:
        if language.lower().split("-")[0] == primary:
            return language
    return None


def negotiate(accept_language: str, preferred: str | None, default: str) -> str:
    """The language to answer in: the user's own setting (``preferred``), else the first of the
    browser's ``Accept-Language`` we have (by its q-values), else ``default``."""
    if preferred and (mine := canonical(preferred)) is not None:
        return mine
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, i, tag))
    for _, _, tag in sorted(ranked):
        if (found := canonical(tag)) is not None:
            return found
    return canonical(default) or "en"


@dataclass(frozen=True, slots=True)
class Formats:
    """How a language writes numbers, money and dates, and what Excel expects of its CSV."""

    language: str
    currency: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(babel_name(self.language))

    @property
    def decimal_mark(self) -> str:
        return str(self.locale.number_symbols["latn"]["decimal"])

    @property
    def csv_separator(self) -> str:
        """``;`` where the decimal mark is a comma (Excel's list separator there), else ``,``."""
        return ";" if self.decimal_mark == "," else ","

    def money(self, amount: Decimal | float | int) -> str:
        return str(format_currency(amount, self.currency, locale=self.locale))

    def number(self, value: Decimal | float | int) -> str:
        return str(format_decimal(value, locale=self.locale))

    def csv_number(self, value: Decimal | float | int) -> str:
        """A number as a spreadsheet reads it in this language: no grouping, its decimal mark."""
        text = format(value, "f") if isinstance(value, Decimal) else repr(value)
        if isinstance(value, int):
            text = str(value)
        return text.replace(".", self.decimal_mark)

    def date(self, value: date) -> str:
        return str(format_date(value, "short", locale=self.locale))

    def datetime(self, value: datetime) -> str:
        return str(format_datetime(value, "short", locale=self.locale))


class Say(Protocol):
    """A text in a language chosen beforehand, its ``{name}`` fields filled (:func:`translator`)."""

    def __call__(self, text: str, /, **values: object) -> str: ...


def translator(language: str) -> Say:
    """:func:`translate` into ``language`` (a tag such as ``pt-BR``, ``pt`` or ``es-AR``); a
    language we do not speak is refused, naming the ones we do."""
    found = canonical(language)
    if found is None:
        raise UserInputError(
            "language", _("must be one of {choices}"), choices=", ".join(LANGUAGES)
        )

    def say(text: str, /, **values: object) -> str:
        return translate(found, text, **values)

    return say


def _(text: str) -> str:
    """Mark a text shown to people for translation (``cti.i18n_extract`` finds it); it is
    translated where it is shown, in the reader's language (:func:`translate`)."""
    return text
