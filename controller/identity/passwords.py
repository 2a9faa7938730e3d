"""Password and secret hashing with bcrypt."""

from __future__ import annotations

import hashlib

import bcrypt


def _prepare(secret: str) -> bytes:
    # bcrypt reads only 72 bytes; hashing first keeps every byte of a long secret significant.
    raw = secret.encode("utf-8")
    if len(raw) > 72:
        raw = hashlib.sha256(raw).hexdigest().encode("ascii")
    return raw


def hash_secret(secret: str, rounds: int) -> str:
    """A bcrypt hash of secret at the given cost."""
    return bcrypt.hashpw(_prepare(secret), bcrypt.gensalt(rounds)).decode("ascii")


def check_secret(secret: str, hashed: str | None) -> bool:
    """True when secret matches hashed; False for a missing hash."""
    if not hashed:
        return False
    try:
        return bcrypt.checkpw(_prepare(secret), hashed.encode("ascii"))
    except ValueError:
        return False
