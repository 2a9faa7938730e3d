"""Every unit in systemd/ passes `systemd-analyze verify`, and every daemon has one."""

from __future__ import annotations

import configparser
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "systemd").glob("*.service"))
INSTALLED_VENV = "/opt/stratus/venv"


def _console_scripts() -> set[str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    lines = parser["options.entry_points"]["console_scripts"].strip().splitlines()
    return {line.split("=")[0].strip() for line in lines}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_units_verify(tmp_path):
    # Outside an installed host the venv lives elsewhere: point the copies at this one.
    venv = INSTALLED_VENV if pathlib.Path(INSTALLED_VENV, "bin").is_dir() else sys.prefix
    copies = []
    for unit in UNITS:
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace(INSTALLED_VENV, venv))
        copies.append(str(copy))
    result = subprocess.run(["systemd-analyze", "verify", *copies],
                            capture_output=True, text=True)
    problems = [line for line in result.stderr.splitlines()
                if "Failed to" in line or "is not executable" in line or "Unknown" in line]
    assert result.returncode == 0 and not problems, result.stderr


def test_every_daemon_has_a_unit():
    daemons = {s for s in _console_scripts() if s != "stratus-manage"}
    units = {u.name.removesuffix(".service").removesuffix("@") for u in UNITS}
    missing = sorted(d for d in daemons if d not in units)
    assert not missing, f"daemons without a systemd unit: {missing}"
