"""The back office's rules as pure functions: no I/O, fed with plain values, easy to test.

* personal data (LGPD/GDPR): which fields are personal and how each kind is masked;
* telesales: whether an order may still be changed (the seeds' MV_ALTPED) and which fields;
* collection: the financial position (overdue invoices, days overdue, totals), instalment splits,
  when a promise or a plan is broken;
* cases: the state table and the balancing suggestion for (re)assignment;
* incoming-call messages (seed 004): the *from* rule, the default situation, finalization;
* suspects (MV_TMKDACH): what happens to a converted suspect;
* required fields per form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from cti.domain.model import CaseStatus, PromiseStatus, Routine, SuspectPolicy
from cti.errors import UserInputError

# --- personal data ---------------------------------------------------------------------------


class PersonalKind(StrEnum):
    """How a personal field is masked."""

    NAME = "name"
    PHONE = "phone"
    TAX_ID = "tax_id"
    EMAIL = "email"
    ADDRESS = "address"


MASK = "*"

FieldSpec = Mapping[str, "PersonalKind | FieldSpec"]
"""Which keys of a record are personal: a kind, or for a nested record (or list of them) a spec."""

# The personal fields of each kind of record, by field name.
CUSTOMER_FIELDS: Mapping[str, PersonalKind] = {
    "name": PersonalKind.NAME,
    "tax_id": PersonalKind.TAX_ID,
    "email": PersonalKind.EMAIL,
    "address": PersonalKind.ADDRESS,
}
CONTACT_FIELDS: Mapping[str, PersonalKind] = {
    "name": PersonalKind.NAME,
    "email": PersonalKind.EMAIL,
}
LEAD_FIELDS: Mapping[str, PersonalKind] = CUSTOMER_FIELDS  # suspects and prospects
PHONE_FIELDS: Mapping[str, PersonalKind] = {"phone": PersonalKind.PHONE, "raw": PersonalKind.PHONE}
MESSAGE_FIELDS: Mapping[str, PersonalKind] = {
    "from_phone": PersonalKind.PHONE,
    "from_tax_id": PersonalKind.TAX_ID,
}
# Whole records as the API shows them: a customer with its phones and contacts, a lead, a message.
CUSTOMER_SPEC: FieldSpec = {
    **CUSTOMER_FIELDS,
    "phones": PHONE_FIELDS,
    "contacts": {**CONTACT_FIELDS, "phones": PHONE_FIELDS},
}
LEAD_SPEC: FieldSpec = {**LEAD_FIELDS, "phones": PHONE_FIELDS}
MESSAGE_SPEC: FieldSpec = {
    **MESSAGE_FIELDS,
    "customer": {"name": PersonalKind.NAME},
    "contact": {"name": PersonalKind.NAME},
}


def _mask_word(word: str) -> str:
    keep = min(3, max(1, len(word) // 2)) if len(word) > 1 else 0
    return word[:keep] + MASK * (len(word) - keep)


def mask_name(value: str) -> str:
    """``Maria Silva`` → ``Ma*** Si***``: each word keeps its first half."""
    return " ".join(_mask_word(w) for w in value.split(" "))


def mask_digits(value: str, *, head: int, tail: int) -> str:
    """Mask every digit but the first ``head`` and the last ``tail``; keep the punctuation."""
    digits = sum(ch.isdigit() for ch in value)
    head = max(0, min(head, digits - tail - 2))
    out: list[str] = []
    seen = 0
    for ch in value:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen <= head or seen > digits - tail else MASK)
        else:
            out.append(ch)
    return "".join(out)


def mask_phone(value: str) -> str:
    """``+55 11 91234-5678`` → ``+55 11 9****-**78``: country, area and first digit, last two."""
    return mask_digits(value, head=5, tail=2)


def mask_tax_id(value: str) -> str:
    """``123.456.789-09`` → ``12*.***.***-09``."""
    return mask_digits(value, head=2, tail=2)


def mask_email(value: str) -> str:
    """``maria.silva@example.com`` → ``mar********@exa****.com``."""
    local, at, domain = value.partition("@")
    if not at:
        return _mask_word(value)
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{_mask_word(host)}{dot}{tld}" if dot else _mask_word(domain)
    return f"{_mask_word(local)}@{masked_domain}"


def mask_address(value: str) -> str:
    """Keep the first word (``Rua``, ``Av.``); each further word keeps one character."""
    words = value.split(" ")
    rest = [w[:1] + MASK * (len(w) - 1) for w in words[1:]]
    return " ".join([words[0], *rest])


_MASKERS = {
    PersonalKind.NAME: mask_name,
    PersonalKind.PHONE: mask_phone,
    PersonalKind.TAX_ID: mask_tax_id,
    PersonalKind.EMAIL: mask_email,
    PersonalKind.ADDRESS: mask_address,
}


def mask(kind: PersonalKind, value: str | None) -> str | None:
    """``value`` masked as a ``kind`` (None stays None)."""
    if value is None or value == "":
        return value
    return _MASKERS[kind](value)


def mask_record(record: Mapping[str, object], fields: FieldSpec) -> dict[str, object]:
    """A copy of ``record`` with its personal ``fields`` masked (other keys untouched).

    A field whose spec is itself a mapping holds a nested record or a list of them (a customer's
    phones, contacts); those are masked the same way.
    """
    out = dict(record)
    for name, spec in fields.items():
        value = out.get(name)
        if isinstance(spec, PersonalKind):
            if isinstance(value, str):
                out[name] = mask(spec, value)
        elif isinstance(value, Mapping):
            out[name] = mask_record(value, spec)
        elif isinstance(value, list):
            out[name] = [mask_record(v, spec) if isinstance(v, Mapping) else v for v in value]
    return out


def personal_keys(record: Mapping[str, object], fields: FieldSpec, prefix: str = "") -> list[str]:
    """The personal fields that hold a value in ``record`` (dotted for nested ones), sorted."""
    found: set[str] = set()
    for name, spec in fields.items():
        value = record.get(name)
        if value in (None, "", []):
            continue
        if isinstance(spec, PersonalKind):
            found.add(prefix + name)
        elif isinstance(value, Mapping):
            found.update(personal_keys(value, spec, f"{prefix}{name}."))
        elif isinstance(value, list):
            for v in value:
                if isinstance(v, Mapping):
                    found.update(personal_keys(v, spec, f"{prefix}{name}."))
    return sorted(found)


# --- telesales: MV_ALTPED --------------------------------------------------------------------

ORDER_FIELDS = ("items", "cancelled")


@dataclass(frozen=True, slots=True)
class OrderLock:
    """Whether an order may be changed, and why not."""

    editable: bool
    reason: str | None

    def fields(self) -> dict[str, bool]:
        """Each editable field of the order form: True when the form may enable it."""
        return {name: self.editable for name in ORDER_FIELDS}


def order_lock(*, billed: bool, cancelled: bool, edit_billed_orders: bool) -> OrderLock:
    """May an order still be changed? Billed orders only with ``sales.edit_billed_orders`` on."""
    if cancelled:
        return OrderLock(False, "the order is cancelled")
    if billed and not edit_billed_orders:
        return OrderLock(
            False,
            "the order is billed; billed orders cannot be changed"
            " (setting sales.edit_billed_orders is off)",
        )
    return OrderLock(True, None)


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a quote or an order."""

    product_id: int
    quantity: Decimal
    unit_price: Decimal

    @property
    def total(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


# --- collection --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invoice:
    """A receivable as the financial position sees it."""

    id: int
    number: str
    due_on: date
    amount: Decimal
    paid: bool


@dataclass(frozen=True, slots=True)
class Position:
    """A customer's financial position on a day."""

    overdue: tuple[tuple[Invoice, int], ...]  # (invoice, days overdue), oldest first
    open_not_due: tuple[Invoice, ...]
    overdue_amount: Decimal
    open_amount: Decimal
    oldest_days: int

    @property
    def delinquent(self) -> bool:
        return bool(self.overdue)


def position(invoices: Iterable[Invoice], today: date) -> Position:
    """Overdue invoices (due before ``today``, unpaid) with their days overdue, and the totals."""
    unpaid = [i for i in invoices if not i.paid]
    overdue = sorted(
        ((i, (today - i.due_on).days) for i in unpaid if i.due_on < today),
        key=lambda pair: (-pair[1], pair[0].number),
    )
    not_due = tuple(sorted((i for i in unpaid if i.due_on >= today), key=lambda i: i.due_on))
    return Position(
        overdue=tuple(overdue),
        open_not_due=not_due,
        overdue_amount=sum((i.amount for i, _ in overdue), Decimal("0.00")),
        open_amount=sum((i.amount for i in unpaid), Decimal("0.00")),
        oldest_days=overdue[0][1] if overdue else 0,
    )


def promise_is_broken(status: PromiseStatus, promised_on: date, today: date) -> bool:
    """An open promise whose day has passed unpaid is broken."""
    return status is PromiseStatus.OPEN and promised_on < today


def plan_status(instalments: Sequence[tuple[date, bool]], today: date) -> PromiseStatus:
    """A plan is kept when every instalment is paid, broken when one fell due unpaid."""
    if any(not paid and due < today for due, paid in instalments):
        return PromiseStatus.BROKEN
    if instalments and all(paid for _, paid in instalments):
        return PromiseStatus.KEPT
    return PromiseStatus.OPEN


def split_instalments(
    total: Decimal, count: int, first_due: date, every_days: int
) -> list[tuple[date, Decimal]]:
    """``total`` in ``count`` instalments ``every_days`` apart; the last one takes the cents left."""
    if count < 1:
        raise UserInputError("count", "at least one instalment")
    if total <= 0:
        raise UserInputError("total", "must be more than 0")
    each = (total / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    if each <= 0:
        raise UserInputError("count", "too many instalments for this total")
    out = [(first_due + timedelta(days=every_days * k), each) for k in range(count)]
    last_due, _ = out[-1]
    out[-1] = (last_due, total - each * (count - 1))
    return out


# --- cases (seed 002) --------------------------------------------------------------------------

OPEN_CASE_STATES = frozenset(
    {CaseStatus.ACTIVE, CaseStatus.ASSIGNED, CaseStatus.SUSPENDED, CaseStatus.DELINQUENT}
)

# Which state may follow which (assignment itself moves active/delinquent-free cases to assigned).
CASE_TRANSITIONS: Mapping[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.ACTIVE: frozenset(
        {
            CaseStatus.ASSIGNED,
            CaseStatus.SUSPENDED,
            CaseStatus.CLOSED,
            CaseStatus.DELINQUENT,
            CaseStatus.WITHDRAWN,
        }
    ),
    CaseStatus.ASSIGNED: frozenset(
        {
            CaseStatus.ACTIVE,
            CaseStatus.SUSPENDED,
            CaseStatus.CLOSED,
            CaseStatus.DELINQUENT,
            CaseStatus.WITHDRAWN,
        }
    ),
    CaseStatus.SUSPENDED: frozenset(
        {CaseStatus.ACTIVE, CaseStatus.ASSIGNED, CaseStatus.CLOSED, CaseStatus.WITHDRAWN}
    ),
    CaseStatus.DELINQUENT: frozenset(
        {
            CaseStatus.ASSIGNED,
            CaseStatus.ACTIVE,
            CaseStatus.SUSPENDED,
            CaseStatus.CLOSED,
            CaseStatus.WITHDRAWN,
        }
    ),
    # Reopening a closed or withdrawn case makes it active again.
    CaseStatus.CLOSED: frozenset({CaseStatus.ACTIVE}),
    CaseStatus.WITHDRAWN: frozenset({CaseStatus.ACTIVE}),
}


def check_case_transition(old: CaseStatus, new: CaseStatus, *, has_assignee: bool) -> None:
    """Raise UserInputError on ``status`` when the table does not allow ``old`` → ``new``."""
    if old == new:
        return
    if new not in CASE_TRANSITIONS[old]:
        raise UserInputError("status", f"a {old.value} case cannot become {new.value}")
    if new is CaseStatus.ASSIGNED and not has_assignee:
        raise UserInputError("status", "assign the case to an operator to make it assigned")


# Open cases weigh by the work they bring: a delinquent case needs chasing, a suspended one waits.
CASE_WEIGHT: Mapping[CaseStatus, Decimal] = {
    CaseStatus.ACTIVE: Decimal("1.0"),
    CaseStatus.ASSIGNED: Decimal("1.0"),
    CaseStatus.DELINQUENT: Decimal("1.5"),
    CaseStatus.SUSPENDED: Decimal("0.25"),
}


@dataclass(frozen=True, slots=True)
class Candidate:
    """An operator who might take a case, with their open cases by state."""

    operator_id: int
    username: str
    routines: frozenset[Routine]
    open_cases: Mapping[CaseStatus, int]

    @property
    def load(self) -> Decimal:
        return sum(
            (CASE_WEIGHT.get(s, Decimal(0)) * n for s, n in self.open_cases.items()),
            Decimal(0),
        )


def rank_assignees(
    candidates: Iterable[Candidate], routine: Routine | None = None
) -> list[Candidate]:
    """Who should take the next case: the lightest weighted load first, among those with the routine.

    Ties go to fewer open cases in total, then to the user name (stable, predictable).
    """
    able = [c for c in candidates if routine is None or routine in c.routines]
    return sorted(able, key=lambda c: (c.load, sum(c.open_cases.values()), c.username))


# --- incoming-call messages (seed 004) -----------------------------------------------------------

FROM_FIELDS = (
    "from_customer_id",
    "from_contact_id",
    "from_phone",
    "from_tax_id",
    "from_serial",
    "from_code",
)


def check_from(values: Mapping[str, object]) -> None:
    """*From* names at least one of customer, contact, phone, tax id, product serial or code."""
    if not any(values.get(name) not in (None, "") for name in FROM_FIELDS):
        raise UserInputError(
            "from",
            "say who called: at least one of customer, contact, phone, tax id,"
            " product serial or code",
        )


def check_recipient(to_user_id: object, to_group_id: object) -> None:
    """*To* is a user or a group, exactly one."""
    if (to_user_id is None) == (to_group_id is None):
        raise UserInputError("to", "give either a user (to_user_id) or a group (to_group_id)")


def initial_situation(given: str | None, usual_pending: str | None) -> str:
    """The situation of a new message: the one given, else the one marked usual pending."""
    if given:
        return given
    if usual_pending is None:
        raise UserInputError(
            "situation_code",
            "is required: no situation is marked usual pending, so choose one",
        )
    return usual_pending


def finalizing_situation(chosen: str | None, situations: Mapping[str, bool]) -> str:
    """The non-pending situation a finalized message takes.

    ``situations`` maps each code to its *pending* flag. A chosen code must be non-pending; with
    none chosen, the first non-pending code (alphabetically) is used.
    """
    if chosen is not None:
        if chosen not in situations:
            raise UserInputError("situation_code", f"{chosen!r} is not a situation")
        if situations[chosen]:
            raise UserInputError(
                "situation_code", f"{chosen!r} is a pending situation; finalize with a closed one"
            )
        return chosen
    closed = sorted(code for code, pending in situations.items() if not pending)
    if not closed:
        raise UserInputError(
            "situation_code", "no non-pending situation is configured; an admin must add one"
        )
    return closed[0]


# --- suspects (MV_TMKDACH) -----------------------------------------------------------------------


class SuspectFate(StrEnum):
    """What a conversion does with the suspect."""

    DELETE = "delete"
    KEEP = "keep"
    ASK = "ask"  # nothing done yet: the operator must decide


def suspect_fate(policy: SuspectPolicy, delete: bool | None) -> SuspectFate:
    """The fate of a converted suspect under ``policy``, given the operator's answer (if any)."""
    if policy is SuspectPolicy.ASK:
        if delete is None:
            return SuspectFate.ASK
        return SuspectFate.DELETE if delete else SuspectFate.KEEP
    if delete is not None:
        raise UserInputError(
            "delete",
            f"the setting telemarketing.suspect_after_conversion is {policy.value}:"
            " the suspect's fate is not the operator's choice",
        )
    return SuspectFate.DELETE if policy is SuspectPolicy.DELETE else SuspectFate.KEEP


# --- required fields per form ---------------------------------------------------------------------

# The forms whose fields an admin may make mandatory, with the fields each has.
FORMS: Mapping[str, frozenset[str]] = {
    "attention": frozenset(
        {
            "customer_id",
            "contact_id",
            "phone",
            "closing_reason_id",
            "next_call_at",
            "subject",
            "product",
            "occurrence",
            "action",
            "owner_id",
            "action_date",
            "action_status",
        }
    ),
    "quote": frozenset({"attention_id", "valid_until"}),
    "order": frozenset({"attention_id", "quote_id"}),
    "promise": frozenset({"attention_id", "receivable_id"}),
    "plan": frozenset({"attention_id"}),
    "call_message": frozenset(
        {*FROM_FIELDS, "type_code", "to_user_id", "to_group_id"},
    ),
    "suspect": frozenset({"company", "tax_id", "email", "address", "region", "phone"}),
    "case": frozenset({"subject", "assignee_id"}),
}

_FIELD_RE = re.compile(r"^[a-z_]+$")


def check_form_fields(form: str, fields: Iterable[str]) -> list[str]:
    """The fields, sorted, if ``form`` is known and has them all; else UserInputError."""
    if form not in FORMS:
        raise UserInputError("form", f"{form!r} is not a form; one of {', '.join(sorted(FORMS))}")
    out = sorted(set(fields))
    for name in out:
        if not _FIELD_RE.match(name) or name not in FORMS[form]:
            raise UserInputError(
                "fields",
                f"{name!r} is not a field of the {form} form; one of "
                + ", ".join(sorted(FORMS[form])),
            )
    return out


# Fields of the attention form that only the telemarketing folder shows: an admin making one of
# them mandatory must not stop telesales or collection attentions from being saved.
TELEMARKETING_FIELDS = frozenset(
    {"subject", "product", "occurrence", "action", "owner_id", "action_date", "action_status"}
)


def check_required(form: str, required: Iterable[str], values: Mapping[str, object]) -> None:
    """Raise UserInputError naming the first required field of ``form`` left empty.

    On the attention form, telemarketing's own fields are required only of telemarketing
    attentions (``values["kind"]``).
    """
    wanted = set(required)
    kind = values.get("kind")
    if form == "attention" and kind is not None and str(kind) != "telemarketing":
        wanted -= TELEMARKETING_FIELDS
    for name in sorted(wanted):
        if values.get(name) in (None, "", []):
            raise UserInputError(name, f"is required on the {form} form")


__all__ = [
    "CASE_TRANSITIONS",
    "CASE_WEIGHT",
    "CONTACT_FIELDS",
    "CUSTOMER_FIELDS",
    "CUSTOMER_SPEC",
    "FORMS",
    "FROM_FIELDS",
    "LEAD_FIELDS",
    "LEAD_SPEC",
    "MESSAGE_FIELDS",
    "MESSAGE_SPEC",
    "OPEN_CASE_STATES",
    "ORDER_FIELDS",
    "PHONE_FIELDS",
    "Candidate",
    "FieldSpec",
    "Invoice",
    "Line",
    "OrderLock",
    "PersonalKind",
    "Position",
    "SuspectFate",
    "check_case_transition",
    "check_form_fields",
    "check_from",
    "check_recipient",
    "check_required",
    "finalizing_situation",
    "initial_situation",
    "mask",
    "mask_address",
    "mask_email",
    "mask_name",
    "mask_phone",
    "mask_record",
    "mask_tax_id",
    "order_lock",
    "personal_keys",
    "plan_status",
    "position",
    "promise_is_broken",
    "rank_assignees",
    "split_instalments",
    "suspect_fate",
]
