"""The back office's rules as pure functions: no I/O, fed with plain values, easy to test.

* personal data (LGPD/GDPR): which fields are personal and how each kind is masked;
* customer search: how long the text and how many answers;
* telesales: whether an order may still be changed (the seeds' MV_ALTPED) and which fields (the
  other sales rules: :mod:`cti.domain.sales`);
* collection: the financial position (overdue invoices, days overdue, totals), instalment splits,
  when a promise or a plan is broken (promises, plans and payments: :mod:`cti.domain.collection`);
* cases: the state table, who may take a case, and the balancing suggestion for (re)assignment;
* incoming-call messages (seed 004): the *from* rule, the default situation, finalization,
  postponing;
* suspects (MV_TMKDACH): what happens to a converted suspect, converted once;
* lists maintained by admins, and required fields per form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from cti.domain.model import AttentionKind, CaseStatus, PromiseStatus, Role, Routine, SuspectPolicy
from cti.domain.texts import _
from cti.errors import Refused, UserInputError

# --- personal data ---------------------------------------------------------------------------


class PersonalKind(StrEnum):
    """How a personal field is masked."""

    NAME = "name"
    PHONE = "phone"
    TAX_ID = "tax_id"
    EMAIL = "email"
    ADDRESS = "address"
    # A caller id's text: a name, or (as often in Asterisk's CallerIDName) a number.
    CALLER_ID = "caller_id"
    # An answer to a campaign script's question marked personal: hidden whole, so that neither
    # its length nor its shape (a "yes" or a "no", how many options) gives it away.
    ANSWER = "answer"


MASK = "*"
MASKED_ANSWER = MASK * 3

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
# A call's caller id as the PBX gave it (live calls, the call log, the desk's call and footer).
CALLER_FIELDS: Mapping[str, PersonalKind] = {
    "caller_num": PersonalKind.PHONE,
    "caller_name": PersonalKind.CALLER_ID,
}
# The lead a dialer call or a preview is about (DialerService.pop_for_call, preview next).
LEAD_POP_SPEC: FieldSpec = {"lead": {"name": PersonalKind.NAME, "phone": PersonalKind.PHONE}}
# The desk's screen-pop: the caller id, the number looked up, the person it matched (a customer,
# a contact or a lead: a subset of a customer's fields) and, for a dialer call, its lead.
POP_SPEC: FieldSpec = {
    **CALLER_FIELDS,
    "phone": PersonalKind.PHONE,
    "customer": CUSTOMER_FIELDS,
    "match": CUSTOMER_FIELDS,
    "campaign": LEAD_POP_SPEC,
}
# What cti believes about each PBX (``/api/v1/live``): the caller ids of waiting and live calls.
LIVE_CALL_SPEC: FieldSpec = {**CALLER_FIELDS, "channels": {"caller_num": PersonalKind.PHONE}}
LIVE_SPEC: FieldSpec = {"pbxs": {"queues": {"waiting": CALLER_FIELDS}, "calls": LIVE_CALL_SPEC}}
# The wallboard's frame: each agent's current call.
WALLBOARD_SPEC: FieldSpec = {"agents": {"call": CALLER_FIELDS}}
# The footer's last call: who called (name, else number) and the number.
FOOTER_SPEC: FieldSpec = {
    "last_call": {"caller": PersonalKind.CALLER_ID, "number": PersonalKind.PHONE}
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


def mask_caller_id(value: str) -> str:
    """A caller id's text: masked as a phone when it is mostly digits, else as a name."""
    digits = sum(ch.isdigit() for ch in value)
    letters = sum(ch.isalpha() for ch in value)
    return mask_phone(value) if digits >= letters else mask_name(value)


def mask_address(value: str) -> str:
    """Keep the first word (``Rua``, ``Av.``); each further word keeps one character."""
    words = value.split(" ")
    rest = [w[:1] + MASK * (len(w) - 1) for w in words[1:]]
    return " ".join([words[0], *rest])


def mask_answer(value: str) -> str:
    """Any answer → ``***``."""
    return MASKED_ANSWER


_MASKERS = {
    PersonalKind.NAME: mask_name,
    PersonalKind.PHONE: mask_phone,
    PersonalKind.TAX_ID: mask_tax_id,
    PersonalKind.EMAIL: mask_email,
    PersonalKind.ADDRESS: mask_address,
    PersonalKind.CALLER_ID: mask_caller_id,
    PersonalKind.ANSWER: mask_answer,
}


def mask(kind: PersonalKind, value: str | None) -> str | None:
    """``value`` masked as a ``kind`` (None stays None)."""
    if value is None or value == "":
        return value
    return _MASKERS[kind](value)


def mask_record(record: Mapping[str, object], fields: FieldSpec) -> dict[str, object]:
    """A copy of ``record`` with its personal ``fields`` masked (other keys untouched).

    A field whose spec is itself a mapping holds a nested record or a list of them (a customer's
    phones, contacts); those are masked the same way. A list under a kind (the options chosen
    in a several-of answer) is masked as one text.
    """
    out = dict(record)
    for name, spec in fields.items():
        value = out.get(name)
        if isinstance(spec, PersonalKind):
            if isinstance(value, str):
                out[name] = mask(spec, value)
            elif isinstance(value, list) and value:
                out[name] = mask(spec, ", ".join(str(v) for v in value))
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


# --- customer search -------------------------------------------------------------------------

MIN_QUERY = 2
MAX_QUERY = 100
MAX_LIMIT = 50


def check_query(query: str) -> str:
    """The search text trimmed; UserInputError naming ``q`` when too short or too long."""
    text = query.strip()
    if len(text) < MIN_QUERY:
        raise UserInputError("q", _("type at least {count} characters"), count=MIN_QUERY)
    if len(text) > MAX_QUERY:
        raise UserInputError("q", _("at most {count} characters"), count=MAX_QUERY)
    return text


def check_search_limit(limit: int) -> None:
    """A search shows 1 to :data:`MAX_LIMIT` customers."""
    if not 1 <= limit <= MAX_LIMIT:
        raise UserInputError("limit", _("must be between 1 and {limit}"), limit=MAX_LIMIT)


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
    customer_id: int | None = None


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
        raise UserInputError("count", _("at least one instalment"))
    if total <= 0:
        raise UserInputError("total", _("must be more than 0"))
    each = (total / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    if each <= 0:
        raise UserInputError("count", _("too many instalments for this total"))
    out = [(first_due + timedelta(days=every_days * k), each) for k in range(count)]
    last_due, _amount = out[-1]
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
        raise UserInputError(
            "status", _("a {old} case cannot become {new}"), old=old.value, new=new.value
        )
    if new is CaseStatus.ASSIGNED and not has_assignee:
        raise UserInputError("status", _("assign the case to an operator to make it assigned"))


def check_case_ids(case_ids: Sequence[int]) -> None:
    """An assignment names at least one case."""
    if not case_ids:
        raise UserInputError("case_ids", _("at least one case"))


def check_assignable(case_id: int, status: CaseStatus) -> None:
    """Only an open case is (re)assigned; a closed or withdrawn one is reopened first."""
    if status not in OPEN_CASE_STATES:
        raise Refused(
            _("case {case_id} is {value}; reopen it first"),
            "case_ids",
            case_id=case_id,
            value=status.value,
        )


def assigned_status(status: CaseStatus) -> CaseStatus:
    """A case's state once it has an operator: an active case becomes assigned; a suspended or a
    delinquent one keeps its state (it says something about the customer)."""
    return CaseStatus.ASSIGNED if status is CaseStatus.ACTIVE else status


def check_assignee(
    operator_id: int,
    *,
    active: bool,
    username: str,
    role: Role,
    routines: frozenset[Routine],
    kind: AttentionKind,
) -> None:
    """A case goes to an active user; an operator must work the case's routine (``kind``)."""
    if not active:
        raise UserInputError(
            "operator_id", _("{operator_id} is not an active user"), operator_id=operator_id
        )
    if role is Role.OPERATOR and Routine(kind.value) not in routines:
        raise UserInputError(
            "operator_id",
            _("{username} does not work the {value} routine"),
            username=username,
            value=kind.value,
        )


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
            _(
                "say who called: at least one of customer, contact, phone, tax id,"
                " product serial or code"
            ),
        )


def check_recipient(to_user_id: object, to_group_id: object) -> None:
    """*To* is a user or a group, exactly one."""
    if (to_user_id is None) == (to_group_id is None):
        raise UserInputError("to", _("give either a user (to_user_id) or a group (to_group_id)"))


def check_message_open(message_id: int, *, finalized: bool) -> None:
    """A finalized message changes no more (a note may still be added)."""
    if finalized:
        raise Refused(
            _("message {message_id} is finalized; add a note instead"),
            "message",
            message_id=message_id,
        )


def check_postpone(until: datetime, now: datetime) -> None:
    """A message is postponed to a time still to come."""
    if until <= now:
        raise UserInputError("until", _("must be in the future"))


def postpone_note(until: datetime, whom: str, reason: str) -> str:
    """The note a postponement leaves, dated as people write it (``until`` in the call center's
    zone): "Postponed until Sat 5 Dec 2026, 14:00 for Ana Lima: calls after lunch"."""
    when = f"{until:%a} {until.day} {until:%b %Y, %H:%M}"
    return f"Postponed until {when} for {whom}: {reason}"


def check_contact_of(customer_id: int | None, contact_customer_id: int) -> None:
    """A message from a customer's contact: the contact is that customer's (when one is named)."""
    if customer_id is not None and customer_id != contact_customer_id:
        raise UserInputError("from_contact_id", _("that contact is another customer's"))


def message_access(
    *,
    user_id: int,
    group_id: int | None,
    oversees: bool,
    to_user_id: int | None,
    to_group_id: int | None,
    created_by: int | None,
) -> str | None:
    """What a user may do with an incoming-call message: ``"act"`` (read it, add notes,
    re-route, postpone, finalize, make an attention of it), ``"read"`` or None.

    Supervisors and admins act on every message; an operator acts on the messages addressed to
    them or to their attention group, and may read the ones they registered.
    """
    if oversees or to_user_id == user_id or (group_id is not None and to_group_id == group_id):
        return "act"
    if created_by == user_id:
        return "read"
    return None


def initial_situation(given: str | None, usual_pending: str | None) -> str:
    """The situation of a new message: the one given, else the one marked usual pending."""
    if given:
        return given
    if usual_pending is None:
        raise UserInputError(
            "situation_code",
            _("is required: no situation is marked usual pending, so choose one"),
        )
    return usual_pending


def finalizing_situation(chosen: str | None, situations: Mapping[str, bool]) -> str:
    """The non-pending situation a finalized message takes.

    ``situations`` maps each code to its *pending* flag. A chosen code must be non-pending; with
    none chosen, the first non-pending code (alphabetically) is used.
    """
    if chosen is not None:
        if chosen not in situations:
            raise UserInputError(
                "situation_code", _("{chosen!r} is not a situation"), chosen=chosen
            )
        if situations[chosen]:
            raise UserInputError(
                "situation_code",
                _("{chosen!r} is a pending situation; finalize with a closed one"),
                chosen=chosen,
            )
        return chosen
    closed = sorted(code for code, pending in situations.items() if not pending)
    if not closed:
        raise UserInputError(
            "situation_code", _("no non-pending situation is configured; an admin must add one")
        )
    return closed[0]


# --- suspects (MV_TMKDACH) -----------------------------------------------------------------------


class SuspectFate(StrEnum):
    """What a conversion does with the suspect."""

    DELETE = "delete"
    KEEP = "keep"
    ASK = "ask"  # nothing done yet: the operator must decide


def check_convertible(suspect_id: int, prospect_id: int | None, *, converted: bool) -> None:
    """A suspect is converted once."""
    if prospect_id is not None or converted:
        raise Refused(
            _("suspect {suspect_id} was already converted (prospect {prospect_id})"),
            "suspect",
            suspect_id=suspect_id,
            prospect_id=prospect_id,
        )


def suspect_fate(policy: SuspectPolicy, delete: bool | None) -> SuspectFate:
    """The fate of a converted suspect under ``policy``, given the operator's answer (if any)."""
    if policy is SuspectPolicy.ASK:
        if delete is None:
            return SuspectFate.ASK
        return SuspectFate.DELETE if delete else SuspectFate.KEEP
    if delete is not None:
        raise UserInputError(
            "delete",
            _(
                "the setting telemarketing.suspect_after_conversion is {value}: the suspect's fate is not the operator's choice"
            ),
            value=policy.value,
        )
    return SuspectFate.DELETE if policy is SuspectPolicy.DELETE else SuspectFate.KEEP


# --- lists maintained by admins ------------------------------------------------------------------


def check_new_entry(columns: Iterable[str], values: Mapping[str, object]) -> None:
    """A new entry of a list an admin maintains (a reason, a group, a situation) has its name."""
    if "name" in columns and not values.get("name"):
        raise UserInputError("name", _("is required"))


__all__ = [
    "CASE_TRANSITIONS",
    "CASE_WEIGHT",
    "CONTACT_FIELDS",
    "CUSTOMER_FIELDS",
    "CUSTOMER_SPEC",
    "FROM_FIELDS",
    "LEAD_FIELDS",
    "LEAD_SPEC",
    "MASKED_ANSWER",
    "MAX_LIMIT",
    "MAX_QUERY",
    "MESSAGE_FIELDS",
    "MESSAGE_SPEC",
    "MIN_QUERY",
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
    "assigned_status",
    "check_assignable",
    "check_assignee",
    "check_case_ids",
    "check_case_transition",
    "check_contact_of",
    "check_convertible",
    "check_from",
    "check_message_open",
    "check_new_entry",
    "check_postpone",
    "check_query",
    "check_recipient",
    "check_search_limit",
    "finalizing_situation",
    "initial_situation",
    "mask",
    "mask_address",
    "mask_answer",
    "mask_email",
    "mask_name",
    "mask_phone",
    "mask_record",
    "mask_tax_id",
    "message_access",
    "order_lock",
    "personal_keys",
    "plan_status",
    "position",
    "promise_is_broken",
    "rank_assignees",
    "split_instalments",
    "suspect_fate",
]
