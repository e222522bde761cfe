"""The texts to translate, as the code uses them, and the catalogues kept up to date from them.

What is extracted:

* Python: ``_("...")`` (:func:`cti.i18n._`, the marker of a text shown to people);
* JavaScript (``cti/web/static``): ``t("...")`` and ``t('...')`` with a literal text, and
  ``N_("...")`` (a text marked where it is written, translated where it is shown);
* HTML (``cti/web/static``): the text of each element marked ``data-i18n``, and the attributes
  named by ``data-i18n-attrs`` (``placeholder``, ``title``, ``aria-label``...).

``python -m cti.i18n_extract`` writes ``cti/locale/cti.pot`` and adds the new texts (untranslated)
to each language's ``cti.po``, dropping those the code no longer uses. ``tests/test_i18n.py`` fails
while a catalogue has a text untranslated.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from cti.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, babel_name, po_path

ROOT = Path(__file__).parent
STATIC = ROOT / "web" / "static"

# t("...") or t('...') with a literal first argument (no template literal); N_("...") marks a
# text translated later, where it is shown (t(label)).
_JS_CALL = re.compile(
    r"""(?<![\w.$])(?:t|N_)\(\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')"""
)
_SPACE = re.compile(r"\s+")


def normalized(text: str) -> str:
    """A text as the pages look it up: runs of white space made one space, trimmed."""
    return _SPACE.sub(" ", text).strip()


def _js_unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def from_js(source: str) -> Iterator[tuple[str, int]]:
    for m in _JS_CALL.finditer(source):
        text = m.group(1) if m.group(1) is not None else m.group(2)
        yield _js_unescape(text), source.count("\n", 0, m.start()) + 1


class _Marked(HTMLParser):
    """Collects the texts of ``data-i18n`` elements and ``data-i18n-attrs`` attributes."""

    _VOID = frozenset({"input", "img", "br", "hr", "meta", "link", "source", "wbr", "area"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, int]] = []
        self._stack: list[tuple[str, bool, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        line = self.getpos()[0]
        for attr in (named.get("data-i18n-attrs") or "").split():
            if value := normalized(named.get(attr) or ""):
                self.found.append((value, line))
        key = named.get("data-i18n")
        if key:
            # The text to translate is the attribute's (a text with its context, "Closed|cases").
            self.found.append((key, line))
        if tag not in self._VOID:
            self._stack.append((tag, "data-i18n" in named and not key, []))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            name, marked, texts = self._stack.pop()
            if marked and (text := normalized("".join(texts))):
                self.found.append((text, self.getpos()[0]))
            if self._stack:
                self._stack[-1][2].extend(texts)
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        if self._stack:
            self._stack[-1][2].append(data)


def from_html(source: str) -> Iterator[tuple[str, int]]:
    parser = _Marked()
    parser.feed(source)
    parser.close()
    yield from parser.found


def from_python(source: str) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "_"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value, node.lineno


def extracted() -> dict[str, list[tuple[str, int]]]:
    """Every text to translate, with where the code uses it (path relative to ``cti/``)."""
    found: dict[str, list[tuple[str, int]]] = {}

    def add(path: Path, items: Iterator[tuple[str, int]]) -> None:
        for text, line in items:
            found.setdefault(text, []).append((str(path.relative_to(ROOT)), line))

    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" not in path.parts:
            add(path, from_python(path.read_text(encoding="utf-8")))
    for path in sorted(STATIC.rglob("*.js")):
        if "vendor" not in path.parts:
            add(path, from_js(path.read_text(encoding="utf-8")))
    for path in sorted(STATIC.rglob("*.html")):
        add(path, from_html(path.read_text(encoding="utf-8")))
    return found


def template() -> Catalog:
    catalog = Catalog(domain=DOMAIN, project="cti", charset="utf-8")
    for text, where in sorted(extracted().items()):
        catalog.add(text, locations=where)
    return catalog


def update() -> None:
    """Write the template and bring every language's catalogue up to date with the code."""
    pot = template()
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("wb") as f:
        write_po(f, pot, width=100, include_lineno=False)
    for language in LANGUAGES:
        if language == "en":
            continue
        path = po_path(language)
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=babel_name(language), domain=DOMAIN)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=babel_name(language), domain=DOMAIN, project="cti")
        catalog.update(pot, no_fuzzy_matching=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=100, ignore_obsolete=True, include_lineno=False)
        missing = sum(1 for m in catalog if m.id and not m.string)
        print(f"{path.relative_to(ROOT.parent)}: {len(catalog) - 1} texts, {missing} to translate")


if __name__ == "__main__":
    update()
    sys.exit(0)
