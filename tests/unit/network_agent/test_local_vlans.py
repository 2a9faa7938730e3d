"""Local VLAN ids per network."""

from __future__ import annotations

from agents.network.local_vlans import LocalVlans


def test_allocation_recovery_and_release():
    vlans = LocalVlans()
    assert vlans.recover("net-a", 7)
    assert not vlans.recover("net-b", 7)  # taken: net-b gets a fresh one
    assert vlans.allocate("net-b") == 1
    assert vlans.allocate("net-a") == 7
    assert vlans.allocate("net-c") == 2
    assert vlans.release_except(["net-a"]) == ["net-b", "net-c"]
    assert vlans.items() == [("net-a", 7)]
    assert vlans.allocate("net-d") == 1
    assert not vlans.recover("net-e", 4095)
