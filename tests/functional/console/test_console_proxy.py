"""stratus-console-proxy as a real process: websockets to a TCP server speaking RFB.

Tokens are written the way the compute API stores them (their SHA-256), on SQLite and
PostgreSQL; the proxy consumes them from the database.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
import websocket

from tests.functional.console.conftest import FakeConsole, free_port, make_token

RFB_HELLO = b"RFB 003.008\n"


def _connect(port: int, query: str, **kwargs) -> websocket.WebSocket:
    return websocket.create_connection(f"ws://127.0.0.1:{port}/{query}", timeout=10,
                                       subprotocols=["binary"], **kwargs)


def _refused(port: int, query: str, **kwargs) -> int:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        _connect(port, query, **kwargs)
    return refused.value.status_code


def _log_says(proxy, text: str) -> bool:
    for _ in range(50):
        if text in proxy["log"].read_text():
            return True
        time.sleep(0.1)
    return False


def test_vnc_bytes_flow_both_ways_once(proxy, db, instance_uuid, consoles):
    vnc = FakeConsole(RFB_HELLO)
    consoles.append(vnc)
    token = make_token(db, instance_uuid, vnc.port)
    ws = _connect(proxy["ports"]["novnc"], f"?token={token}")
    try:
        assert ws.recv() == RFB_HELLO
        ws.send_binary(RFB_HELLO)
        assert ws.recv() == b"echo:" + RFB_HELLO
    finally:
        ws.close()
    assert vnc.received == [RFB_HELLO]
    assert _refused(proxy["ports"]["novnc"], f"?token={token}") == 403  # single use
    assert _log_says(proxy, "invalid, expired or already used")
    assert token not in proxy["log"].read_text()  # tokens are masked in the logs


def test_novnc_path_parameter_and_origin(proxy, db, instance_uuid, consoles):
    vnc = FakeConsole(RFB_HELLO)
    consoles.append(vnc)
    port = proxy["ports"]["novnc"]
    token = make_token(db, instance_uuid, vnc.port)
    assert _refused(port, f"?token={token}", origin="http://evil.example.com") == 403
    assert _log_says(proxy, "origin http://evil.example.com is not allowed")
    # A refused origin never consumed the token; an allowed one uses noVNC's path= form.
    ws = _connect(port, f"websockify?path=%3Ftoken%3D{token}",
                  origin="https://console.example.org")
    try:
        assert ws.recv() == RFB_HELLO
    finally:
        ws.close()


def test_expired_and_unknown_tokens_are_always_refused(proxy, db, instance_uuid, consoles):
    vnc = FakeConsole(RFB_HELLO)
    consoles.append(vnc)
    expired = make_token(db, instance_uuid, vnc.port, ttl=-1)
    for _ in range(2):
        assert _refused(proxy["ports"]["novnc"], f"?token={expired}") == 403
    assert _refused(proxy["ports"]["novnc"], "?token=made-up") == 403
    assert _refused(proxy["ports"]["novnc"], "") == 403
    assert _log_says(proxy, "no console token in the request")
    assert vnc.received == []


def test_serial_console(proxy, db, instance_uuid, consoles):
    serial = FakeConsole(b"login: ")
    consoles.append(serial)
    port = proxy["ports"]["serial"]
    vnc_token = make_token(db, instance_uuid, serial.port, "novnc")
    assert _refused(port, f"?token={vnc_token}") == 403
    assert _log_says(proxy, "a novnc console token was presented to the serial proxy")
    ws = _connect(port, f"?token={make_token(db, instance_uuid, serial.port, 'serial')}")
    try:
        assert ws.recv() == b"login: "
        ws.send_binary(b"root\n")
        assert ws.recv() == b"echo:root\n"
    finally:
        ws.close()


def test_unreachable_console_closes_the_websocket(proxy, db, instance_uuid):
    ws = _connect(proxy["ports"]["novnc"], f"?token={make_token(db, instance_uuid, free_port())}")
    try:
        opcode, data = ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert int.from_bytes(data[:2], "big") == 1011  # "internal error": not reachable
    finally:
        ws.close()
    assert _log_says(proxy, "cannot reach 127.0.0.1")


def test_static_files(proxy):
    base = f"http://127.0.0.1:{proxy['ports']['novnc']}"
    with urllib.request.urlopen(f"{base}/vnc_lite.html", timeout=10) as page:
        assert page.status == 200 and b"noVNC" in page.read()
    with pytest.raises(urllib.error.HTTPError) as listing:
        urllib.request.urlopen(f"{base}/", timeout=10)
    assert listing.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as serial:
        urllib.request.urlopen(f"http://127.0.0.1:{proxy['ports']['serial']}/", timeout=10)
    assert serial.value.code == 405
