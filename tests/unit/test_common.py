from __future__ import annotations

import pytest

from common.context import RequestContext, is_valid_request_id, new_request_id
from common.processutils import ProcessExecutionError, execute
from controller.identity import passwords


def test_execute_takes_argv_lists_only():
    assert execute(["echo", "a b"]).strip() == "a b"
    with pytest.raises(TypeError):
        execute("echo hi")  # type: ignore[arg-type]
    with pytest.raises(ProcessExecutionError) as info:
        execute(["sh", "-c", "echo oops >&2; exit 3"])
    assert info.value.exit_code == 3 and "oops" in info.value.stderr


def test_context_never_puts_the_token_on_the_bus():
    ctx = RequestContext(auth_token="secret", roles=["admin"])
    assert "auth_token" not in ctx.to_dict()
    assert RequestContext.from_dict(ctx.to_dict()).request_id == ctx.request_id


def test_request_id_shape():
    assert is_valid_request_id(new_request_id())
    assert not is_valid_request_id("req-<script>")


def test_long_passwords_keep_every_byte_significant():
    hashed = passwords.hash_secret("x" * 100 + "a", rounds=4)
    assert passwords.check_secret("x" * 100 + "a", hashed)
    assert not passwords.check_secret("x" * 100 + "b", hashed)
    assert not passwords.check_secret("x", None)
