"""Collection's rules (cti.domain.collection), with literal values: no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cti.domain.backoffice import Invoice, Position, position
from cti.domain.collection import (
    check_instalment_unpaid,
    check_invoice_unpaid,
    check_promise,
    plan_instalments,
    promise_outcome,
    settle_promise,
)
from cti.domain.model import PromiseStatus
from cti.errors import Refused, UserInputError

TODAY = date(2026, 3, 10)
# Customer 7 owes 100.00 overdue and 50.00 not yet due; 30.00 is paid.
MINE = Invoice(1, "NF-1", date(2026, 2, 1), Decimal("100.00"), False, 7)
LATER = Invoice(2, "NF-2", date(2026, 4, 1), Decimal("50.00"), False, 7)
PAID = Invoice(3, "NF-3", date(2026, 1, 1), Decimal("30.00"), True, 7)
THEIRS = Invoice(4, "NF-4", date(2026, 2, 1), Decimal("80.00"), False, 8)
DEBT = position([MINE, LATER, PAID], TODAY)
NOTHING_OWED = position([PAID], TODAY)


def _promise(
    amount: str,
    *,
    promised_on: date = TODAY,
    debt: Position = DEBT,
    invoice: Invoice | None = None,
) -> Decimal:
    """Customer 7 promises ``amount`` on ``promised_on``."""
    return check_promise(
        Decimal(amount), promised_on, today=TODAY, debt=debt, customer_id=7, invoice=invoice
    )


def _field(exc: pytest.ExceptionInfo[UserInputError]) -> str:
    return exc.value.field


def test_a_promise_within_the_open_debt_is_taken() -> None:
    assert DEBT.open_amount == Decimal("150.00")
    assert _promise("150.00") == Decimal("150.00")
    assert _promise("40.00", invoice=MINE, promised_on=date(2026, 3, 20)) == Decimal("40.00")


@pytest.mark.parametrize("amount", ["0", "-5.00", "10.005"])
def test_a_promise_is_for_a_positive_amount_in_cents(amount: str) -> None:
    with pytest.raises(UserInputError, match="more than 0, in cents") as exc:
        _promise(amount)
    assert _field(exc) == "amount"


def test_a_promise_cannot_be_in_the_past() -> None:
    with pytest.raises(UserInputError, match="cannot be in the past") as exc:
        _promise("10.00", promised_on=date(2026, 3, 9))
    assert _field(exc) == "promised_on"


def test_a_customer_who_owes_nothing_promises_nothing() -> None:
    with pytest.raises(UserInputError, match="owes nothing") as exc:
        _promise("10.00", debt=NOTHING_OWED)
    assert _field(exc) == "customer_id"


def test_a_promise_may_not_pass_the_open_debt() -> None:
    with pytest.raises(UserInputError, match=r"more than the open debt \(150.00\)") as exc:
        _promise("150.01")
    assert _field(exc) == "amount"


def test_a_promise_tied_to_an_invoice_is_the_customers_unpaid_invoice_at_most() -> None:
    with pytest.raises(UserInputError, match="another customer's") as exc:
        _promise("10.00", invoice=THEIRS)
    assert _field(exc) == "receivable_id"
    with pytest.raises(UserInputError, match="that invoice is paid"):
        _promise("10.00", invoice=PAID)
    with pytest.raises(UserInputError, match=r"more than the invoice \(100.00\)") as exc:
        _promise("100.01", invoice=MINE)
    assert _field(exc) == "amount"


def test_a_promise_is_settled_once() -> None:
    assert settle_promise(PromiseStatus.OPEN, kept=True) is PromiseStatus.KEPT
    assert settle_promise(PromiseStatus.OPEN, kept=False) is PromiseStatus.BROKEN
    for done in (PromiseStatus.KEPT, PromiseStatus.BROKEN):
        with pytest.raises(Refused, match=f"already {done.value}") as exc:
            settle_promise(done, kept=True)
        assert exc.value.field == "status"


def test_the_days_check_keeps_paid_promises_and_breaks_passed_ones() -> None:
    day = date(2026, 3, 9)
    assert promise_outcome(PromiseStatus.OPEN, day, TODAY, invoice_paid=True) is PromiseStatus.KEPT
    assert (
        promise_outcome(PromiseStatus.OPEN, day, TODAY, invoice_paid=False) is PromiseStatus.BROKEN
    )
    assert promise_outcome(PromiseStatus.OPEN, TODAY, TODAY, invoice_paid=False) is (
        PromiseStatus.OPEN
    )
    assert promise_outcome(PromiseStatus.KEPT, day, TODAY, invoice_paid=False) is (
        PromiseStatus.KEPT
    )


def test_a_plan_splits_a_total_or_takes_explicit_instalments() -> None:
    split = plan_instalments(
        today=TODAY, debt=DEBT, total="100.00", count=3, first_due_on=date(2026, 3, 15)
    )
    assert split == [
        (date(2026, 3, 15), Decimal("33.33")),
        (date(2026, 4, 14), Decimal("33.33")),
        (date(2026, 5, 14), Decimal("33.34")),
    ]
    given = plan_instalments(
        today=TODAY, debt=DEBT, instalments=[(date(2026, 3, 20), "60"), (date(2026, 4, 20), 40)]
    )
    assert given == [(date(2026, 3, 20), Decimal("60")), (date(2026, 4, 20), Decimal("40"))]


def test_a_plan_needs_instalments_or_a_total_to_split() -> None:
    with pytest.raises(UserInputError, match="give the instalments") as exc:
        plan_instalments(today=TODAY, debt=DEBT, total="100.00", count=3)
    assert _field(exc) == "instalments"


def test_each_instalment_is_positive_in_cents_and_not_past() -> None:
    with pytest.raises(UserInputError, match="more than 0, in cents") as exc:
        plan_instalments(today=TODAY, debt=DEBT, instalments=[(date(2026, 3, 20), "0.001")])
    assert _field(exc) == "instalments[0].amount"
    with pytest.raises(UserInputError, match="in the past") as exc:
        plan_instalments(
            today=TODAY,
            debt=DEBT,
            instalments=[(date(2026, 3, 20), "10"), (date(2026, 3, 1), "10")],
        )
    assert _field(exc) == "instalments[1].due_on"
    with pytest.raises(UserInputError, match="expected a number") as exc:
        plan_instalments(today=TODAY, debt=DEBT, instalments=[(date(2026, 3, 20), "ten")])
    assert _field(exc) == "instalments[0].amount"


def test_the_due_dates_of_a_plan_go_forward() -> None:
    with pytest.raises(UserInputError, match="must go forward"):
        plan_instalments(
            today=TODAY,
            debt=DEBT,
            instalments=[(date(2026, 4, 20), "10"), (date(2026, 3, 20), "10")],
        )


def test_a_plan_may_not_pass_the_open_debt() -> None:
    with pytest.raises(UserInputError, match=r"the plan \(150.01\) is more than the open debt"):
        plan_instalments(
            today=TODAY,
            debt=DEBT,
            instalments=[(date(2026, 3, 20), "100"), (date(2026, 4, 20), "50.01")],
        )


def test_an_instalment_and_an_invoice_are_paid_once() -> None:
    check_instalment_unpaid(2, paid=False)
    with pytest.raises(Refused, match="instalment 2 is already paid") as exc:
        check_instalment_unpaid(2, paid=True)
    assert exc.value.field == "seq"
    check_invoice_unpaid("NF-1", paid=False)
    with pytest.raises(Refused, match="invoice NF-1 is already paid"):
        check_invoice_unpaid("NF-1", paid=True)
