"""Per-volume CHAP credentials, derived from a host secret.

A volume's credentials are HMAC-SHA256(secret, volume id): random-looking, different for
every volume, unguessable without the secret, and the same every time they are asked
for. That is what lets the agent re-create an export after an agent or tgtd restart
with exactly the credentials the block storage service stored in the attachment's
connection_info, without keeping a password database of its own. The secret is created
once (32 random bytes, mode 0600) and never leaves the host; rotating it changes every
volume's credentials, which takes effect at each volume's next attach.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import os
import secrets

from agents.volume import names

KEY_BYTES = 32
PASSWORD_LENGTH = 24  # tgt and LIO accept up to 255; RFC 3720 wants at least 12 bytes


@dataclasses.dataclass(frozen=True)
class Credentials:
    """CHAP (incoming user) credentials of one target."""

    username: str
    password: str

    def __repr__(self) -> str:  # never log the secret
        return f"Credentials(username={self.username!r}, password='***')"


class ChapKeys:
    """Derives credentials from the secret in key_file (created on first use)."""

    def __init__(self, key_file: str):
        self.key_file = key_file
        self._key: bytes | None = None

    def credentials(self, volume_id: str) -> Credentials:
        """The CHAP credentials of volume_id.

        :raises OSError: the key file cannot be read or created.
        """
        volume_id = names.canonical_uuid(volume_id, "volume id")
        digest = hmac.new(self._secret(), f"chap:{volume_id}".encode(), hashlib.sha256).digest()
        # Base32 without padding: letters and digits only, safe in URLs and tgtadm argv.
        password = base64.b32encode(digest).decode().rstrip("=")[:PASSWORD_LENGTH]
        return Credentials(username=names.volume_name(volume_id), password=password)

    def _secret(self) -> bytes:
        if self._key is None:
            self._key = _load_or_create(self.key_file)
        return self._key


def _load_or_create(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            key = handle.read()
        if len(key) >= KEY_BYTES:
            return key
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(KEY_BYTES))
        handle.flush()
        os.fsync(handle.fileno())
    try:
        # link() fails if another process created the key first: then use theirs.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    with open(path, "rb") as handle:
        key = handle.read()
    if len(key) < KEY_BYTES:
        raise OSError(f"CHAP key file {path} holds {len(key)} bytes, not {KEY_BYTES}: "
                      "remove it to create a new one (volumes get new credentials)")
    return key
