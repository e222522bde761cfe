"""Collection's rules for promises to pay, instalment plans and payments, as pure functions.

The repository (:mod:`cti.db.backoffice.collection`) reads the customer's invoices and the rows
named in a request, hands them here, and writes what these functions allow. The financial
position itself (:func:`cti.domain.backoffice.position`) and when a promise or plan is broken
live in :mod:`cti.domain.backoffice`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from cti.domain.amounts import CENT, Amount, positive_cents, to_decimal
from cti.domain.backoffice import Invoice, Position, promise_is_broken, split_instalments
from cti.domain.model import PromiseStatus
from cti.domain.texts import _
from cti.errors import Refused, UserInputError


def check_promise(
    amount: Decimal,
    promised_on: date,
    *,
    today: date,
    debt: Position,
    customer_id: int,
    invoice: Invoice | None = None,
) -> Decimal:
    """The amount of a new promise to pay, if the customer may promise it.

    A promise is for a positive amount in cents, on a day not in the past, by a customer who owes
    something; tied to an ``invoice``, that invoice must be the customer's, unpaid and at least
    the amount; otherwise the amount may not pass the open debt (``debt.open_amount``).
    """
    positive_cents(amount, "amount")
    if promised_on < today:
        raise UserInputError("promised_on", _("a promise to pay cannot be in the past"))
    if debt.open_amount <= 0:
        raise UserInputError("customer_id", _("the customer owes nothing"))
    if invoice is not None:
        if invoice.customer_id != customer_id:
            raise UserInputError("receivable_id", _("that invoice is another customer's"))
        if invoice.paid:
            raise UserInputError("receivable_id", _("that invoice is paid"))
        if amount > invoice.amount:
            raise UserInputError(
                "amount",
                _("more than the invoice ({amount})"),
                amount=invoice.amount.quantize(CENT),
            )
    elif amount > debt.open_amount:
        raise UserInputError(
            "amount",
            _("more than the open debt ({amount})"),
            amount=debt.open_amount.quantize(CENT),
        )
    return amount


def settle_promise(status: PromiseStatus, *, kept: bool) -> PromiseStatus:
    """The state an open promise takes when marked kept or broken; a settled one stays settled."""
    if status is not PromiseStatus.OPEN:
        raise Refused(_("the promise is already {value}"), "status", value=status.value)
    return PromiseStatus.KEPT if kept else PromiseStatus.BROKEN


def promise_outcome(
    status: PromiseStatus, promised_on: date, today: date, *, invoice_paid: bool
) -> PromiseStatus:
    """What the day's check makes of a promise: an open one tied to an invoice now paid is kept,
    one whose day passed unpaid is broken (:func:`~cti.domain.backoffice.promise_is_broken`);
    otherwise it is as it was."""
    if status is not PromiseStatus.OPEN:
        return status
    if invoice_paid:
        return PromiseStatus.KEPT
    if promise_is_broken(status, promised_on, today):
        return PromiseStatus.BROKEN
    return status


def plan_instalments(
    *,
    today: date,
    debt: Position,
    instalments: Sequence[tuple[date, Amount]] | None = None,
    total: Amount | None = None,
    count: int | None = None,
    first_due_on: date | None = None,
    every_days: int = 30,
) -> list[tuple[date, Decimal]]:
    """A negotiated plan's instalments (due date, amount), checked.

    Either explicit ``instalments`` (amounts as the form sent them), or ``total`` split in
    ``count`` instalments ``every_days`` apart from ``first_due_on``. Each amount is positive in
    cents, no due date is in the past, the dates go forward, and the plan does not pass the open
    debt.
    """
    if instalments:
        parts = [
            (due, to_decimal(amount, f"instalments[{n}].amount"))
            for n, (due, amount) in enumerate(instalments)
        ]
    elif total is not None and count is not None and first_due_on is not None:
        parts = split_instalments(to_decimal(total, "total"), count, first_due_on, every_days)
    else:
        raise UserInputError(
            "instalments", _("give the instalments, or total, count and first_due_on")
        )
    for n, (due, amount) in enumerate(parts):
        positive_cents(amount, f"instalments[{n}].amount")
        if due < today:
            raise UserInputError(f"instalments[{n}].due_on", _("is in the past"))
    dues = [d for d, _ in parts]
    if dues != sorted(dues):
        raise UserInputError("instalments", _("the due dates must go forward"))
    plan_total = sum((a for _, a in parts), Decimal(0))
    if plan_total > debt.open_amount:
        raise UserInputError(
            "instalments",
            _("the plan ({plan}) is more than the open debt ({debt})"),
            plan=plan_total.quantize(CENT),
            debt=debt.open_amount.quantize(CENT),
        )
    return parts


def check_instalment_unpaid(seq: int, *, paid: bool) -> None:
    """An instalment is paid once."""
    if paid:
        raise Refused(_("instalment {seq} is already paid"), "seq", seq=seq)


def check_invoice_unpaid(invoice_number: str, *, paid: bool) -> None:
    """An invoice is paid once."""
    if paid:
        raise Refused(
            _("invoice {invoice_number} is already paid"), "paid", invoice_number=invoice_number
        )


__all__ = [
    "check_instalment_unpaid",
    "check_invoice_unpaid",
    "check_promise",
    "plan_instalments",
    "promise_outcome",
    "settle_promise",
]
