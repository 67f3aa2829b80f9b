"""Shared fixtures for the runtime tests: locating the built package and tools, the vendor
conformance vectors, and building small cvimodels with tpuc.runtime.cvimodel."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
CONFORMANCE = SHARED / "conformance"
RUNTIME_INCLUDE = REPO_ROOT / "runtime" / "include"

# Memory regions of a global address (bits 42:40).
SHARED_REGION, WEIGHT_REGION, PRIVATE_REGION, IO0, IO1 = 0, 1, 2, 3, 4


@pytest.fixture(scope="session")
def rt() -> Any:
    return pytest.importorskip(
        "tpuc.runtime",
        reason="tpuc.runtime is not built (put the build's python_packages on PYTHONPATH)",
    )


@pytest.fixture(scope="session")
def cvi(rt: Any) -> Any:
    from tpuc.runtime import cvimodel

    return cvimodel


def find_tool(name: str) -> Path | None:
    """A built tool: $TPUC_BIN_DIR/name, then PATH, then the build tree next to the package."""
    env = os.environ.get("TPUC_BIN_DIR")
    if env and (Path(env) / name).is_file():
        return Path(env) / name
    found = shutil.which(name)
    if found:
        return Path(found)
    try:
        import tpuc.runtime
    except ImportError:
        return None
    package_root = Path(os.path.abspath(tpuc.runtime.__file__)).parents[2]
    for candidate in (package_root.parent / "bin" / name, package_root / "tpuc" / "_bin" / name):
        if candidate.is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def tool() -> Callable[[str], Path]:
    def get(name: str) -> Path:
        path = find_tool(name)
        if path is None:
            pytest.skip(f"tool '{name}' not found (set TPUC_BIN_DIR or PATH)")
        return path

    return get


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    if not CONFORMANCE.is_dir():
        pytest.skip(f"vendor conformance vectors not found at {CONFORMANCE}")
    return CONFORMANCE


def address(region: int, offset: int) -> int:
    return (region << 40) | offset


class ModelBuilder:
    """Builds a one-program cvimodel description; `build()` returns the file image."""

    def __init__(self, cvi: Any, name: str = "test_model") -> None:
        self.cvi = cvi
        self.info = cvi.CvimodelInfo()
        self.info.name = name
        self.info.target = "cv183x"
        self.info.chip = "cv183x"
        self.program = cvi.ProgramInfo()
        self.info.programs.append(self.program)
        self.program = self.info.programs[0]

    def tensor(
        self,
        name: str,
        dtype: int,
        shape: list[int],
        region: int,
        offset: int = 0,
        qscale: float = 1.0,
        overwrote: bool = False,
    ) -> None:
        t = self.cvi.TensorInfo()
        t.id = len(self.program.tensors)
        t.name = name
        t.dtype = int(dtype)
        t.shape = list(shape)
        t.offset = address(region, offset)
        q = self.cvi.QuantInfo()
        q.qscale = qscale
        t.quant = q
        t.overwrote = overwrote
        t.size = int(np.prod(shape)) * {0: 4, 1: 4, 2: 4, 3: 2, 4: 2, 5: 2, 6: 1, 7: 1}.get(
            int(dtype), 1
        )
        self.program.tensors.append(t)

    def cpu_routine(self, function: str, ins: list[str], outs: list[str], **params: Any) -> None:
        r = self.cvi.RoutineInfo()
        r.type = int(self.cvi.RoutineType.CPU)
        r.in_tensors = ins
        r.out_tensors = outs
        r.has_cpu_routine = True
        r.function_name = function
        r.function_args = self.cvi.encode_params(params)
        self.program.routines.append(r)

    def tpu_routine(self, section: str, ins: list[str], outs: list[str]) -> None:
        r = self.cvi.RoutineInfo()
        r.type = int(self.cvi.RoutineType.TPU)
        r.in_tensors = ins
        r.out_tensors = outs
        r.has_tpu_routine = True
        r.cmdbuf_section = section
        self.program.routines.append(r)

    def section(self, kind: int, name: str, data: bytes, compress: bool = False) -> None:
        s = self.cvi.SectionInfo()
        s.type = int(kind)
        s.name = name
        s.data = data
        s.compress = compress
        self.info.sections.append(s)

    def io(self, inputs: list[str], outputs: list[str], private: int = 0, shared: int = 0) -> None:
        self.program.input_tensors = inputs
        self.program.output_tensors = outputs
        self.program.private_gmem = private
        self.program.shared_gmem = shared

    def build(self) -> bytes:
        return self.cvi.write(self.info)


@pytest.fixture
def builder(cvi: Any) -> Callable[..., ModelBuilder]:
    return lambda name="test_model": ModelBuilder(cvi, name)


PLUGIN_SOURCE = r"""
#include "cvi/runtime/CpuFunction.h"
#include <cmath>
#include <stdexcept>

// Softmax over the channel axis of an fp32 NCHW tensor; `axis` must be 1.
class MySoftmax : public cvi::runtime::ICpuFunction {
public:
  static ICpuFunction *open() { return new MySoftmax(); }
  void setup(cvi::runtime::tensor_list_t &inputs, cvi::runtime::tensor_list_t &outputs,
             cvi::OpParam &param) override {
    if (param.get<int32_t>("axis") != 1)
      throw std::runtime_error("mysoftmax supports axis 1 only");
    in = inputs.at(0);
    out = outputs.at(0);
    if (in->fmt != CVI_FMT_FP32 || out->fmt != CVI_FMT_FP32 || in->count() != out->count())
      throw std::runtime_error("mysoftmax needs matching fp32 tensors");
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

// Scales by the float parameter `factor`; throws from run() when `fail_in_run` is set.
class MyScale : public cvi::runtime::ICpuFunction {
public:
  static ICpuFunction *open() { return new MyScale(); }
  void setup(cvi::runtime::tensor_list_t &inputs, cvi::runtime::tensor_list_t &outputs,
             cvi::OpParam &param) override {
    in = inputs.at(0);
    out = outputs.at(0);
    factor = param.get<float>("factor");
    fail = param.has("fail_in_run") && param.get<bool>("fail_in_run");
  }
  void run() override {
    if (fail)
      throw std::runtime_error("myscale was asked to fail");
    for (size_t i = 0; i < in->count(); ++i)
      out->cpu_data<float>()[i] = in->cpu_data<float>()[i] * factor;
  }
private:
  std::shared_ptr<cvi::runtime::Neuron> in, out;
  float factor = 1;
  bool fail = false;
};

REGISTER_OP_RUNTIME_FUNCS({"mysoftmax", MySoftmax::open}, {"myscale", MyScale::open});
"""


@pytest.fixture(scope="session")
def cpu_plugin(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A custom CPU-function library (mysoftmax, myscale) built from the SDK headers."""
    compiler = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not compiler:
        pytest.skip("no C++ compiler to build the test plugin")
    work = tmp_path_factory.mktemp("plugin")
    source = work / "plugin.cpp"
    source.write_text(PLUGIN_SOURCE)
    library = work / "libtestplugin.so"
    subprocess.run(
        [
            compiler,
            "-std=c++17",
            "-O1",
            "-shared",
            "-fPIC",
            f"-I{RUNTIME_INCLUDE}",
            str(source),
            "-o",
            str(library),
        ],
        check=True,
    )
    return library.read_bytes()
