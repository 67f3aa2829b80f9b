# lit configuration of the tpuc regression tests. Runs against the installed tpuc (tools on PATH,
# `import tpuc`), or against a build tree when TPUC_BUILD_DIR is set.
import os
import shutil
import sys
import tempfile

import lit.formats
import llvm

config.name = "tpuc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".py"]
config.excludes = ["lit.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
# Temporary files (%t) go outside the source tree, in a directory of this run's own so that
# concurrent runs never share test outputs.
config.test_exec_root = os.environ.get("TPUC_LIT_OUTPUT_DIR") or tempfile.mkdtemp(
    prefix="tpuc-lit-"
)

path = [os.path.join(os.path.dirname(llvm.__file__), "bin"), os.path.dirname(sys.executable)]
build_dir = os.environ.get("TPUC_BUILD_DIR")
if build_dir:
    path.insert(0, os.path.join(build_dir, "dialect", "tools"))
    config.environment["PYTHONPATH"] = os.path.join(build_dir, "python_packages")
config.environment["PATH"] = os.pathsep.join(path + [os.environ.get("PATH", "")])
for var in ("HOME", "TMPDIR"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

config.substitutions.append(("%PYTHON", sys.executable))

# The stock mlir-opt of the xtc wheel and our plugin for it.
import mlir  # noqa: E402

stock_mlir_opt = os.path.join(list(mlir.__path__)[0], "bin", "mlir-opt")
if build_dir:
    plugin = os.path.join(build_dir, "dialect", "tools", "libTpuPlugin.so")
else:
    tpuc_config = shutil.which("tpuc-config", path=config.environment["PATH"])
    plugin = os.popen(f"{tpuc_config} --plugin").read().strip() if tpuc_config else ""
config.substitutions.append(("%stock_mlir_opt", stock_mlir_opt))
config.substitutions.append(("%tpu_plugin", plugin))
