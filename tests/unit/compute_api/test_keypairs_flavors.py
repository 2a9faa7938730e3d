"""Key pair fingerprints and names, and flavor visibility, without a database."""

from __future__ import annotations

import base64
import hashlib
import types

import pytest

from common.context import RequestContext
from controller import exceptions
from controller.compute import flavors, keypairs


def test_generated_key_fingerprint_is_md5_of_blob():
    private, public = keypairs.generate()
    assert private.startswith("-----BEGIN RSA PRIVATE KEY-----")
    kind, blob, comment = public.split()
    assert kind == "ssh-rsa" and comment == "Generated-by-Nova"
    raw = hashlib.md5(base64.b64decode(blob)).hexdigest()
    expected = ":".join(raw[i:i + 2] for i in range(0, 32, 2))
    assert keypairs.ssh_fingerprint(public) == expected


def test_ed25519_public_key_imports():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    public = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    assert len(keypairs.ssh_fingerprint(public + " me@host").split(":")) == 16


@pytest.mark.parametrize("garbage", ["", "ssh-rsa", "ssh-rsa AAAA", "not a key at all",
                                     "ssh-rsa !!!notbase64", "\x00"])
def test_garbage_public_key_is_bad_request(garbage):
    with pytest.raises(exceptions.BadRequest, match="fingerprint"):
        keypairs.ssh_fingerprint(garbage)


@pytest.mark.parametrize("name", ["k1", "my key", "a-b_c", "x" * 255])
def test_valid_names(name):
    assert keypairs.validate_name(name) == name


@pytest.mark.parametrize("name", ["", " ", "x" * 256, "a/b", "ké", "a.b", None, 5, "a\nb"])
def test_invalid_names(name):
    with pytest.raises(exceptions.BadRequest):
        keypairs.validate_name(name)


def _flavor(is_public: bool, projects=()):
    return types.SimpleNamespace(
        is_public=is_public,
        projects=[types.SimpleNamespace(project_id=p) for p in projects])


def test_flavor_visibility():
    demo = RequestContext(project_id="demo", roles=["member"])
    other = RequestContext(project_id="other", roles=["member"])
    admin = RequestContext(project_id="admin", roles=["admin"])
    private = _flavor(False, ["demo"])
    assert flavors.can_see(demo, _flavor(True))
    assert flavors.can_see(demo, private)
    assert not flavors.can_see(other, private)
    assert flavors.can_see(admin, private)
