"""A CPU-function library built with tpuc's SDK headers (cvi/runtime/CpuFunction.h) must run on
tpuc's runtime and on the vendor's CV18xx runtime alike: both hand setup() a cvi::OpParam and
cvi::runtime::Neuron objects of their own, which the library reads through the headers' inline
accessors. The probe library reads every kind of parameter the cvimodel format carries (int, float,
bool, string, int and float arrays) and checks the tensor accessors; it is embedded into a
cvimodel with tpuc-translate --custom-runtime-lib and run by model_runner and by the vendor
runtime, whose outputs must be equal to each other and to the expected values."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import IO0, IO1, REPO_ROOT, RUNTIME_INCLUDE, SHARED, find_tool

VENDOR_TOOLS = SHARED / "tools" / "vendor"

PROBE_SOURCE = r"""
#include "cvi/runtime/CpuFunction.h"

#include <stdexcept>
#include <string>
#include <vector>

// abi_probe: y = x * f + offset. `offset` adds up every parameter read through the SDK API, plus
// 1000 for each check of the parameters and tensors that fails.
class AbiProbe : public cvi::runtime::ICpuFunction {
public:
  static ICpuFunction *open() { return new AbiProbe(); }

  void setup(cvi::runtime::tensor_list_t &inputs, cvi::runtime::tensor_list_t &outputs,
             cvi::OpParam &param) override {
    in = inputs.at(0);
    out = outputs.at(0);
    int errors = 0;
    int32_t i = param.get<int32_t>("i");
    f = param.get<float>("f");
    const std::vector<int32_t> &iv = param.get<std::vector<int32_t>>("iv");
    const std::vector<float> &fv = param.get<std::vector<float>>("fv");
    const std::string &s = param.get<std::string>("s");
    bool b = param.get<bool>("b");
    long sum = i + (b ? 1 : 0) + long(s.size());
    for (int32_t v : iv)
      sum += v;
    float fsum = 0;
    for (float v : fv)
      fsum += v;
    errors += s != "hello";
    errors += param.has("missing");
    errors += !param.has("iv");
    bool threw = false;
    try {
      (void)param.get<float>("i"); // an int parameter read as float
    } catch (const std::exception &) {
      threw = true;
    }
    errors += !threw;

    size_t n = 1;
    for (int d : in->shape)
      n *= size_t(d);
    errors += in->shape.size() != 4 || in->shape != out->shape;
    errors += in->count() != n || out->count() != n;
    errors += in->size() != 4 * n || out->size() != 4 * n;
    errors += in->fmt != CVI_FMT_FP32 || out->fmt != CVI_FMT_FP32;
    errors += in->offset(0, 1, 0, 0) != size_t(in->shape[2]) * size_t(in->shape[3]);
    errors += in->offset(0, 0, 1, 2) != size_t(in->shape[3]) + 2;
    errors += in->name != "in" || out->name != "probe";
    errors += in->cpu_data<float>() == nullptr || out->cpu_data<float>() == nullptr;
    errors += in->cpu_data<float>() == out->cpu_data<float>();
    offset = float(sum + 1000L * errors) + fsum;
  }

  void run() override {
    const float *x = in->cpu_data<float>();
    float *y = out->cpu_data<float>();
    for (size_t k = 0; k < in->count(); ++k)
      y[k] = x[k] * f + offset;
  }

private:
  std::shared_ptr<cvi::runtime::Neuron> in, out;
  float f = 0, offset = 0;
};

REGISTER_OP_RUNTIME_FUNCS({"abi_probe", AbiProbe::open});
"""

MODEL = """
module attributes {tpu.chip = "cv183x", tpu.model_name = "abi_probe"} {
  func.func @main(%arg0: tensor<1x3x4x5xf32>) -> tensor<1x3x4x5xf32> {
    %0 = tpu.input %arg0 {name = "in", quant = {mode = "NONE", threshold_max = 2.0 : f64}}
           : (tensor<1x3x4x5xf32>) -> tensor<1x3x4x5xf32>
    %1 = tpu.custom_op %0 {name = "probe", operation_name = "abi_probe",
           param = {i = 7 : i32, f = 5.000000e-01 : f32, iv = [1 : i32, 2 : i32, 3 : i32],
                    fv = [2.500000e-01 : f32, 1.500000e+00 : f32], s = "hello", b = true},
           tpu = false, do_quant = false, quant = {mode = "NONE"}}
           : (tensor<1x3x4x5xf32>) -> tensor<1x3x4x5xf32>
    return %1 : tensor<1x3x4x5xf32>
  }
}
"""

BACKEND_FLAGS = [
    "--assign-weight-address", "--tpu-weight-address-align=16",
    "--tpu-weight-map-filename=weight_map.csv", "--tpu-weight-bin-filename=weight.bin",
    "--assign-neuron-address", "--tpu-neuron-address-align=64",
    "--tpu-neuron-map-filename=neuron_map.csv", "--divide-ops-to-func",
]  # fmt: skip

# i + b + len(s) + sum(iv), then sum(fv): 7 + 1 + 5 + 6 = 19, 0.25 + 1.5
EXPECTED_OFFSET = np.float32(19.0) + (np.float32(0.25) + np.float32(1.5))


def tool_path(name: str) -> Path:
    build = os.environ.get("TPUC_BUILD_DIR")
    if build:
        for sub in ("bin", "dialect/tools"):
            if (Path(build) / sub / name).is_file():
                return Path(build) / sub / name
    found = find_tool(name)
    if found is None:
        pytest.skip(f"{name} not found (set TPUC_BUILD_DIR or TPUC_BIN_DIR)")
    return found


def vendor_libdir() -> Path:
    """Folder with the vendor runtime libraries (fetch-runtime.sh downloads them once)."""
    if not (VENDOR_TOOLS / "run_cvimodel.py").is_file():
        pytest.skip(f"vendor runner not found under {VENDOR_TOOLS}")
    proc = subprocess.run(
        ["bash", str(VENDOR_TOOLS / "fetch-runtime.sh")], capture_output=True, text=True
    )
    libdir = Path(proc.stdout.strip()) if proc.returncode == 0 else None
    if libdir is None or not (libdir / "libcviruntime.so").is_file():
        pytest.skip(f"vendor runtime libraries unavailable: {proc.stderr[-300:]}")
    return libdir


def run_vendor(model: Path, inputs: Path, output: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(VENDOR_TOOLS / "run_cvimodel.py"), str(model), str(inputs),
         str(output), "--libdir", str(vendor_libdir())],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def probe_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not compiler:
        pytest.skip("no C++ compiler to build the probe library")
    work = tmp_path_factory.mktemp("probe")
    (work / "probe.cpp").write_text(PROBE_SOURCE)
    library = work / "libabi_probe_x86.so"
    subprocess.run(
        [compiler, "-std=c++17", "-O2", "-shared", "-fPIC", "-fvisibility=hidden",
         f"-I{RUNTIME_INCLUDE}", str(work / "probe.cpp"), "-o", str(library)],
        check=True,
    )  # fmt: skip
    return library


@pytest.fixture(scope="module")
def probe_model(probe_library: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("probe_model")
    (work / "model.mlir").write_text(MODEL)
    for cmd in (
        [tool_path("tpuc-opt"), "model.mlir", *BACKEND_FLAGS, "-o", "opt.mlir"],
        [tool_path("tpuc-translate"), "--mlir-to-cvimodel", "--weight-file", "weight.bin",
         f"--custom-runtime-lib={probe_library}", "opt.mlir", "-o", "probe.cvimodel"],
    ):  # fmt: skip
        proc = subprocess.run([str(c) for c in cmd], cwd=work, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    assert probe_library.read_bytes() in (work / "probe.cvimodel").read_bytes()
    return work / "probe.cvimodel"


def test_probe_library_on_tpuc_and_vendor_runtimes(probe_model: Path, tmp_path: Path) -> None:
    x = np.random.default_rng(7).normal(size=(1, 3, 4, 5)).astype(np.float32)
    np.savez(tmp_path / "in.npz", **{"in": x})
    expected = x * np.float32(0.5) + EXPECTED_OFFSET

    ours = subprocess.run(
        [str(tool_path("model_runner")), "--input", str(tmp_path / "in.npz"), "--model",
         str(probe_model), "--output", str(tmp_path / "ours.npz")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert ours.returncode == 0, ours.stderr
    got = np.load(tmp_path / "ours.npz")["probe"]
    np.testing.assert_array_equal(got, expected)

    vendor = run_vendor(probe_model, tmp_path / "in.npz", tmp_path / "vendor.npz")
    assert vendor.returncode == 0, vendor.stderr[-2000:]
    theirs = np.load(tmp_path / "vendor.npz")["probe"]
    assert theirs.dtype == got.dtype and theirs.shape == got.shape
    assert theirs.tobytes() == got.tobytes()


TYPE_NAMES = (
    b"N3cvi9FieldBaseE", b"N3cvi5FieldIiEE", b"N3cvi5FieldIfEE", b"N3cvi5FieldIbEE",
    b"N3cvi5FieldINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEEE",
    b"N3cvi5FieldISt6vectorIiSaIiEEEE", b"N3cvi5FieldISt6vectorIfSaIfEEEE",
)  # fmt: skip


def test_library_exports_and_type_names_match_the_vendor(
    probe_library: Path, tmp_path: Path
) -> None:
    """The library exports the two C symbols a runtime looks up, and the mangled type names its
    dynamic_casts compare (GCC compares type_info names across libraries) are the ones in the
    vendor runtime's library."""
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not found")
    symbols = subprocess.run([nm, "-D", "--defined-only", str(probe_library)],
                             capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    assert "customOpRuntimeFuncs" in symbols and "customOpRuntimeFuncsNum" in symbols
    ours = probe_library.read_bytes()
    vendor = (vendor_libdir() / "libcviruntime.so").read_bytes()
    for name in TYPE_NAMES:
        assert name in ours, name
        assert name in vendor, name


EXAMPLES = REPO_ROOT / "examples" / "custom_ops"


def build_example_runtime(source: Path, work: Path) -> bytes:
    compiler = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not compiler:
        pytest.skip("no C++ compiler")
    if not source.is_file():
        pytest.skip(f"{source} not found")
    library = work / f"lib{source.stem}.so"
    subprocess.run(
        [compiler, "-std=c++17", "-O2", "-shared", "-fPIC", f"-I{RUNTIME_INCLUDE}",
         f"-I{source.parent}", str(source), "-o", str(library)],
        check=True,
    )  # fmt: skip
    return library.read_bytes()


def run_both(rt: Any, model: bytes, feed: dict[str, np.ndarray], work: Path) -> tuple[dict, dict]:
    (work / "m.cvimodel").write_bytes(model)
    np.savez(work / "in.npz", **feed)
    ours = rt.Model.from_bytes(model).run(feed)
    proc = run_vendor(work / "m.cvimodel", work / "in.npz", work / "vendor.npz")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return ours, dict(np.load(work / "vendor.npz"))


def test_example_softmax_runtime_library_on_both_runtimes(
    rt: Any, builder: Any, cvi: Any, tmp_path: Path
) -> None:
    """examples/custom_ops/3_softmax_cpu's runtime library, embedded as the guide does."""
    library = build_example_runtime(EXAMPLES / "3_softmax_cpu" / "SoftmaxOpRuntime.cpp", tmp_path)
    b = builder("example_softmax")
    b.info.build_time, b.info.mlir_version = "2026-01-01 00:00:00", "tpuc"
    b.tensor("x", 0, [2, 10, 3, 1], IO0)
    b.tensor("y", 0, [2, 10, 3, 1], IO1)
    b.cpu_routine("mysoftmax", ["x"], ["y"], axis=1)
    b.section(cvi.SectionType.FUNC_X86, "custom_cpu_x86", library)
    b.io(["x"], ["y"])
    x = (np.random.default_rng(4).normal(size=(2, 10, 3, 1)) * 3).astype(np.float32)
    ours, vendor = run_both(rt, b.build(), {"x": x}, tmp_path)
    e = np.exp(x.astype(np.float64) - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(ours["y"], e / e.sum(axis=1, keepdims=True), rtol=2e-6)
    assert vendor["y"].tobytes() == ours["y"].tobytes()


def test_example_roialign_runtime_library_on_both_runtimes(
    rt: Any, builder: Any, cvi: Any, tmp_path: Path
) -> None:
    """examples/custom_ops/4_roialign's runtime library (int and float parameters, two inputs)."""
    library = build_example_runtime(EXAMPLES / "4_roialign" / "ROIAlignOpRuntime.cpp", tmp_path)
    b = builder("example_roialign")
    b.info.build_time, b.info.mlir_version = "2026-01-01 00:00:00", "tpuc"
    b.tensor("features", 0, [1, 4, 8, 8], IO0)
    b.tensor("rois", 0, [1, 1, 3, 5], IO1)
    b.tensor("out", 0, [3, 4, 2, 2], 5)
    b.cpu_routine("roialign", ["features", "rois"], ["out"], pooled_h=2, pooled_w=2,
                  sampling_ratio=2, spatial_scale=0.5)  # fmt: skip
    b.section(cvi.SectionType.FUNC_X86, "custom_cpu_x86", library)
    b.io(["features", "rois"], ["out"])
    rng = np.random.default_rng(5)
    features = rng.normal(size=(1, 4, 8, 8)).astype(np.float32)
    rois = np.array([[0, 0, 0, 10, 10], [0, 2, 4, 14, 12], [0, 5, 1, 9, 15]], np.float32)
    ours, vendor = run_both(
        rt, b.build(), {"features": features, "rois": rois.reshape(1, 1, 3, 5)}, tmp_path
    )
    assert np.isfinite(ours["out"]).all() and np.abs(ours["out"]).max() > 0
    assert vendor["out"].tobytes() == ours["out"].tobytes()
