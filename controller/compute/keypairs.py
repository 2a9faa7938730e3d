"""Key pairs: SSH public keys (or x509 certificates) stored per user.

A key pair is either imported (the caller gives the public key, which must parse) or
generated here, in which case the private key is returned once and never stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import string

import sqlalchemy as sa
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from common.context import RequestContext
from controller import exceptions
from controller.compute import quotas
from controller.db.base import utcnow
from controller.db.models.compute import KeyPair
from controller.runtime import Runtime

TYPES = ("ssh", "x509")
_SAFE_CHARS = frozenset("_- " + string.digits + string.ascii_letters)


def validate_name(name: object) -> str:
    """Nova's rule: 1-255 characters of letters, digits, space, '-' and '_'.

    :raises BadRequest: anything else.
    """
    if not isinstance(name, str) or not 1 <= len(name) <= 255 or not name.strip():
        raise exceptions.BadRequest("Keypair data is invalid: Keypair name must be string "
                                    "and between 1 and 255 characters long")
    if not set(name) <= _SAFE_CHARS:
        raise exceptions.BadRequest("Keypair data is invalid: Keypair name contains unsafe "
                                    "characters")
    return name


def _invalid() -> exceptions.BadRequest:
    return exceptions.BadRequest("Keypair data is invalid: failed to generate fingerprint")


def ssh_fingerprint(public_key: str) -> str:
    """Nova's fingerprint of an OpenSSH public key: MD5 of the key blob, colon-hex.

    :raises BadRequest: the text is not a valid OpenSSH public key.
    """
    try:
        serialization.load_ssh_public_key(public_key.strip().encode("utf-8"))
        blob = base64.b64decode(public_key.split()[1], validate=True)
    except (ValueError, IndexError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise _invalid() from exc
    raw = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(raw[i:i + 2] for i in range(0, len(raw), 2))


def x509_fingerprint(certificate: str) -> str:
    """SHA-1 of the certificate, colon-hex, as Nova computes it for x509 key pairs."""
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode("utf-8"))
    except ValueError as exc:
        raise _invalid() from exc
    raw = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - Nova's format
    return ":".join(raw[i:i + 2] for i in range(0, len(raw), 2))


def generate() -> tuple[str, str]:
    """(private key PEM, OpenSSH public key) of a new 2048-bit RSA key, as Nova makes."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, public + " Generated-by-Nova"


def create(rt: Runtime, ctx: RequestContext, user_id: str, name: str,
           public_key: str | None = None, key_type: str = "ssh") -> tuple[KeyPair, str | None]:
    """Import public_key, or generate a key pair; return it and the private key (if new).

    :raises BadRequest: bad name, type or key. :raises Conflict: the name is taken.
    :raises OverQuota: the user has as many key pairs as the key_pairs quota of ctx's
        project (``[quota] key_pairs`` unless an admin set it) allows.
    """
    validate_name(name)
    if key_type not in TYPES:
        raise exceptions.BadRequest(f"Invalid key pair type {key_type!r}.")
    private_key = None
    if public_key is None:
        if key_type != "ssh":
            raise exceptions.BadRequest("Keypair data is invalid: only ssh key pairs can "
                                        "be generated; import the x509 certificate.")
        private_key, public_key = generate()
    if key_type == "ssh":
        fingerprint = ssh_fingerprint(public_key)
    else:
        fingerprint = x509_fingerprint(public_key)
    limit = quotas.limits(rt, ctx.project_id)["key_pairs"] if ctx.project_id \
        else rt.conf.quota.key_pairs
    with rt.db.session() as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(KeyPair).where(
            KeyPair.user_id == user_id))
        if 0 <= limit <= count:
            raise exceptions.OverQuota("Quota exceeded, too many key pairs.")
        if session.scalar(sa.select(KeyPair.id).where(KeyPair.user_id == user_id,
                                                      KeyPair.name == name)):
            raise exceptions.Conflict(f"Key pair '{name}' already exists.")
        keypair = KeyPair(user_id=user_id, name=name, type=key_type, fingerprint=fingerprint,
                          public_key=public_key, created_at=utcnow())
        session.add(keypair)
    rt.notify(ctx, "keypair.create.end", {"user_id": user_id, "key_name": name,
                                          "fingerprint": fingerprint})
    return keypair, private_key


def list_(rt: Runtime, ctx: RequestContext, user_id: str) -> list[KeyPair]:
    """The user's key pairs, by name."""
    with rt.db.session() as session:
        return list(session.scalars(sa.select(KeyPair).where(
            KeyPair.user_id == user_id).order_by(KeyPair.name)))


def _find(session, user_id: str, name: str) -> KeyPair:
    keypair = session.scalars(sa.select(KeyPair).where(
        KeyPair.user_id == user_id, KeyPair.name == name)).first() \
        if len(name) <= 255 else None
    if keypair is None:
        raise exceptions.NotFound(f"Keypair {name} not found for user {user_id}")
    return keypair


def get(rt: Runtime, ctx: RequestContext, user_id: str, name: str) -> KeyPair:
    """:raises NotFound: the user has no key pair name."""
    with rt.db.session() as session:
        return _find(session, user_id, name)


def delete(rt: Runtime, ctx: RequestContext, user_id: str, name: str) -> None:
    """:raises NotFound: the user has no key pair name."""
    with rt.db.session() as session:
        session.delete(_find(session, user_id, name))
    rt.notify(ctx, "keypair.delete.end", {"user_id": user_id, "key_name": name})
