"""Import customers, contacts, receivables and campaign leads from CSV files, all or nothing.

Every row is checked before anything is written. If any row is bad the whole file is rejected with
:class:`ImportRejected`, which lists every bad row's number (as a spreadsheet shows it: the header
is row 1, the first data row is row 2), the field and the reason; nothing is stored. A good file is
stored in one transaction.

File format: UTF-8 (a byte-order mark is fine), first row the column names (any order, any case),
separated by commas, semicolons or tabs (told from the header row). Empty rows are skipped. Dates
are ISO ``YYYY-MM-DD``; amounts are written with a dot or a comma for decimals (``1234.50``, ``1234,50``, ``1.234,50``).
Phone numbers are normalised to E.164; numbers written without a country code are read in the
row's ``region`` if it has one, else the customer's, else the region given to the import (setting
``telephony.default_region``). Several phones in one cell are separated by ``|`` or ``;``
(or ``,`` when the cell is quoted). Columns marked * are required.

customers
    ``code``\\*, ``name``\\*, ``tax_id``, ``phones``, ``email``, ``address``, ``region`` (ISO
    country, e.g. ``BR``), ``timezone`` (IANA, e.g. ``America/Sao_Paulo``). ``code`` must be new:
    not twice in the file, not already in the database.
contacts
    ``customer_code``\\*, ``name``\\*, ``phones``, ``email``, ``position``. The customer must exist;
    a customer cannot have two contacts of the same name.
receivables
    ``customer_code``\\*, ``invoice_number``\\*, ``due_on``\\*, ``amount``\\* (above zero, at most
    two decimals), ``issued_on`` (not after ``due_on``). The customer must exist; an invoice number
    is unique per customer.
leads (with ``campaign``: the campaign's name)
    ``phone``\\*, ``name``, ``customer_code`` (an existing customer), ``timezone`` (IANA; when
    empty, the phone number's own zone if it has exactly one, else the customer's), ``priority``
    (an integer, higher first). A phone number appears once per campaign.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from cti.db.engine import Database
from cti.db.models import AuditEvent
from cti.domain.imports import (
    COLUMNS,
    KINDS,
    ImportKind,
    ImportRejected,
    RowChecker,
    RowError,
    Rows,
    check_import,
    parse,
    zone_of_phone,
)
from cti.domain.texts import Words
from cti.errors import UserInputError
from cti.i18n import _


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserInputError("file", _("{path}: not found"), path=path) from None
    except OSError as exc:
        raise UserInputError(
            "file", _("{path}: cannot be read ({strerror})"), path=path, strerror=exc.strerror
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        raise ImportRejected(
            path, [RowError(row, "file", Words(_("not UTF-8 text; save the file as CSV UTF-8")))]
        ) from None


# --- database look-ups and bulk writes ---------------------------------------------------------


async def _customers_by_code(
    conn: AsyncConnection, codes: set[str]
) -> dict[str, tuple[int, str | None, str | None]]:
    if not codes:
        return {}
    result = await conn.execute(
        sa.text(
            "SELECT code, id, region, timezone FROM customers"
            " WHERE code = ANY(CAST(:codes AS text[]))"
        ),
        {"codes": sorted(codes)},
    )
    return {r.code: (r.id, r.region, r.timezone) for r in result}


async def _insert(conn: AsyncConnection, sql: str, columns: dict[str, Any]) -> Any:
    return await conn.execute(sa.text(sql), columns)


async def _import_customers(
    conn: AsyncConnection, rows: Rows, check: RowChecker
) -> Callable[[], Awaitable[int]]:
    records: list[tuple[int, dict[str, Any], list[tuple[str, str]]]] = []
    first_row: dict[str, int] = {}
    for row, v in rows.rows:
        code = check.required(row, v, "code")
        name = check.required(row, v, "name")
        region = check.region_of_row(row, v.get("region", ""))
        zone = check.zone(row, v.get("timezone", ""))
        email = check.email(row, v.get("email", ""))
        phones = check.phones(row, v.get("phones", ""), region or check.region)
        if code is not None:
            if code in first_row:
                check.row_error(
                    row,
                    "code",
                    _("{code!r} is already on row {row}"),
                    code=code,
                    row=first_row[code],
                )
                continue
            first_row[code] = row
        if code is None or name is None:
            continue
        record = {
            "code": code,
            "name": name,
            "tax_id": v.get("tax_id") or None,
            "email": email,
            "address": v.get("address") or None,
            "region": region or check.region,
            "timezone": zone,
        }
        records.append((row, record, phones))
    existing = await _customers_by_code(conn, set(first_row))
    for code in existing:
        check.row_error(
            first_row[code], "code", _("{code!r} already exists in the database"), code=code
        )

    async def write() -> int:
        result = await _insert(
            conn,
            "INSERT INTO customers (code, name, tax_id, email, address, region, timezone)"
            " SELECT * FROM unnest(CAST(:code AS text[]), CAST(:name AS text[]),"
            " CAST(:tax_id AS text[]), CAST(:email AS text[]), CAST(:address AS text[]),"
            " CAST(:region AS text[]), CAST(:timezone AS text[]))"
            " RETURNING id, code",
            _columns([r for _, r, _ in records]),
        )
        ids = {row.code: row.id for row in result}
        await _insert_phones(
            conn,
            "customer_id",
            [(ids[r["code"]], number, raw) for _, r, ps in records for number, raw in ps],
        )
        return len(records)

    return write


async def _insert_phones(
    conn: AsyncConnection, owner: str, phones: list[tuple[int, str, str]]
) -> None:
    if not phones:
        return
    await _insert(
        conn,
        f"INSERT INTO phones ({owner}, phone, raw)"
        " SELECT * FROM unnest(CAST(:owner AS bigint[]), CAST(:phone AS text[]),"
        " CAST(:raw AS text[]))",
        {
            "owner": [p[0] for p in phones],
            "phone": [p[1] for p in phones],
            "raw": [p[2] for p in phones],
        },
    )


def _columns(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    if not records:
        return {}
    return {key: [r[key] for r in records] for key in records[0]}


async def _import_contacts(
    conn: AsyncConnection, rows: Rows, check: RowChecker
) -> Callable[[], Awaitable[int]]:
    customers = await _customers_by_code(
        conn, {v["customer_code"] for _, v in rows.rows if v.get("customer_code")}
    )
    records: list[tuple[dict[str, Any], list[tuple[str, str]]]] = []
    first_row: dict[tuple[int, str], int] = {}
    for row, v in rows.rows:
        code = check.required(row, v, "customer_code")
        name = check.required(row, v, "name")
        email = check.email(row, v.get("email", ""))
        customer = customers.get(code) if code else None
        if code and customer is None:
            check.row_error(row, "customer_code", _("there is no customer {code!r}"), code=code)
        phones = check.phones(row, v.get("phones", ""), (customer and customer[1]) or check.region)
        if customer is None or name is None:
            continue
        key = (customer[0], name)
        if key in first_row:
            check.row_error(
                row,
                "name",
                _("{name!r} of {code!r} is already on row {row}"),
                name=name,
                code=code,
                row=first_row[key],
            )
            continue
        first_row[key] = row
        records.append(
            (
                {
                    "customer_id": customer[0],
                    "name": name,
                    "email": email,
                    "position": v.get("position") or None,
                },
                phones,
            )
        )
    if first_row:
        result = await conn.execute(
            sa.text(
                "SELECT c.customer_id, c.name FROM contacts c"
                " JOIN unnest(CAST(:ids AS bigint[]), CAST(:names AS text[])) AS n(id, name)"
                " ON c.customer_id = n.id AND c.name = n.name"
            ),
            {"ids": [k[0] for k in first_row], "names": [k[1] for k in first_row]},
        )
        for r in result:
            check.row_error(
                first_row[(r.customer_id, r.name)],
                "name",
                _("this customer already has a contact named {name!r}"),
                name=r.name,
            )

    async def write() -> int:
        result = await _insert(
            conn,
            "INSERT INTO contacts (customer_id, name, email, position)"
            " SELECT * FROM unnest(CAST(:customer_id AS bigint[]), CAST(:name AS text[]),"
            " CAST(:email AS text[]), CAST(:position AS text[]))"
            " RETURNING id, customer_id, name",
            _columns([r for r, _ in records]),
        )
        ids = {(row.customer_id, row.name): row.id for row in result}
        await _insert_phones(
            conn,
            "contact_id",
            [
                (ids[(r["customer_id"], r["name"])], number, raw)
                for r, ps in records
                for number, raw in ps
            ],
        )
        return len(records)

    return write


async def _import_receivables(
    conn: AsyncConnection, rows: Rows, check: RowChecker
) -> Callable[[], Awaitable[int]]:
    customers = await _customers_by_code(
        conn, {v["customer_code"] for _, v in rows.rows if v.get("customer_code")}
    )
    records: list[dict[str, Any]] = []
    first_row: dict[tuple[int, str], int] = {}
    for row, v in rows.rows:
        code = check.required(row, v, "customer_code")
        number = check.required(row, v, "invoice_number")
        due_raw = check.required(row, v, "due_on")
        amount_raw = check.required(row, v, "amount")
        due = check.day(row, "due_on", due_raw) if due_raw else None
        issued = check.day(row, "issued_on", v.get("issued_on", ""))
        amount = check.amount(row, amount_raw) if amount_raw else None
        if issued and due and issued > due:
            check.row_error(
                row, "issued_on", _("{issued} is after due_on"), issued=issued.isoformat()
            )
        customer = customers.get(code) if code else None
        if code and customer is None:
            check.row_error(row, "customer_code", _("there is no customer {code!r}"), code=code)
        if customer is None or number is None or due is None or amount is None:
            continue
        key = (customer[0], number)
        if key in first_row:
            check.row_error(
                row,
                "invoice_number",
                _("{number!r} of {code!r} is already on row {row}"),
                number=number,
                code=code,
                row=first_row[key],
            )
            continue
        first_row[key] = row
        records.append(
            {
                "customer_id": customer[0],
                "invoice_number": number,
                "issued_on": issued,
                "due_on": due,
                "amount": amount,
            }
        )
    if first_row:
        result = await conn.execute(
            sa.text(
                "SELECT r.customer_id, r.invoice_number FROM receivables r"
                " JOIN unnest(CAST(:ids AS bigint[]), CAST(:numbers AS text[])) AS n(id, number)"
                " ON r.customer_id = n.id AND r.invoice_number = n.number"
            ),
            {"ids": [k[0] for k in first_row], "numbers": [k[1] for k in first_row]},
        )
        for r in result:
            check.row_error(
                first_row[(r.customer_id, r.invoice_number)],
                "invoice_number",
                _("{number!r} is already in the database for this customer"),
                number=r.invoice_number,
            )

    async def write() -> int:
        await _insert(
            conn,
            "INSERT INTO receivables (customer_id, invoice_number, issued_on, due_on, amount)"
            " SELECT * FROM unnest(CAST(:customer_id AS bigint[]), CAST(:invoice_number AS text[]),"
            " CAST(:issued_on AS date[]), CAST(:due_on AS date[]), CAST(:amount AS numeric[]))",
            _columns(records),
        )
        return len(records)

    return write


async def _import_leads(
    conn: AsyncConnection, rows: Rows, check: RowChecker, campaign_id: int
) -> Callable[[], Awaitable[int]]:
    customers = await _customers_by_code(
        conn, {v["customer_code"] for _, v in rows.rows if v.get("customer_code")}
    )
    records: list[dict[str, Any]] = []
    first_row: dict[str, int] = {}
    for row, v in rows.rows:
        code = v.get("customer_code", "")
        customer = customers.get(code) if code else None
        if code and customer is None:
            check.row_error(row, "customer_code", _("there is no customer {code!r}"), code=code)
        raw_phone = check.required(row, v, "phone")
        phone = (
            check.phone(row, "phone", raw_phone, (customer and customer[1]) or check.region)
            if raw_phone
            else None
        )
        zone = check.zone(row, v.get("timezone", ""))
        priority = check.integer(row, "priority", v.get("priority", ""))
        if phone is None or priority is None or (code and customer is None):
            continue
        if phone in first_row:
            check.row_error(
                row,
                "phone",
                _("{phone} is already on row {row}"),
                phone=phone,
                row=first_row[phone],
            )
            continue
        first_row[phone] = row
        if not v.get("timezone"):
            zone = zone_of_phone(phone) or (customer[2] if customer else None)
        records.append(
            {
                "phone": phone,
                "name": v.get("name") or None,
                "timezone": zone,
                "customer_id": customer[0] if customer else None,
                "priority": priority,
            }
        )
    if first_row:
        result = await conn.execute(
            sa.text(
                "SELECT phone FROM leads WHERE campaign_id = :campaign"
                " AND phone = ANY(CAST(:phones AS text[]))"
            ),
            {"campaign": campaign_id, "phones": list(first_row)},
        )
        for r in result:
            check.row_error(
                first_row[r.phone], "phone", _("{phone} is already in this campaign"), phone=r.phone
            )

    async def write() -> int:
        await _insert(
            conn,
            "INSERT INTO leads (campaign_id, phone, name, timezone, customer_id, priority)"
            " SELECT CAST(:campaign AS bigint), * FROM unnest(CAST(:phone AS text[]),"
            " CAST(:name AS text[]), CAST(:timezone AS text[]), CAST(:customer_id AS bigint[]),"
            " CAST(:priority AS integer[]))",
            {"campaign": campaign_id, **_columns(records)},
        )
        return len(records)

    return write


async def import_csv(
    db: Database,
    kind: ImportKind,
    path: Path | str,
    *,
    region: str,
    campaign: str | None = None,
    actor: str | None = None,
    assumed: list[str] | None = None,
) -> int:
    """Store every row of the CSV file ``path`` as ``kind``; return how many rows were stored.

    ``region`` reads phone numbers written without a country code; ``campaign`` names the campaign
    leads are added to (leads only). The import is written to the audit log as ``import.<kind>``.
    ``assumed`` (a list) gets what the import assumed that a person should know: the decimal mark
    its amounts were read with (a dot or a comma: both are accepted).

    Raises:
        ImportRejected: at least one bad row; every bad row is listed and nothing is stored.
        UserInputError: an unknown kind, a missing or unknown campaign, an unreadable file.
    """
    region = check_import(kind, region, campaign)
    path = Path(path)
    rows = parse(path, _read_text(path), kind)
    check = RowChecker(region)
    check.errors.extend(rows.errors)
    async with db.engine.begin() as conn:
        if kind == "leads":
            campaign_id = (
                await conn.execute(
                    sa.text("SELECT id FROM campaigns WHERE name = :name"), {"name": campaign}
                )
            ).scalar_one_or_none()
            if campaign_id is None:
                raise UserInputError(
                    "campaign", _("there is no campaign {campaign!r}"), campaign=campaign
                )
            write = await _import_leads(conn, rows, check, campaign_id)
        elif kind == "customers":
            write = await _import_customers(conn, rows, check)
        elif kind == "contacts":
            write = await _import_contacts(conn, rows, check)
        else:
            write = await _import_receivables(conn, rows, check)
        if check.errors:
            raise ImportRejected(path, check.errors)
        try:
            stored = await write()
        except IntegrityError as exc:
            # Another writer stored the same keys between our checks and our insert.
            raise ImportRejected(
                path,
                [
                    RowError(
                        1,
                        "file",
                        Words(_("the database changed while importing; nothing stored, retry")),
                    )
                ],
            ) from exc
        await conn.execute(
            sa.insert(AuditEvent).values(
                actor=actor,
                action=f"import.{kind}",
                subject=path.name,
                details={"rows": stored, "campaign": campaign},
            )
        )
    if assumed is not None and check.decimal_marks:
        marks = " and ".join(f"'{m}'" for m in sorted(check.decimal_marks))
        assumed.append(f"amounts read with {marks} as the decimal mark")
    return stored


__all__ = [
    "COLUMNS",
    "KINDS",
    "ImportKind",
    "ImportRejected",
    "RowError",
    "import_csv",
]
