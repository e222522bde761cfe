"""Phone numbers are stored and looked up in one normal form (E.164 where it can be known)."""

from __future__ import annotations

import phonenumbers

from cti.domain.texts import _
from cti.errors import UserInputError

_KEEP = set("0123456789+")


def normalize_phone(raw: str, region: str = "US") -> str:
    """The number in E.164 (``+15551234567``) when it can be read as one, else its bare digits.

    A caller id like ``5559876`` (a short or local number) has no country to be read in; it is kept
    as its digits so that the same caller id always finds the same record.

    Raises:
        UserInputError: the text holds no digits at all.
    """
    text = "".join(ch for ch in raw.strip() if ch in _KEEP)
    digits = text.lstrip("+")
    if not digits.isdigit():
        raise UserInputError("phone", _("{raw!r} is not a phone number"), raw=raw)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return digits
    if phonenumbers.is_possible_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return digits


def region_of(e164: str) -> str | None:
    """The ISO country of an E.164 number, or None when it cannot be told."""
    if not e164.startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(parsed) or None
