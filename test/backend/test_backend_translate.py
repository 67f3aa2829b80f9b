"""tpuc-translate --mlir-to-cvimodel: CPU routines (quant both ways, a custom CPU function from an
embedded runtime library), --custom-runtime-lib section types by ELF machine, and errors."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from .test_backend_conformance import BACKEND_FLAGS, _tool

RUNTIME_INCLUDE = Path(__file__).resolve().parents[2] / "runtime" / "include"

PLUGIN_SOURCE = r"""
#include "cvi/runtime/CpuFunction.h"
#include <cmath>
#include <stdexcept>

// Softmax over the channel axis of an fp32 NCHW tensor.
class MySoftmax : public cvi::runtime::ICpuFunction {
public:
  static ICpuFunction *open() { return new MySoftmax(); }
  void setup(cvi::runtime::tensor_list_t &inputs, cvi::runtime::tensor_list_t &outputs,
             cvi::OpParam &param) override {
    if (param.get<int32_t>("axis") != 1)
      throw std::runtime_error("mysoftmax supports axis 1 only");
    in = inputs.at(0);
    out = outputs.at(0);
  }
  void run() override {
    int n = in->shape[0], c = in->shape[1], hw = int(in->count()) / (n * c);
    const float *x = in->cpu_data<float>();
    float *y = out->cpu_data<float>();
    for (int b = 0; b < n; ++b)
      for (int s = 0; s < hw; ++s) {
        float mx = -INFINITY, sum = 0;
        for (int k = 0; k < c; ++k) mx = std::fmax(mx, x[(b * c + k) * hw + s]);
        for (int k = 0; k < c; ++k) sum += std::exp(x[(b * c + k) * hw + s] - mx);
        for (int k = 0; k < c; ++k)
          y[(b * c + k) * hw + s] = std::exp(x[(b * c + k) * hw + s] - mx) / sum;
      }
  }
private:
  std::shared_ptr<cvi::runtime::Neuron> in, out;
};

REGISTER_OP_RUNTIME_FUNCS({"mysoftmax", MySoftmax::open});
"""

# input -> quant (CPU) -> relu, dequant (TPU, bf16 precision) -> mysoftmax (CPU)
MODEL = """
module attributes {tpu.chip = "cv183x", tpu.model_name = "cpu_ops"} {
  func.func @main(%arg0: tensor<1x5x3x1xf32>) -> tensor<1x5x3x1xf32> {
    %0 = tpu.input %arg0 {name = "in", quant = {mode = "NONE", threshold_max = 2.0 : f64}}
           : (tensor<1x5x3x1xf32>) -> tensor<1x5x3x1xf32>
    %1 = tpu.quant %0 {from = "FP32", to = "INT8", scale = 63.5 : f32, name = "in_quant",
           quant = {mode = "INT8", threshold_max = 2.0 : f64}}
           : (tensor<1x5x3x1xf32>) -> tensor<1x5x3x1xi8>
    %2 = tpu.relu %1 {name = "r", quant = {mode = "INT8", threshold_max = 2.0 : f64}}
           : (tensor<1x5x3x1xi8>) -> tensor<1x5x3x1xi8>
    %3 = tpu.quant %2 {from = "INT8", to = "FP32", scale = 63.5 : f32, name = "sm_in0_dequant",
           quant = {mode = "NONE", threshold_max = 2.0 : f64}}
           : (tensor<1x5x3x1xi8>) -> tensor<1x5x3x1xf32>
    %4 = tpu.custom_op %3 {name = "sm", operation_name = "mysoftmax", param = {axis = 1 : i32},
           tpu = false, do_quant = false, quant = {mode = "NONE"}}
           : (tensor<1x5x3x1xf32>) -> tensor<1x5x3x1xf32>
    return %4 : tensor<1x5x3x1xf32>
  }
}
"""


def _bf16(x: np.ndarray | np.float32) -> np.ndarray:
    """Round float32 to bfloat16 (nearest even), returned as float32."""
    bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32)


def _run(cmd: list, cwd: Path, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=300, **kw
    )


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not compiler:
        pytest.skip("no C++ compiler to build the test plugin")
    work = tmp_path_factory.mktemp("plugin")
    (work / "plugin.cpp").write_text(PLUGIN_SOURCE)
    library = work / "libmysoftmax_x86.so"
    subprocess.run(
        [compiler, "-std=c++17", "-O1", "-shared", "-fPIC", f"-I{RUNTIME_INCLUDE}",
         str(work / "plugin.cpp"), "-o", str(library)],
        check=True,
    )  # fmt: skip
    return library


@pytest.fixture()
def divided(tmp_path: Path) -> Path:
    (tmp_path / "model.mlir").write_text(MODEL)
    proc = _run([_tool("tpuc-opt"), "model.mlir", *BACKEND_FLAGS, "-o", "opt.mlir"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    return tmp_path


def _translate(work: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _run(
        [_tool("tpuc-translate"), "--mlir-to-cvimodel", "--weight-file", "weight.bin",
         *extra, "opt.mlir", "-o", "model.cvimodel"],
        work,
    )  # fmt: skip


def test_cpu_routines_and_embedded_custom_function(divided: Path, plugin: Path) -> None:
    proc = _translate(divided, f"--custom-runtime-lib={plugin}")
    assert proc.returncode == 0, proc.stderr
    info = _run([_tool("cvimodel"), "model.cvimodel"], divided)
    assert info.returncode == 0, info.stderr
    text = info.stdout
    assert "function quant (from=FP32, scale=63.500000, to=INT8)" in text
    assert "from=INT8" not in text  # dequantization runs on the TPU
    assert "function mysoftmax (axis=1)" in text
    assert "func_x86      libmysoftmax_x86.so" in text

    x = np.random.default_rng(0).normal(size=(1, 5, 3, 1)).astype(np.float32)
    np.savez(divided / "in.npz", **{"in": x})
    run = _run(
        [_tool("model_runner"), "--input", "in.npz", "--model", "model.cvimodel",
         "--output", "out.npz"],
        divided,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = np.load(divided / "out.npz")["sm"]
    q = np.clip(np.sign(x * np.float32(63.5)) * np.floor(np.abs(x * np.float32(63.5)) + 0.5),
                -128, 127)  # fmt: skip
    # TPU dequantization: bf16_rne(q * bf16_rne(threshold / 127)) (the vendor's Cast).
    step = _bf16(np.float32(2.0 / 127))
    deq = _bf16(np.maximum(q, 0).astype(np.float32) * step)
    e = np.exp(deq - deq.max(axis=1, keepdims=True))
    np.testing.assert_allclose(out, e / e.sum(axis=1, keepdims=True), rtol=1e-6)


def test_custom_runtime_lib_section_type_by_elf_machine(divided: Path, plugin: Path) -> None:
    fake = bytearray(plugin.read_bytes())
    fake[18:20] = (0xB7).to_bytes(2, "little")
    arm = divided / "libmysoftmax_arm64.so"
    arm.write_bytes(bytes(fake))
    proc = _translate(divided, f"--custom-runtime-lib={arm},{plugin}")
    assert proc.returncode == 0, proc.stderr
    text = _run([_tool("cvimodel"), "model.cvimodel"], divided).stdout.lower()
    assert "libmysoftmax_arm64.so" in text and "libmysoftmax_x86.so" in text
    arm_line = next(line for line in text.splitlines() if "libmysoftmax_arm64.so" in line)
    x86_line = next(line for line in text.splitlines() if "libmysoftmax_x86.so" in line)
    assert "aarch64" in arm_line and "x86" in x86_line


def test_custom_runtime_lib_must_be_elf(divided: Path) -> None:
    (divided / "notelf.so").write_bytes(b"hello world, not a library")
    proc = _translate(divided, "--custom-runtime-lib=notelf.so")
    assert proc.returncode != 0
    assert "'notelf.so' is not an ELF file" in proc.stderr


def test_undivided_module_is_refused(tmp_path: Path) -> None:
    (tmp_path / "opt.mlir").write_text(MODEL)
    proc = _translate(tmp_path)
    assert proc.returncode != 0
    assert "run --assign-neuron-address first" in proc.stderr


def test_missing_weight_file(divided: Path) -> None:
    proc = _run(
        [_tool("tpuc-translate"), "--mlir-to-cvimodel", "--weight-file", "nope.bin", "opt.mlir",
         "-o", "model.cvimodel"],
        divided,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "cannot read weight file 'nope.bin'" in proc.stderr
