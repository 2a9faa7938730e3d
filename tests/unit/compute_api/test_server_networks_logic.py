"""Pure parts of servers on networks: the ip filter pattern, the stored request."""

from __future__ import annotations

import pytest

from controller.compute import server_addresses, server_networks


@pytest.mark.parametrize(("given", "pattern"), [
    ("10.0.0.5", "%10.0.0.5%"),
    ("^10\\.0\\.0\\.5$", "%10.0.0.5%"),  # what clients send: Nova drops the anchors
    ("10_0", "%10\\_0%"),  # no SQL wildcards from the caller
    ("50%", "%50\\%%"),
    (" fe80:: ", "%fe80::%"),
])
def test_ip_filter_pattern(given, pattern):
    assert server_addresses._address_pattern(given) == pattern  # noqa: SLF001


def test_stored_request_round_trip():
    requests = [{"network_id": "n1", "fixed_ip": "10.0.0.5"}, {"port_id": "p1"}]
    meta = server_networks.metadata("requested", requests)
    assert meta == {"network_request": "requested", "requested_networks": requests}
    assert server_networks.stored_request(meta) == requests
    assert server_networks.stored_request({"requested_networks": ["junk", None]}) == []
    assert server_networks.stored_request(None) == []
