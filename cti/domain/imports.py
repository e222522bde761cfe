"""Importing a CSV file, without the file and the database: its kinds and columns, the rows read
from its text, each cell's rule, and what rejects a file.

:mod:`cti.db.imports` reads the file, looks up what the rows refer to, and stores a good file in
one transaction; the format is described there.
"""

from __future__ import annotations

import csv
import io
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from cti.domain.amounts import parse_decimal
from cti.domain.phone import normalize_phone
from cti.domain.texts import Words, _
from cti.errors import CTIError, UserInputError

ImportKind = Literal["customers", "contacts", "receivables", "leads"]
KINDS: tuple[str, ...] = get_args(ImportKind)

# (required columns, optional columns) per kind.
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "customers": (
        ("code", "name"),
        ("tax_id", "phones", "email", "address", "region", "timezone"),
    ),
    "contacts": (("customer_code", "name"), ("phones", "email", "position")),
    "receivables": (("customer_code", "invoice_number", "due_on", "amount"), ("issued_on",)),
    "leads": (("phone",), ("name", "customer_code", "timezone", "priority")),
}

MAX_AMOUNT = Decimal("999999999999.99")
_PHONE_SPLIT = re.compile(r"[|;,]")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row: ``row`` as a spreadsheet numbers it (header = 1); ``field`` is the
    column; ``reason`` is a text for people, marked ``_()`` with its values by name, so that it
    can be said in the reader's language (:class:`~cti.domain.texts.Words`)."""

    row: int
    field: str
    reason: Words

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"


class ImportRejected(CTIError):
    """The file was rejected whole; ``errors`` lists every bad row. Nothing was stored."""

    def __init__(self, path: Path | str, errors: Sequence[RowError]) -> None:
        self.path = str(path)
        self.errors: list[RowError] = sorted(errors, key=lambda e: (e.row, e.field))
        self.rows = len({e.row for e in self.errors})
        plural = "s" if self.rows != 1 else ""
        super().__init__(f"{self.rows} bad row{plural}; first: {self.errors[0]}")


@dataclass(slots=True)
class Rows:
    """The parsed file: (spreadsheet row number, {column: stripped value}) pairs."""

    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@lru_cache(maxsize=1)
def zones() -> frozenset[str]:
    """The IANA time zone names known."""
    return frozenset(zoneinfo.available_timezones())


def delimiter(header_line: str) -> str:
    """The separator the header row uses: a comma, a semicolon or a tab."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse(path: Path, text: str, kind: str) -> Rows:
    """The rows of a CSV file's ``text`` (``path`` names it in a rejection) for an import of
    ``kind``; ImportRejected when the header is wrong or nothing can be read."""
    required, optional = COLUMNS[kind]
    known = required + optional
    out = Rows()
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRejected(path, [RowError(1, "file", Words(_("the file is empty")))]) from None
    columns = [h.strip().lower() for h in header]
    if any("\x00" in h for h in header):
        raise ImportRejected(path, [RowError(1, "header", Words(_("contains a NUL character")))])
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            out.errors.append(RowError(1, name, Words(_("this column appears twice"))))
        elif name and name not in known:
            out.errors.append(
                RowError(
                    1,
                    name,
                    Words(_("unknown column; expected {columns}"), columns=", ".join(known)),
                )
            )
        seen.add(name)
    for name in required:
        if name not in seen:
            out.errors.append(RowError(1, name, Words(_("required column is missing"))))
    if out.errors:
        raise ImportRejected(path, out.errors)
    width = len(columns)
    row_no = 1
    try:
        for cells in reader:
            row_no += 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                out.errors.append(
                    RowError(
                        row_no,
                        "row",
                        Words(
                            _("has {cells} cells but the header has {width}"),
                            cells=len(cells),
                            width=width,
                        ),
                    )
                )
                continue
            values = {
                name: (cells[i].strip() if i < len(cells) else "")
                for i, name in enumerate(columns)
                if name
            }
            nul = [name for name, value in values.items() if "\x00" in value]
            if nul:
                # PostgreSQL text cannot hold one (and it is never meant).
                out.errors.extend(
                    RowError(row_no, name, Words(_("contains a NUL character"))) for name in nul
                )
                continue
            out.rows.append((row_no, values))
    except csv.Error as exc:
        out.errors.append(
            RowError(row_no, "row", Words(_("not valid CSV ({problem})"), problem=str(exc)))
        )
    if not out.rows and not out.errors:
        raise ImportRejected(path, [RowError(2, "file", Words(_("the file has no data rows")))])
    return out


# --- field checks (each returns the value or appends a RowError and returns None) ---------------


class RowChecker:
    """The checks of one file's cells: each returns the value, or records a RowError and returns
    None (or what stands for nothing), so that every bad cell of the file is told at once."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.errors: list[RowError] = []
        # The decimal marks the file's amounts were read with ("." or ","): both are accepted.
        self.decimal_marks: set[str] = set()

    def row_error(self, row: int, field: str, reason: str, /, **values: object) -> None:
        """Record a problem: ``reason`` marked ``_()``, its values by name."""
        self.errors.append(RowError(row, field, Words(reason, **values)))

    def required(self, row: int, values: dict[str, str], name: str) -> str | None:
        value = values.get(name, "")
        if not value:
            self.row_error(row, name, _("required; the cell is empty"))
            return None
        return value

    def region_of_row(self, row: int, raw: str) -> str | None:
        if not raw:
            return None
        code = raw.upper()
        if len(code) != 2 or not code.isalpha():
            self.row_error(
                row, "region", _("{raw!r} is not a two-letter country code like 'BR'"), raw=raw
            )
            return None
        return code

    def zone(self, row: int, raw: str) -> str | None:
        if not raw:
            return None
        if raw not in zones():
            self.row_error(
                row, "timezone", _("{raw!r} is not a time zone like 'America/Sao_Paulo'"), raw=raw
            )
            return None
        return raw

    def email(self, row: int, raw: str) -> str | None:
        if not raw:
            return None
        local, at, domain = raw.partition("@")
        if not at or not local or "." not in domain or " " in raw:
            self.row_error(row, "email", _("{raw!r} is not an email address"), raw=raw)
            return None
        return raw

    def phone(self, row: int, name: str, raw: str, region: str) -> str | None:
        try:
            return normalize_phone(raw, region)
        except UserInputError as exc:
            self.row_error(row, name, exc.template, **exc.values)
            return None

    def phones(self, row: int, raw: str, region: str) -> list[tuple[str, str]]:
        out: dict[str, str] = {}
        for cell in _PHONE_SPLIT.split(raw):
            part = cell.strip()
            if not part:
                continue
            number = self.phone(row, "phones", part, region)
            if number is not None:
                out.setdefault(number, part)
        return list(out.items())

    def day(self, row: int, name: str, raw: str) -> date | None:
        if not raw:
            return None
        try:
            if len(raw) != 10:
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            self.row_error(row, name, _("{raw!r} is not a date written YYYY-MM-DD"), raw=raw)
            return None

    def amount(self, row: int, raw: str) -> Decimal | None:
        try:
            value, mark = parse_decimal(raw)
        except ValueError:
            self.row_error(
                row,
                "amount",
                _("{raw!r} is not an amount written like 1234.50 or 1234,50"),
                raw=raw,
            )
            return None
        if "." in raw or "," in raw:
            self.decimal_marks.add(mark)
        if not value.is_finite() or value <= 0:
            self.row_error(row, "amount", _("{raw!r}: must be above zero"), raw=raw)
            return None
        if value != value.quantize(Decimal("0.01")):
            self.row_error(row, "amount", _("{raw!r}: at most two decimals"), raw=raw)
            return None
        if value > MAX_AMOUNT:
            self.row_error(row, "amount", _("{raw!r}: too large"), raw=raw)
            return None
        return value

    def integer(self, row: int, name: str, raw: str) -> int | None:
        if not raw:
            return 0
        try:
            return int(raw)
        except ValueError:
            self.row_error(row, name, _("{raw!r} is not a whole number"), raw=raw)
            return None


def zone_of_phone(e164: str) -> str | None:
    """The number's time zone when its prefix has exactly one (libphonenumber's prefix table)."""
    if not e164.startswith("+"):
        return None
    digits = e164[1:]
    for length in range(min(TIMEZONE_LONGEST_PREFIX, len(digits)), 0, -1):
        found = TIMEZONE_DATA.get(digits[:length])
        if found is not None:
            return str(found[0]) if len(found) == 1 and found[0] in zones() else None
    return None


def check_import(kind: str, region: str, campaign: str | None) -> str:
    """What an import is asked for: a known ``kind``, the ``region`` (a two-letter country code,
    returned upper-cased) and a ``campaign`` for leads only."""
    if kind not in KINDS:
        raise UserInputError(
            "kind",
            _("{kind!r} cannot be imported; expected one of {choices}"),
            kind=kind,
            choices=", ".join(KINDS),
        )
    region = region.strip().upper()
    if len(region) != 2 or not region.isalpha():
        raise UserInputError(
            "region",
            _("expected a two-letter country code like 'US', got {region!r}"),
            region=region,
        )
    if kind == "leads" and not campaign:
        raise UserInputError("campaign", _("leads are imported into a campaign: name it"))
    if kind != "leads" and campaign:
        raise UserInputError(
            "campaign", _("only leads belong to a campaign, not {kind}"), kind=kind
        )
    return region


__all__ = [
    "COLUMNS",
    "KINDS",
    "MAX_AMOUNT",
    "ImportKind",
    "ImportRejected",
    "RowChecker",
    "RowError",
    "Rows",
    "check_import",
    "delimiter",
    "parse",
    "zone_of_phone",
    "zones",
]
