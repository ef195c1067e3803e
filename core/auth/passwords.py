"""Password hashing with Argon2id, and generated passwords."""
from __future__ import annotations

import os
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

#: The Argon2 parameter profile (a name in ``argon2.profiles``). The test suite sets ``CHEAPEST``;
#: stored hashes carry their parameters, so changing it never locks anyone out.
PROFILE = os.environ.get("KONTOR_PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY")

_hasher = PasswordHasher.from_parameters(getattr(profiles, PROFILE))
# verifying against this when the user does not exist takes as long as a real check
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (constant work when there is no hash)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    """A random password of about 100 bits that is easy to type."""
    return secrets.token_urlsafe(16)
