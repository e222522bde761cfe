"""The reports in the reader's language: their titles, column labels, chart legends and the words
their rows hold (statuses, routines, modes, the critical report's problems), and their CSV export
as Excel reads it in that language (its separator and decimal mark, UTF-8 with a BOM).

The reports themselves (:mod:`cti.db.reports`) are written in English, their texts marked ``_()``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from cti.db import reports as repo
from cti.domain.no_answer import MISSED_REASON
from cti.i18n import Formats, _, translate

# The words a report's rows hold, as the database gives them (its enums' values, and the
# placeholders of a missing name), by column.
WORDS: dict[str, str] = {
    "pending": _("pending"),
    "planned": _("planned"),
    "closed": _("closed"),
    "cancelled": _("cancelled"),
    "open": _("open"),
    "telemarketing": _("telemarketing"),
    "telesales": _("telesales"),
    "collection": _("collection"),
    "preview": _("preview"),
    "progressive": _("progressive"),
    "predictive": _("predictive"),
    "draft": _("draft"),
    "running": _("running"),
    "paused": _("paused"),
    "finished": _("finished"),
    "(no reason)": _("(no reason)"),
    "(unknown)": _("(unknown)"),
    "(no queue)": _("(no queue)"),
    "promises to pay": _("promises to pay"),
    MISSED_REASON: _("missed calls|pause"),
}
WORD_COLUMNS = frozenset(
    {"status", "kind", "mode", "closing_reason", "customer", "region", "queue", "reason"}
)
BOM = "\ufeff"


def _word(language: str, value: object) -> object:
    if isinstance(value, str) and value in WORDS:
        return translate(language, WORDS[value])
    return value


def localized(report: repo.Report, formats: Formats, *, pending_days: int) -> repo.Report:
    """``report`` in the language of ``formats`` (money in its currency)."""
    language = formats.language
    problems: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for row in report.rows:
        shown = {k: (_word(language, v) if k in WORD_COLUMNS else v) for k, v in row.items()}
        kind = row.get("problem_kind")
        if isinstance(kind, str) and kind in repo.PROBLEMS:
            amount = row.get("amount")
            shown["problem"] = translate(
                language,
                repo.PROBLEMS[kind],
                days=pending_days,
                amount=formats.money(amount) if isinstance(amount, float | int) else "",
            )
            problems[str(row["problem"])] = str(shown["problem"])
        rows.append(shown)
    chart = dict(report.chart)
    if "labels" in chart:
        chart["labels"] = [
            problems.get(label) or _word(language, label) for label in chart["labels"]
        ]
    if "series" in chart:
        chart["series"] = [
            {
                **s,
                "label": _word(language, s["label"])
                if s.get("named")
                else translate(language, WORDS.get(s["label"], s["label"])),
            }
            for s in chart["series"]
        ]
    return replace(
        report,
        title=translate(language, report.title),
        columns=[(key, translate(language, label)) for key, label in report.columns],
        rows=rows,
        chart=chart,
    )


# A moment as the reports' rows carry it (ISO 8601 with its offset), as the report page finds it.
_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT")


def _moment(value: datetime, tz: tzinfo) -> str:
    """A moment as every Excel reads a date and time, whatever its language: local to the
    report's time zone, ``2026-12-04 14:30:05`` (shown then in the reader's own date format)."""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _cell(value: Any, formats: Formats, tz: tzinfo) -> Any:
    if isinstance(value, str) and _MOMENT.match(value):
        try:
            return _moment(datetime.fromisoformat(value), tz)
        except ValueError:
            pass
    # A spreadsheet would run a cell that starts like a formula: make it text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, datetime):
        return _moment(value, tz)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float | Decimal | int):
        return formats.csv_number(value)
    return "" if value is None else value


def to_csv(report: repo.Report, formats: Formats, tz: tzinfo) -> str:
    """A report as Excel reads a CSV file in the language of ``formats``: a BOM (so it reads the
    text as UTF-8), a header of column labels, then one line per row, separated by the language's
    list separator, numbers with its decimal mark, moments in the report's time zone ``tz``."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=formats.csv_separator)
    writer.writerow([label for _key, label in report.columns])
    for row in report.rows:
        writer.writerow([_cell(row.get(key), formats, tz) for key, _label in report.columns])
    return out.getvalue()
