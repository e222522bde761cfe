"""Password hashing with Argon2id (argon2-cffi's recommended parameters), and the password rule.

The rule (:func:`password_problem`): at least :data:`MIN_LENGTH` characters, no control
characters, not the user name (nor the user name with digits or punctuation after it), and not
one of the 30,000 most common passwords of the list zxcvbn maintains (``zxcvbn``'s
``passwords`` frequency list, compared without case). It is enforced where a password is set
(``cti user add``, the back office); a password set before it is checked at each sign-in and
flagged to admins when it breaks it.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cti.domain.texts import Words, _

_hasher = PasswordHasher()
MIN_LENGTH = 10


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.casefold() for p in FREQUENCY_LISTS["passwords"])


def password_problem(password: str, username: str) -> Words | None:
    """What is wrong with ``password`` for the user ``username``, or None when it is fine."""
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        return Words(_("must not contain control characters"))
    if len(password) < MIN_LENGTH:
        return Words(_("must be at least {count} characters long"), count=MIN_LENGTH)
    folded = password.casefold()
    name = username.strip().casefold()
    if name and folded.rstrip("0123456789!@#$%^&*()-_=+.,;:?/ ") in (name, name[::-1]):
        return Words(_("must not be the user name"))
    if folded in _common():
        return Words(_("is one of the most common passwords; choose another"))
    return None


def hash_password(pw: str) -> str:
    """A salted Argon2id hash of ``pw``, in the PHC string format (``$argon2id$…``)."""
    return _hasher.hash(pw)


def verify_password(hash: str, pw: str) -> bool:
    """True if ``pw`` matches ``hash``; False for a wrong password or a hash that is not Argon2."""
    try:
        return _hasher.verify(hash, pw)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(hash: str) -> bool:
    """True if ``hash`` was made with weaker parameters than today's; re-hash at the next login."""
    try:
        return _hasher.check_needs_rehash(hash)
    except InvalidHashError:
        return True


__all__ = ["MIN_LENGTH", "hash_password", "needs_rehash", "password_problem", "verify_password"]
