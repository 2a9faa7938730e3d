"""The console proxy's request parsing: where the token is, and whose origin it is."""

from __future__ import annotations

from controller.console import handler


def test_token_locations():
    assert handler.token_from("/?token=abc", None) == "abc"
    assert handler.token_from("/websockify?path=%3Ftoken%3Dxyz", None) == "xyz"
    assert handler.token_from("/?path=websockify%3Ftoken%3Dq1", None) == "q1"
    assert handler.token_from("/", "other=1; token=from-cookie") == "from-cookie"
    assert handler.token_from("/?token=first", "token=second") == "first"
    assert handler.token_from("/", None) is None
    assert handler.token_from("/?token=", "bad cookie \x00") is None


def test_origin_host_names():
    assert handler._hostname("https://Console.Example.org:6080") == "console.example.org"
    assert handler._hostname("console.example.org:6080") == "console.example.org"
    assert handler._hostname("http://[2001:db8::1]:6080") == "2001:db8::1"
    assert handler._hostname("[2001:db8::1]:6080") == "2001:db8::1"


def test_tokens_are_masked_in_logs():
    masked = handler._TOKEN_IN_PATH.sub(r"\1***", "Path: '/?token=s3cr3t&x=1' "
                                        "'/websockify?path=%3Ftoken%3Dp4ss'")
    assert "s3cr3t" not in masked and "p4ss" not in masked
    assert "token=***&x=1" in masked
