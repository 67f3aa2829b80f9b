"""Errors, the work-folder manifest and small helpers shared by the `tpuc` commands."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

MANIFEST = "tpuc_compile.json"
"""Written into the work folder by `tpuc compile`: paths, preprocessing, stages and metrics."""
TPU_CLOCK_MHZ = 650.0


class CliError(RuntimeError):
    """A user-facing failure: the message says what is wrong and, where it helps, what to do."""


class CompileError(CliError):
    """A compile stage failed (a check below its threshold, a tool error); `result` holds what
    was done until then."""

    def __init__(self, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.result = result


class StageUnavailable(CompileError):
    """A stage this build of tpuc cannot run yet; everything before it is in the work folder."""


def tool(name: str) -> str:
    """Path of an installed tpuc binary (tpuc-opt, tpuc-translate, model_runner, ...)."""
    from .._tools import tool_path

    try:
        return str(tool_path(name))
    except FileNotFoundError as error:
        raise CliError(str(error)) from None


_HELP_CACHE: dict[str, str] = {}


def tool_help(name: str) -> str:
    """The --help text of a tpuc binary (cached)."""
    if name not in _HELP_CACHE:
        done = subprocess.run([tool(name), "--help"], capture_output=True, text=True)
        _HELP_CACHE[name] = done.stdout + done.stderr
    return _HELP_CACHE[name]


def has_flag(name: str, flag: str) -> bool:
    """Whether the tool `name` lists the option `flag` (e.g. "--tpu-quant") in its help."""
    help_text = tool_help(name)
    return any(
        line.strip().startswith(flag + " ")
        or line.strip().startswith(flag + "=")
        or line.strip() == flag
        for line in help_text.splitlines()
    )


def run_tool(name: str, args: Iterable[str], what: str, log: Path | None = None) -> str:
    """Runs a tpuc binary; raises CompileError with its diagnostics when it fails. `log`
    receives the command line and everything the tool printed (remarks, warnings)."""
    command = [tool(name), *[str(a) for a in args]]
    done = subprocess.run(command, capture_output=True, text=True)
    if log is not None:
        log.write_text(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}")
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise CompileError(
            f"{what} failed ({name} exited with {done.returncode}):\n{detail}\n"
            f"command: {' '.join(command)}"
        )
    return done.stdout


def read_manifest(workdir: str | Path) -> dict[str, Any] | None:
    path = Path(workdir) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise CliError(f"{path} is not valid JSON: {error}") from None


def write_manifest(workdir: str | Path, data: Mapping[str, Any]) -> Path:
    path = Path(workdir) / MANIFEST
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")
    return path


def cycles_to_ms(cycles: float, clock_mhz: float = TPU_CLOCK_MHZ) -> float:
    return cycles / (clock_mhz * 1e3)
