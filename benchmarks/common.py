"""What the benchmark scripts share: the machine's CPU, and the command line that ran
a script, as their reports print them. (Imported by the scripts as ``common``: each
runs with its own directory first on ``sys.path``.)"""

from __future__ import annotations

import platform
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what :mod:`platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def command_line(script: str, argv: Sequence[str]) -> str:
    """The command that ran ``script`` with ``argv``, paths relative to the working
    directory where they lie below it."""

    def rel(path: str) -> str:
        try:
            return str(Path(path).relative_to(Path.cwd()))
        except ValueError:
            return path

    return shlex.join([rel(sys.executable), rel(str(Path(script).resolve())), *argv])
