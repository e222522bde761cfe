"""Forms whose fields an admin may make mandatory ("required fields"), the fields each has and
how the pages label them, and the rule that enforces them when a form is saved."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from cti.domain.backoffice import FROM_FIELDS
from cti.domain.texts import _
from cti.errors import UserInputError

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

# Each field as the forms label it (what the admin ticks and what a refusal names).
FIELD_LABELS: Mapping[str, str] = {
    "customer_id": "Customer",
    "contact_id": "Contact",
    "phone": "Phone",
    "closing_reason_id": "Closing reason",
    "next_call_at": "Next call",
    "subject": "Subject",
    "product": "Product",
    "occurrence": "Occurrence",
    "action": "Action",
    "owner_id": "Owner",
    "action_date": "Action date",
    "action_status": "Action status",
    "attention_id": "Attention",
    "valid_until": "Valid until",
    "quote_id": "Quote",
    "receivable_id": "Invoice",
    "from_customer_id": "Customer",
    "from_contact_id": "Contact",
    "from_phone": "Phone",
    "from_tax_id": "Tax id",
    "from_serial": "Product serial",
    "from_code": "Code",
    "type_code": "Type",
    "to_user_id": "To user",
    "to_group_id": "To group",
    "company": "Company",
    "tax_id": "Tax id",
    "email": "E-mail",
    "address": "Address",
    "region": "Region",
    "assignee_id": "Operator",
}
FORM_LABELS: Mapping[str, str] = {
    "attention": "Attention",
    "quote": "Quote",
    "order": "Sales order",
    "promise": "Payment promise",
    "plan": "Payment plan",
    "call_message": "Incoming-call message",
    "suspect": "Suspect",
    "case": "Case",
}


def field_label(name: str) -> str:
    """A field as its form labels it."""
    return FIELD_LABELS.get(name) or name.removesuffix("_id").replace("_", " ").capitalize()


_FIELD_RE = re.compile(r"^[a-z_]+$")


def check_form_fields(form: str, fields: Iterable[str]) -> list[str]:
    """The fields, sorted, if ``form`` is known and has them all; else UserInputError."""
    if form not in FORMS:
        raise UserInputError(
            "form",
            _("{form!r} is not a form; one of {choices}"),
            form=form,
            choices=", ".join(sorted(FORMS)),
        )
    out = sorted(set(fields))
    for name in out:
        if not _FIELD_RE.match(name) or name not in FORMS[form]:
            raise UserInputError(
                "fields",
                _("{name!r} is not a field of the {form} form; one of {choices}"),
                name=name,
                form=form,
                choices=", ".join(sorted(FORMS[form])),
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
            form_name = FORM_LABELS.get(form, form).lower()
            raise UserInputError(
                name,
                _("{label} is required on the {form} form"),
                label=field_label(name),
                form=form_name,
            )


__all__ = [
    "FIELD_LABELS",
    "FORMS",
    "FORM_LABELS",
    "TELEMARKETING_FIELDS",
    "check_form_fields",
    "check_required",
    "field_label",
]
