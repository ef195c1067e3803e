"""Password hashing with Argon2id, and generated passwords."""
from __future__ import annotations

import functools
import os
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

#: The environment variable naming the Argon2 parameter profile (a name in ``argon2.profiles``); the
#: test kit sets ``CHEAPEST``. Stored hashes carry their parameters, so changing it never locks anyone out.
PROFILE_VARIABLE = "KONTOR_PASSWORD_HASH_PROFILE"
DEFAULT_PROFILE = "RFC_9106_LOW_MEMORY"


@functools.cache
def _hasher() -> PasswordHasher:
    # Read on first use, not on import: importing ``core`` (as a test kit does before it can set the
    # variable) must not fix the profile.
    return PasswordHasher.from_parameters(getattr(profiles, os.environ.get(PROFILE_VARIABLE, DEFAULT_PROFILE)))


@functools.cache
def _dummy_hash() -> str:
    # verifying against this when the user does not exist takes as long as a real check
    return _hasher().hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (constant work when there is no hash)."""
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(password_hash)


def generate_password() -> str:
    """A random password of about 100 bits that is easy to type."""
    return secrets.token_urlsafe(16)
