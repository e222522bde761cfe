"""Password hashing with Argon2id (argon2-cffi's recommended parameters)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()


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


__all__ = ["hash_password", "needs_rehash", "verify_password"]
