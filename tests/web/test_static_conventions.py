"""The pages keep one of each: one REST module (js/api.js), one set of colour variables
(css/vars.css), loaded by every page."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "cti" / "web" / "static"
OWN = [p for p in STATIC.rglob("*") if p.is_file() and "vendor" not in p.parts]


def test_only_vars_css_defines_colour_variables() -> None:
    defining = {
        p.relative_to(STATIC).as_posix()
        for p in OWN
        if p.suffix == ".css" and re.search(r"^\s*--[\w-]+\s*:", p.read_text(), re.M)
    }
    assert defining == {"css/vars.css"}


def test_every_page_loads_the_variables_first() -> None:
    for page in (p for p in OWN if p.suffix == ".html"):
        sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.read_text())
        assert sheets and sheets[0] == "/static/css/vars.css", page


def test_only_api_js_talks_to_the_api() -> None:
    talking = {
        p.relative_to(STATIC).as_posix()
        for p in OWN
        if p.suffix == ".js"
        and re.search(r"\bfetch\(|export (async )?function api\b", p.read_text())
    }
    # The lead upload streams a file body, which api() (JSON) does not send.
    assert talking == {"js/api.js", "wallboard/wallboard.js"}


def test_every_page_has_the_favicon() -> None:
    # A tab among many in an agent's browser is found by its icon.
    assert (STATIC / "favicon.svg").is_file()
    for page in (p for p in OWN if p.suffix == ".html"):
        assert '<link rel="icon" href="/static/favicon.svg"' in page.read_text(), page
