"""etc/*.conf.sample must match the options in code: run tools/generate-config.sh."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "etc" / "oslo-config-generator").glob("*.conf"))


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_sample_config_is_current(spec, tmp_path):
    settings = dict(line.split(" = ", 1) for line in spec.read_text().splitlines()
                    if " = " in line)
    output = tmp_path / "sample.conf"
    generator = pathlib.Path(sys.executable).parent / "oslo-config-generator"
    subprocess.run([str(generator), "--config-file", str(spec), "--output-file", str(output)],
                   check=True, cwd=ROOT)
    committed = ROOT / settings["output_file"]
    assert committed.read_text() == output.read_text(), (
        f"{committed.name} is stale: run tools/generate-config.sh and commit the result")
