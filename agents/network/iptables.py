"""Our own iptables chains in a namespace, rewritten atomically.

Each table we use gets, for every built-in chain we need, one chain of ours
(``stratus-<BUILTIN>``) jumped to from the top of the built-in chain. ``apply`` rewrites
all of our chains in one ``iptables-restore --noflush`` (each table commits atomically;
rules of anyone else stay untouched), so a router update never has a moment without NAT.
Rules are token lists, checked token by token: nothing can smuggle a second rule in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence

from agents.network import ip_lib
from agents.network.exception import HostCommandError

LOG = logging.getLogger(__name__)

PREFIX = "stratus-"
TABLES = ("filter", "nat", "mangle", "raw")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_.:/+!,-]+$")
_JUMP_RE = re.compile(r"^-A (\S+) -j (" + re.escape(PREFIX) + r"\S+)$")

# {table: {builtin chain: [rule tokens, ...]}}
Rules = Mapping[str, Mapping[str, Sequence[Sequence[str]]]]


def _line(tokens: Sequence[str]) -> str:
    for token in tokens:
        if not _TOKEN_RE.match(token):
            raise HostCommandError(f"refusing iptables token {token!r}")
    return " ".join(tokens)


class IptablesManager:
    """The stratus-* chains of one namespace (None: the host's)."""

    def __init__(self, ns: str | None, ipv6: bool = False):
        self.ns = ns
        self.save_cmd = "ip6tables-save" if ipv6 else "iptables-save"
        self.restore_cmd = "ip6tables-restore" if ipv6 else "iptables-restore"

    def _jumps(self) -> dict[str, set[tuple[str, str]]]:
        """(builtin, our chain) jumps present, per table."""
        out = ip_lib.execute_in(self.ns, [self.save_cmd])
        jumps: dict[str, set[tuple[str, str]]] = {}
        table = ""
        for line in out.splitlines():
            if line.startswith("*"):
                table = line[1:].strip()
                jumps.setdefault(table, set())
            elif line.startswith(":" + PREFIX):
                jumps.setdefault(table, set()).add(("", line[1:].split()[0]))
            else:
                match = _JUMP_RE.match(line.strip())
                if match:
                    jumps.setdefault(table, set()).add((match.group(1), match.group(2)))
        return jumps

    def apply(self, rules: Rules) -> None:
        """Make our chains hold exactly rules; chains of ours not named in rules are
        emptied and removed.

        :raises HostCommandError: a rule was refused or iptables-restore failed.
        """
        existing = self._jumps()
        script: list[str] = []
        for table in TABLES:
            wanted = {chain: list(lines) for chain, lines in rules.get(table, {}).items()}
            have = existing.get(table, set())
            have_chains = {ours for _, ours in have}
            have_jumps = {(b, ours) for b, ours in have if b}
            body: list[str] = []
            for builtin, lines in sorted(wanted.items()):
                ours = PREFIX + builtin
                body.append(f":{ours} - [0:0]")  # declared: created, or emptied
                if (builtin, ours) not in have_jumps:
                    body.append(f"-I {builtin} 1 -j {ours}")
                body += [f"-A {ours} {_line(tokens)}" for tokens in lines]
            stale = sorted(have_chains - {PREFIX + b for b in wanted})
            for ours in stale:
                body.append(f":{ours} - [0:0]")
            for builtin, ours in sorted(have_jumps):
                if ours in stale:
                    body.append(f"-D {builtin} -j {ours}")
            body += [f"-X {ours}" for ours in stale]
            if body:
                script += [f"*{table}", *body, "COMMIT"]
        if script:
            ip_lib.execute_in(self.ns, [self.restore_cmd, "--noflush"],
                              input="\n".join(script) + "\n")

    def clear(self) -> None:
        """Remove every chain of ours (and the jumps to them).

        :raises HostCommandError: iptables-restore failed.
        """
        self.apply({})

    def dump(self) -> list[str]:
        """Our rules as iptables-save prints them (``-A stratus-...`` lines, with the
        table as a ``*table`` header line), for checks and tests.

        :raises HostCommandError: iptables-save failed.
        """
        out = []
        for line in ip_lib.execute_in(self.ns, [self.save_cmd]).splitlines():
            if line.startswith("*") or line.startswith(f"-A {PREFIX}") or (
                    line.startswith("-A ") and f"-j {PREFIX}" in line):
                out.append(line)
        return out
