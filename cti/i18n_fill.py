"""Fill translations into the catalogues from a JSON file: ``{"English text": ["pt-BR", "es"]}``
(``python -m cti.i18n_fill FILE``): how translators hand their work in without editing .po
files by hand. Texts the code no longer uses are reported and left out."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from cti.i18n import DOMAIN, babel_name, po_path

ORDER = ("pt-BR", "es")


def fill(path: Path) -> None:
    given: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    for i, language in enumerate(ORDER):
        po = po_path(language)
        with po.open("rb") as f:
            catalog = read_po(f, locale=babel_name(language), domain=DOMAIN)
        unknown = 0
        for text, translations in given.items():
            message = catalog.get(text)
            if message is None:
                unknown += 1
                continue
            message.string = translations[i]
            message.flags.discard("fuzzy")
        with po.open("wb") as f:
            write_po(f, catalog, width=100, ignore_obsolete=True, include_lineno=False)
        missing = sum(1 for m in catalog if m.id and not m.string)
        print(f"{language}: {missing} still to translate, {unknown} given texts not in the code")


if __name__ == "__main__":
    fill(Path(sys.argv[1]))
