"""Password hashing with Argon2id (memory-hard); parameters come from settings."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10


@lru_cache(maxsize=4)
def _hasher(memory_kib: int) -> PasswordHasher:
    return PasswordHasher(memory_cost=memory_kib, time_cost=2 if memory_kib >= 65536 else 1)


def hash_password(password: str, memory_kib: int = 65536) -> str:
    """Hash a password for storage."""
    return _hasher(memory_kib).hash(password)


def verify_password(stored_hash: str, password: str, memory_kib: int = 65536) -> bool:
    """Check a password against its stored hash, in constant time."""
    try:
        return _hasher(memory_kib).verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the user does not exist, so timing does not reveal it.
def dummy_hash(memory_kib: int = 65536) -> str:
    """Return a throwaway hash with the configured cost."""
    return _dummy(memory_kib)


@lru_cache(maxsize=4)
def _dummy(memory_kib: int) -> str:
    return hash_password("not-a-real-password", memory_kib)
