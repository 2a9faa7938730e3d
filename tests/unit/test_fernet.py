from __future__ import annotations

import os

import pytest
from cryptography.fernet import InvalidToken

from controller.identity.fernet import KeyRepository


def test_setup_then_rotate_keeps_old_tokens_readable(tmp_path):
    keys = KeyRepository(str(tmp_path / "k"), max_active_keys=3)
    assert keys.setup() is True
    assert keys.setup() is False
    token = keys.encrypt(b"payload")
    assert keys.rotate() == 2
    assert keys.decrypt(token) == b"payload"
    assert sorted(os.listdir(tmp_path / "k")) == ["0", "1", "2"]
    keys.rotate()
    # max_active_keys=3: staged + primary + one secondary; key 1 is gone.
    assert sorted(os.listdir(tmp_path / "k")) == ["0", "2", "3"]
    with pytest.raises(InvalidToken):
        keys.decrypt(token)


def test_rotation_encrypts_with_the_previously_staged_key(tmp_path):
    keys = KeyRepository(str(tmp_path / "k"))
    keys.setup()
    staged = (tmp_path / "k" / "0").read_bytes()
    keys.rotate()
    assert (tmp_path / "k" / "2").read_bytes() == staged


def test_missing_repository_says_how_to_fix(tmp_path):
    keys = KeyRepository(str(tmp_path / "missing"))
    with pytest.raises(Exception, match="fernet setup"):
        keys.encrypt(b"x")
