"""The Fernet key repository: key 0 is staged, the highest-numbered key is primary.

Rotation promotes the staged key to primary and stages a new one, so every API node can
receive the new key before any node starts encrypting with it.
"""

from __future__ import annotations

import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from controller import exceptions


class KeyRepository:
    """Reads and rotates the keys in one directory; reloads when the directory changes."""

    def __init__(self, path: str, max_active_keys: int = 3):
        self.path = path
        self.max_active_keys = max_active_keys
        self._loaded_mtime: float | None = None
        self._fernet: MultiFernet | None = None

    def _indexes(self) -> list[int]:
        return sorted(int(name) for name in os.listdir(self.path) if name.isdecimal())

    def _write(self, index: int, key: bytes) -> None:
        tmp = os.path.join(self.path, f".{index}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        os.replace(tmp, os.path.join(self.path, str(index)))

    def setup(self) -> bool:
        """Create the repository with a primary and a staged key; False if it exists."""
        os.makedirs(self.path, mode=0o700, exist_ok=True)
        if self._indexes():
            return False
        self._write(0, Fernet.generate_key())
        self._write(1, Fernet.generate_key())
        return True

    def rotate(self) -> int:
        """Promote the staged key, stage a new one, drop the oldest; return the new primary."""
        indexes = self._indexes()
        if not indexes:
            raise exceptions.StratusError(
                f"no Fernet keys in {self.path}; run `stratus-manage fernet setup` first")
        new_primary = indexes[-1] + 1
        os.replace(os.path.join(self.path, "0"), os.path.join(self.path, str(new_primary)))
        self._write(0, Fernet.generate_key())
        keep = self.max_active_keys - 1  # secondaries+primary, beside the staged key
        for old in [i for i in self._indexes() if i != 0][:-keep]:
            os.remove(os.path.join(self.path, str(old)))
        return new_primary

    def fernet(self) -> MultiFernet:
        """The primary key first, then the others, as a MultiFernet."""
        try:
            mtime = os.stat(self.path).st_mtime
        except FileNotFoundError as exc:
            raise exceptions.StratusError(
                f"Fernet key repository {self.path} is missing; run "
                "`stratus-manage fernet setup`") from exc
        if self._fernet is None or mtime != self._loaded_mtime:
            indexes = self._indexes()
            order = sorted(indexes, key=lambda i: (i == 0, -i))  # primary first, staged last
            keys = []
            for index in order:
                with open(os.path.join(self.path, str(index)), "rb") as handle:
                    keys.append(Fernet(handle.read().strip()))
            if not keys:
                raise exceptions.StratusError(f"no Fernet keys in {self.path}")
            self._fernet = MultiFernet(keys)
            self._loaded_mtime = mtime
        return self._fernet

    def encrypt(self, data: bytes) -> str:
        return self.fernet().encrypt(data).decode("ascii").rstrip("=")

    def decrypt(self, token: str) -> bytes:
        """:raises InvalidToken: the token was not made with any of our keys."""
        padded = token + "=" * (-len(token) % 4)
        return self.fernet().decrypt(padded.encode("ascii"))


__all__ = ["KeyRepository", "InvalidToken"]
