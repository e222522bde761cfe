"""What an import asks for, the rows read from a CSV text and each cell's rule
(cti.domain.imports): no file, no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cti.domain.imports import ImportRejected, RowChecker, check_import, parse, zone_of_phone
from cti.errors import UserInputError


def test_an_import_names_a_kind_a_region_and_for_leads_a_campaign() -> None:
    assert check_import("customers", " br ", None) == "BR"
    assert check_import("leads", "US", "Spring") == "US"
    with pytest.raises(UserInputError, match="'orders' cannot be imported") as exc:
        check_import("orders", "US", None)
    assert exc.value.field == "kind"
    with pytest.raises(UserInputError, match="two-letter country code") as exc:
        check_import("customers", "USA", None)
    assert exc.value.field == "region"
    with pytest.raises(UserInputError, match="leads are imported into a campaign") as exc:
        check_import("leads", "US", None)
    assert exc.value.field == "campaign"
    with pytest.raises(UserInputError, match="only leads belong to a campaign, not contacts"):
        check_import("contacts", "US", "Spring")


def test_a_files_rows_are_read_with_the_separator_of_its_header() -> None:
    rows = parse("c.csv", "Code;Name\nC1; Ana \n\n C2 ;Bea\n", "customers")
    assert rows.errors == []
    assert rows.rows == [(2, {"code": "C1", "name": "Ana"}), (4, {"code": "C2", "name": "Bea"})]


def test_a_header_without_a_required_column_rejects_the_file() -> None:
    with pytest.raises(ImportRejected) as exc:
        parse("c.csv", "code,nome\nC1,Ana\n", "customers")
    reasons = {(e.field, e.reason.split(";")[0]) for e in exc.value.errors}
    assert ("name", "required column is missing") in reasons
    assert ("nome", "unknown column") in reasons


def test_each_cell_is_checked_and_every_bad_one_is_told() -> None:
    check = RowChecker("BR")
    assert check.amount(2, "1234.50") == Decimal("1234.50")
    assert check.amount(3, "0") is None
    assert check.amount(4, "1.234") is None
    assert check.day(5, "due_on", "2026-02-30") is None
    assert check.day(6, "due_on", "2026-03-01") == date(2026, 3, 1)
    assert check.email(7, "ana@example") is None
    assert check.zone(8, "Mars/Olympus") is None
    assert check.required(9, {"name": ""}, "name") is None
    assert [(e.row, e.field) for e in check.errors] == [
        (3, "amount"),
        (4, "amount"),
        (5, "due_on"),
        (7, "email"),
        (8, "timezone"),
        (9, "name"),
    ]


def test_a_number_takes_the_zone_of_its_prefix_when_it_has_one() -> None:
    assert zone_of_phone("+5511912345678") == "America/Sao_Paulo"
    assert zone_of_phone("11912345678") is None
