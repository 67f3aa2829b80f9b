"""Every way loading or calling a custom-op plugin can fail gives an error naming the plugin,
the op and the hook: in the interpreter and in tpu-quant."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from .plugin_helpers import Plugin, interpret, leaky_relu_module, rand, run, softmax_module


def quant_errors(opt_cli: Path, tmp_path: Path, mlir: str, *plugins: Path) -> str:
    model = tmp_path / "fp32.mlir"
    model.write_text(mlir)
    args: list[object] = [opt_cli, model, "--tpu-quant", "-o", tmp_path / "out.mlir"]
    for p in plugins:
        args += ["--custom-op-plugin", p]
    result = run(*args)
    assert result.returncode != 0
    return result.stderr


def interpreter_errors(cli: Path, tmp_path: Path, mlir: str, *plugins: Path) -> str:
    result, _ = interpret(cli, tmp_path, mlir, rand(), *plugins)
    assert result.returncode != 0
    return result.stderr


@pytest.fixture(scope="module")
def foreign_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library exporting a factory by the right name without tpuc's CustomOp.h behind it."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not compiler:
        pytest.skip("no C compiler to build a test library")
    tmp = tmp_path_factory.mktemp("foreign")
    source = tmp / "plugin.c"
    source.write_text("void *CustomOpleaky_reluCreate(void *param) { return 0; }\n")
    library = tmp / "libForeign.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return library


# -- missing library ----------------------------------------------------------------------------


def test_missing_library_interpreter(interpreter_cli: Path, tmp_path: Path) -> None:
    missing = tmp_path / "libNope.so"
    stderr = interpreter_errors(interpreter_cli, tmp_path, leaky_relu_module(), missing)
    assert f"cannot load custom-op plugin '{missing}'" in stderr


def test_missing_library_quant(opt_cli: Path, tmp_path: Path) -> None:
    missing = tmp_path / "libNope.so"
    stderr = quant_errors(opt_cli, tmp_path, leaky_relu_module(thresholds=(4.0, 3.0)), missing)
    assert f"tpu-quant: layer 'lrelu': cannot load custom-op plugin '{missing}'" in stderr


def test_no_plugin_quant(opt_cli: Path, tmp_path: Path) -> None:
    stderr = quant_errors(opt_cli, tmp_path, leaky_relu_module(thresholds=(4.0, 3.0)))
    assert (
        "custom op 'lrelu' (operation_name 'leaky_relu') needs a custom-op plugin, but none "
        "is loaded (pass --custom-op-plugin <lib>)"
    ) in stderr


# -- missing symbol / unknown operation_name ----------------------------------------------------


def test_factory_without_sdk_symbols(
    interpreter_cli: Path, opt_cli: Path, tmp_path: Path, foreign_library: Path
) -> None:
    expected = (
        f"plugin '{foreign_library}': custom op 'leaky_relu': the plugin exports "
        "CustomOpleaky_reluCreate but not CustomOpleaky_reluAbiVersion: it was not built "
        "with tpuc's cvi/CustomOp.h (RegisterCustomOp)"
    )
    assert expected in interpreter_errors(
        interpreter_cli, tmp_path, leaky_relu_module(), foreign_library
    )
    stderr = quant_errors(
        opt_cli, tmp_path, leaky_relu_module(thresholds=(4.0, 3.0)), foreign_library
    )
    assert (
        expected.replace(
            "custom op 'leaky_relu'", "custom op 'lrelu' (operation_name 'leaky_relu')"
        )
        in stderr
    )


def test_unknown_operation_interpreter(
    interpreter_cli: Path, plugin: Plugin, tmp_path: Path
) -> None:
    stderr = interpreter_errors(
        interpreter_cli, tmp_path, leaky_relu_module(operation="roi_align"), plugin.library
    )
    assert re.search(
        r"tpu.custom_op 'lrelu'.*no custom-op plugin implements operation "
        r"'roi_align' \(searched: plugin .*libCustomOpPlugin.so\)",
        stderr,
    ), stderr


def test_unknown_operation_quant(opt_cli: Path, plugin: Plugin, tmp_path: Path) -> None:
    stderr = quant_errors(
        opt_cli,
        tmp_path,
        leaky_relu_module(operation="roi_align", thresholds=(4.0, 3.0)),
        plugin.library,
    )
    assert (
        f"custom op 'lrelu' (operation_name 'roi_align'): no custom-op plugin exports "
        f"CustomOproi_alignCreate (unknown operation_name 'roi_align'; searched "
        f"'{plugin.library}')"
    ) in stderr


# -- wrong param type ---------------------------------------------------------------------------

WRONG_TYPE = "OpParam: parameter 'negative_slope' is a int32, not a float"


def test_wrong_param_type_interpreter(
    interpreter_cli: Path, plugin: Plugin, tmp_path: Path
) -> None:
    stderr = interpreter_errors(
        interpreter_cli, tmp_path, leaky_relu_module(slope="1 : i32"), plugin.library
    )
    assert (
        f"plugin '{plugin.library}': custom op 'leaky_relu': interpretFp32 failed: "
        f"uncaught exception: {WRONG_TYPE}"
    ) in stderr


def test_wrong_param_type_quant(opt_cli: Path, plugin: Plugin, tmp_path: Path) -> None:
    stderr = quant_errors(
        opt_cli, tmp_path, leaky_relu_module(slope="1 : i32", thresholds=(4.0, 3.0)), plugin.library
    )
    assert (
        f"tpu-quant: layer 'lrelu': plugin '{plugin.library}': custom op 'lrelu' "
        f"(operation_name 'leaky_relu'): quantizeInt8 failed: uncaught exception: "
        f"{WRONG_TYPE}"
    ) in stderr


def test_param_without_opparam_type(opt_cli: Path, plugin: Plugin, tmp_path: Path) -> None:
    stderr = quant_errors(
        opt_cli,
        tmp_path,
        leaky_relu_module(thresholds=(4.0, 3.0), extra_param="big = 5000000000 : i64"),
        plugin.library,
    )
    assert "param 'big': 5000000000 does not fit the 32-bit integers of cvi::OpParam" in stderr


# -- unimplemented hook, errors reported by the plugin -----------------------------------------


def test_unimplemented_hook_quant(opt_cli: Path, plugin: Plugin, tmp_path: Path) -> None:
    stderr = quant_errors(
        opt_cli, tmp_path, softmax_module(do_quant=True, thresholds=(4.0, 1.0)), plugin.library
    )
    assert (
        f"plugin '{plugin.library}': custom op 'prob' (operation_name 'mysoftmax'): "
        "quantizeInt8 is not implemented by the plugin (override "
        "cvi::CustomOp::quantizeInt8)"
    ) in stderr


def test_plugin_reported_error_interpreter(
    interpreter_cli: Path, plugin: Plugin, tmp_path: Path
) -> None:
    stderr = interpreter_errors(interpreter_cli, tmp_path, softmax_module(axis=7), plugin.library)
    assert (
        f"plugin '{plugin.library}': custom op 'mysoftmax': interpretFp32 failed: axis 7 is "
        "out of range for a rank-4 input"
    ) in stderr


def test_plugin_reported_error_quant(opt_cli: Path, plugin: Plugin, tmp_path: Path) -> None:
    stderr = quant_errors(
        opt_cli, tmp_path, leaky_relu_module(thresholds=(1000.0, 1.0)), plugin.library
    )
    assert "quantizeInt8 failed: positive scale 1000.000000 exceeds 127" in stderr


def test_threshold_overwrite_not_applied(opt_cli: Path, plugin: Plugin, tmp_path: Path) -> None:
    stderr = quant_errors(
        opt_cli,
        tmp_path,
        leaky_relu_module(thresholds=(4.0, 3.0), overwrite="forward"),
        plugin.library,
    )
    assert (
        "threshold_overwrite = forward but its threshold 3.000000 differs from its input's "
        "4.000000; import the calibration table with --import-calibration-table"
    ) in stderr


# -- ABI version, constructor ------------------------------------------------------------------

BAD_PLUGIN = r"""
#include "cvi/CustomOp.h"
#include <stdexcept>

namespace {
class Throwing : public cvi::CustomOp {
public:
  Throwing(cvi::OpParam &param) : cvi::CustomOp(param) {
    throw std::runtime_error("cannot configure: " + param.get<std::string>("mode"));
  }
};
class Fine : public cvi::CustomOp {
public:
  using cvi::CustomOp::CustomOp;
};
} // namespace

RegisterCustomOp(bad_ctor, Throwing);
#undef CVI_CUSTOM_OP_ABI_VERSION
#define CVI_CUSTOM_OP_ABI_VERSION 99
RegisterCustomOp(leaky_relu, Fine);
"""


@pytest.fixture(scope="module")
def bad_plugin(cmake_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("g++") or shutil.which("c++")
    if not compiler:
        pytest.skip("no C++ compiler")
    tmp = tmp_path_factory.mktemp("bad")
    (tmp / "bad.cpp").write_text(BAD_PLUGIN)
    library = tmp / "libBad.so"
    include = cmake_dir.parent.parent.parent / "include"
    run(
        compiler,
        "-std=c++20",
        "-shared",
        "-fPIC",
        f"-I{include}",
        "-o",
        library,
        tmp / "bad.cpp",
        check=True,
    )
    return library


def test_abi_version_mismatch(interpreter_cli: Path, tmp_path: Path, bad_plugin: Path) -> None:
    stderr = interpreter_errors(interpreter_cli, tmp_path, leaky_relu_module(), bad_plugin)
    assert (
        f"plugin '{bad_plugin}': custom op 'leaky_relu': the plugin was built for custom-op "
        "ABI version 99, this tpuc uses version 2; rebuild it against this tpuc"
    ) in stderr


def test_constructor_failure(opt_cli: Path, tmp_path: Path, bad_plugin: Path) -> None:
    stderr = quant_errors(
        opt_cli,
        tmp_path,
        leaky_relu_module(operation="bad_ctor", thresholds=(4.0, 3.0), extra_param='mode = "fast"'),
        bad_plugin,
    )
    assert (
        f"plugin '{bad_plugin}': custom op 'lrelu' (operation_name 'bad_ctor'): constructor "
        "failed: cannot configure: fast"
    ) in stderr


def test_bare_library_name_in_the_current_directory(
    interpreter_cli: Path, plugin: Plugin, tmp_path: Path
) -> None:
    model = tmp_path / "model.mlir"
    model.write_text(leaky_relu_module())
    np.savez(tmp_path / "in.npz", **{"in": rand()})
    result = run(
        interpreter_cli,
        model,
        "--tensor-in",
        tmp_path / "in.npz",
        "--custom-op-plugin",
        plugin.library.name,
        cwd=plugin.build,
    )
    assert result.returncode == 0, result.stderr
    result = run(
        interpreter_cli,
        model,
        "--tensor-in",
        tmp_path / "in.npz",
        "--custom-op-plugin",
        plugin.library.name,
        cwd=tmp_path,
    )
    assert "cannot load custom-op plugin 'libCustomOpPlugin.so'" in result.stderr
