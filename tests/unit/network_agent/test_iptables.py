"""Our chains, rewritten with one iptables-restore --noflush."""

from __future__ import annotations

import pytest

from agents.network import iptables
from agents.network.exception import HostCommandError

SAVE = """# Generated
*nat
:PREROUTING ACCEPT [0:0]
:stratus-PREROUTING - [0:0]
:stratus-OUTPUT - [0:0]
-A PREROUTING -j stratus-PREROUTING
-A OUTPUT -j stratus-OUTPUT
-A stratus-PREROUTING -d 1.2.3.4/32 -j DNAT --to-destination 10.0.0.5
COMMIT
*filter
:INPUT ACCEPT [0:0]
-A INPUT -j ACCEPT
COMMIT
"""


@pytest.fixture
def calls(monkeypatch):
    recorded = []

    def fake(ns, argv, **kwargs):
        recorded.append((ns, argv, kwargs.get("input")))
        return SAVE if argv[0].endswith("-save") else ""

    monkeypatch.setattr(iptables.ip_lib, "execute_in", fake)
    return recorded


def test_apply_rewrites_ours_and_removes_stale_chains(calls):
    iptables.IptablesManager("qrouter-x").apply({
        "nat": {"PREROUTING": [["-d", "5.6.7.8/32", "-j", "DNAT", "--to-destination",
                                "10.0.0.6"]]},
        "filter": {"INPUT": [["-p", "tcp", "--dport", "9697", "-j", "DROP"]]},
    })
    ns, argv, script = calls[-1]
    assert ns == "qrouter-x" and argv == ["iptables-restore", "--noflush"]
    assert script.splitlines() == [
        "*filter",
        ":stratus-INPUT - [0:0]",
        "-I INPUT 1 -j stratus-INPUT",
        "-A stratus-INPUT -p tcp --dport 9697 -j DROP",
        "COMMIT",
        "*nat",
        ":stratus-PREROUTING - [0:0]",  # jump exists already: not added twice
        "-A stratus-PREROUTING -d 5.6.7.8/32 -j DNAT --to-destination 10.0.0.6",
        ":stratus-OUTPUT - [0:0]",
        "-D OUTPUT -j stratus-OUTPUT",
        "-X stratus-OUTPUT",
        "COMMIT",
    ]


def test_clear_removes_everything_of_ours(calls):
    iptables.IptablesManager(None).clear()
    script = calls[-1][2]
    assert "-D PREROUTING -j stratus-PREROUTING" in script
    assert "-X stratus-PREROUTING" in script and "-X stratus-OUTPUT" in script
    assert "INPUT" not in script  # somebody else's rule stays


@pytest.mark.parametrize("token", ["1.2.3.4\n-A INPUT -j ACCEPT", "a b", "$(reboot)", ""])
def test_tokens_that_could_smuggle_rules_are_refused(calls, token):
    with pytest.raises(HostCommandError):
        iptables.IptablesManager("ns").apply({"nat": {"PREROUTING": [["-d", token]]}})
