"""The one way Stratus runs host commands: an argv list, never a shell string."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence

LOG = logging.getLogger(__name__)


class ProcessExecutionError(Exception):
    """A command exited non-zero (or could not run); carries what it said."""

    def __init__(self, argv: Sequence[str], exit_code: int | None, stdout: str, stderr: str):
        self.argv = list(argv)
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"command {self.argv!r} failed with exit code {exit_code}: {stderr.strip()[:500]}")


def execute(argv: Sequence[str], *, check: bool = True, input: str | None = None,
            timeout: float | None = 120, env: dict[str, str] | None = None) -> str:
    """Run argv and return its stdout.

    :raises ProcessExecutionError: the command failed (when check) or could not start.
    :raises TypeError: argv is a string, which would invite shell-style splitting.
    """
    if isinstance(argv, str) or not all(isinstance(arg, str) for arg in argv):
        raise TypeError("execute() takes a list of strings")
    LOG.debug("running %s", argv)
    try:
        proc = subprocess.run(list(argv), input=input, capture_output=True, text=True,
                              timeout=timeout, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProcessExecutionError(argv, None, "", str(exc)) from exc
    if check and proc.returncode != 0:
        raise ProcessExecutionError(argv, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout
