"""CSV imports: good files are stored, a file with any bad row is rejected whole."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from cti.db.engine import Database
from cti.db.imports import ImportRejected, import_csv
from cti.db.models import AuditEvent, Campaign, Contact, Customer, Lead, Phone, Receivable
from cti.domain.model import CampaignKind, CampaignMode
from cti.errors import UserInputError

CUSTOMERS = """code,name,tax_id,phones,email,address,region,timezone
C1,Acme Supplies,12-3456789,(202) 555-0101 | 202-555-0102,info@acme.example,1 Main St,,
C2,Padaria São Jorge,,011 95555-0102,,,BR,America/Sao_Paulo
C3,Sin Teléfono,,,,,MX,
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def _counts(db: Database) -> dict[str, int]:
    out = {}
    async with db.sessions() as s:
        for model in (Customer, Contact, Phone, Receivable, Lead, AuditEvent):
            out[model.__tablename__] = (
                await s.execute(sa.select(sa.func.count()).select_from(model))
            ).scalar_one()
    return out


@pytest.fixture
async def customers(db: Database, tmp_path: Path) -> Database:
    stored = await import_csv(db, "customers", _write(tmp_path, "c.csv", CUSTOMERS), region="US")
    assert stored == 3
    return db


async def test_customers_are_stored_with_normalised_phones(
    customers: Database, tmp_path: Path
) -> None:
    async with customers.sessions() as s:
        acme = (await s.execute(sa.select(Customer).where(Customer.code == "C1"))).scalar_one()
        assert (acme.name, acme.region, acme.tax_id) == ("Acme Supplies", "US", "12-3456789")
        phones = set(
            (await s.execute(sa.select(Phone.phone).where(Phone.customer_id == acme.id))).scalars()
        )
        assert phones == {"+12025550101", "+12025550102"}
        # A Brazilian number written without country code is read in the row's region.
        owner = (
            await s.execute(sa.select(Phone.customer_id).where(Phone.phone == "+5511955550102"))
        ).scalar_one()
        padaria = await s.get(Customer, owner)
        assert padaria is not None and padaria.timezone == "America/Sao_Paulo"
        audit = (
            await s.execute(sa.select(AuditEvent).where(AuditEvent.action == "import.customers"))
        ).scalar_one()
        assert audit.details["rows"] == 3


async def test_contacts_receivables_and_leads(customers: Database, tmp_path: Path) -> None:
    db = customers
    contacts = _write(
        tmp_path,
        "contacts.csv",
        "customer_code;name;phones;email;position\n"
        "C1;Laura Smith;202 555 0111;laura@acme.example;Buyer\n"
        "C2;João Pereira;(11) 95555-0112;;\n",
    )
    assert await import_csv(db, "contacts", contacts, region="US") == 2
    receivables = _write(
        tmp_path,
        "r.csv",
        "Customer_Code,Invoice_Number,Issued_On,Due_On,Amount\n"
        "C1,F-1,2025-11-01,2025-12-01,1234.50\n"
        "C1,F-2,,2025-12-15,10\n"
        "C2,F-1,,2025-10-01,99.99\n",
    )
    assert await import_csv(db, "receivables", receivables, region="US") == 3
    async with db.sessions.begin() as s:
        s.add(
            Campaign(
                name="Spring", kind=CampaignKind.TELESALES, mode=CampaignMode.PREVIEW, queue="q"
            )
        )
    leads = _write(
        tmp_path,
        "l.csv",
        "phone,name,customer_code,timezone,priority\n"
        "+1 202 555 0199,Somebody,,,2\n"
        "(202) 555-0101,Acme,C1,,\n"
        "+5511955550177,Brasil,,America/Sao_Paulo,\n",
    )
    assert await import_csv(db, "leads", leads, region="US", campaign="Spring") == 3
    async with db.sessions() as s:
        laura = (
            await s.execute(sa.select(Contact).where(Contact.name == "Laura Smith"))
        ).scalar_one()
        assert laura.position == "Buyer"
        assert (
            await s.execute(sa.select(Phone.contact_id).where(Phone.phone == "+12025550111"))
        ).scalar_one() == laura.id
        joao_phone = (
            await s.execute(
                sa.select(Phone.phone).join(Contact).where(Contact.name == "João Pereira")
            )
        ).scalar_one()
        assert joao_phone == "+5511955550112"  # read in the customer's region, BR
        f1 = (
            await s.execute(
                sa.select(Receivable)
                .join(Customer)
                .where(Customer.code == "C1", Receivable.invoice_number == "F-1")
            )
        ).scalar_one()
        assert (f1.amount, f1.due_on, f1.issued_on) == (
            Decimal("1234.50"),
            date(2025, 12, 1),
            date(2025, 11, 1),
        )
        leads_by_phone = {lead.phone: lead for lead in (await s.execute(sa.select(Lead))).scalars()}
        assert set(leads_by_phone) == {"+12025550199", "+12025550101", "+5511955550177"}
        assert leads_by_phone["+12025550199"].timezone == "America/New_York"
        assert leads_by_phone["+12025550199"].priority == 2
        assert leads_by_phone["+12025550101"].customer_id is not None
        assert leads_by_phone["+5511955550177"].timezone == "America/Sao_Paulo"


async def test_a_file_with_bad_rows_is_rejected_whole(customers: Database, tmp_path: Path) -> None:
    db = customers
    before = await _counts(db)
    bad = _write(
        tmp_path,
        "bad.csv",
        "code,name,phones,email,timezone\n"
        "N1,Fine Row,202 555 0150,,\n"  # row 2: good, yet not stored
        "N2,,,,\n"  # row 3: no name
        "N3,Bad Phone,call me,,\n"  # row 4
        "N4,Bad Zone,,,Mars/Olympus\n"  # row 5
        "N1,Twice,,,\n"  # row 6: duplicate of row 2
        "C1,Exists,,,\n"  # row 7: already in the database
        "\n"  # row 8: blank, skipped
        "N5,Bad Mail,,not-an-email,\n",  # row 9
    )
    with pytest.raises(ImportRejected) as info:
        await import_csv(db, "customers", bad, region="US")
    got = [(e.row, e.field) for e in info.value.errors]
    assert got == [
        (3, "name"),
        (4, "phones"),
        (5, "timezone"),
        (6, "code"),
        (7, "code"),
        (9, "email"),
    ]
    reasons = {e.row: e.reason for e in info.value.errors}
    assert "row 2" in reasons[6]
    assert "already exists" in reasons[7]
    assert "'call me'" in reasons[4]
    assert await _counts(db) == before


async def test_bad_receivables_are_each_named(customers: Database, tmp_path: Path) -> None:
    db = customers
    before = await _counts(db)
    bad = _write(
        tmp_path,
        "r.csv",
        "customer_code,invoice_number,due_on,amount,issued_on\n"
        "C1,F-1,2025-12-01,100,\n"
        "C9,F-2,2025-12-01,100,\n"  # row 3: unknown customer
        "C1,F-3,01/12/2025,100,\n"  # row 4: not ISO
        "C1,F-4,2025-12-01,0,\n"  # row 5: zero
        'C1,F-5,2025-12-01,"1.234,567",\n'  # row 6: three decimals (comma decimals)
        "C1,F-1,2025-12-02,5,\n"  # row 7: duplicate invoice
        "C1,F-6,2025-12-01,5,2025-12-31\n",  # row 8: issued after due
    )
    with pytest.raises(ImportRejected) as info:
        await import_csv(db, "receivables", bad, region="US")
    assert [(e.row, e.field) for e in info.value.errors] == [
        (3, "customer_code"),
        (4, "due_on"),
        (5, "amount"),
        (6, "amount"),
        (7, "invoice_number"),
        (8, "issued_on"),
    ]
    assert await _counts(db) == before


async def test_amounts_written_with_a_decimal_comma_are_read_and_the_mark_is_said(
    customers: Database, tmp_path: Path
) -> None:
    db = customers
    # As Excel saves a sheet in Portuguese or Spanish: semicolons, and commas for decimals.
    sheet = _write(
        tmp_path,
        "r.csv",
        "Customer_Code;Invoice_Number;Due_On;Amount\nC1;F-7;2025-12-01;1.234,56\nC2;F-8;2025-12-02;99\n",
    )
    assumed: list[str] = []
    assert await import_csv(db, "receivables", sheet, region="BR", assumed=assumed) == 2
    assert assumed == ["amounts read with ',' as the decimal mark"]
    async with db.sessions() as s:
        amounts = dict(
            (await s.execute(sa.select(Receivable.invoice_number, Receivable.amount))).all()
        )
    assert amounts["F-7"] == Decimal("1234.56") and amounts["F-8"] == Decimal("99")


async def test_header_mistakes_are_reported_on_row_one(db: Database, tmp_path: Path) -> None:
    bad = _write(tmp_path, "h.csv", "code,nmae,phones\nC1,Acme,\n")
    with pytest.raises(ImportRejected) as info:
        await import_csv(db, "customers", bad, region="US")
    assert {(e.row, e.field) for e in info.value.errors} == {(1, "nmae"), (1, "name")}
    empty = _write(tmp_path, "e.csv", "")
    with pytest.raises(ImportRejected):
        await import_csv(db, "customers", empty, region="US")


async def test_leads_need_an_existing_campaign_and_unique_phones(
    db: Database, tmp_path: Path
) -> None:
    leads = _write(tmp_path, "l.csv", "phone\n202 555 0101\n+1 (202) 555-0101\n")
    with pytest.raises(UserInputError) as info:
        await import_csv(db, "leads", leads, region="US")
    assert info.value.field == "campaign"
    with pytest.raises(UserInputError):
        await import_csv(db, "leads", leads, region="US", campaign="Nope")
    async with db.sessions.begin() as s:
        s.add(
            Campaign(name="C", kind=CampaignKind.COLLECTION, mode=CampaignMode.PREVIEW, queue="q")
        )
    with pytest.raises(ImportRejected) as rejected:
        await import_csv(db, "leads", leads, region="US", campaign="C")
    assert [(e.row, e.field) for e in rejected.value.errors] == [(3, "phone")]
    assert "+12025550101" in rejected.value.errors[0].reason


async def test_a_file_that_is_not_utf8_is_rejected(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("code,name\nC1,Açúcar\n".encode("latin-1"))
    with pytest.raises(ImportRejected) as info:
        await import_csv(db, "customers", path, region="US")
    assert info.value.errors[0].row == 2
