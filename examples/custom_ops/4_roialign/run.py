#!/usr/bin/env python3
"""The custom-op guide's fourth example: ROIAlign as a CPU custom op in a hand-written MLIR file
holding only that op, quantized with a pseudo calibration table, down to the cvimodel.

    python examples/custom_ops/4_roialign/run.py [--workdir DIR] [--plugin-build DIR]

Steps (the guide's commands, run in the work folder):
  1. the compiler plugin (ROIAlignOp.cpp: interpretFp32) and the runtime library
     (ROIAlignOpRuntime.cpp), both on ROIAlign.h, built with CMake against
     `tpuc-config --cmake-dir`; the aarch64 runtime library too when the cross compiler exists;
  2. roialign.mlir (this folder): mlir-opt --gen-pseudo-weight-npz --pseudo-calibration-table,
     then --assign-layer-id ...;
  3. mlir-tpu-interpreter (fp32) against the numpy ROIAlign below;
  4. mlir-opt --import-calibration-table (the pseudo table) --tpu-quant, INT8 interpreter;
  5. the backend passes, mlir-translate --mlir-to-cvimodel --custom-runtime-lib <arm64>,<x86>;
  6. model_runner (tpuc's simulator runs the embedded x86 library) and the vendor runtime: the
     same bytes as each other, and the INT8 interpreter's values.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NAME = "roialign"
FEATURES = (1, 16, 24, 32)
POOLED, SAMPLING, SCALE = 7, 2, 0.25
VENDOR_RUNNER = Path(
    os.environ.get("TPUC_VENDOR_RUNNER", "/work/shared/tools/vendor/run_cvimodel.py")
)
BACKEND_FLAGS = [
    "--tpu-lower", "--reorder-op", "--eltwise-early-stride", "--tg-fuse-leakyrelu",
    "--conv-ic-alignment", "--group-ops", "--dce", "--deep-fusion-group-slice",
    "--deep-fusion-opt", "--tg-op-tile", "--compress-activation", "--compress-weight",
    "--assign-weight-address", "--tpu-weight-address-align=16",
    "--tpu-weight-map-filename=weight_map.csv", "--tpu-weight-bin-filename=weight.bin",
    "--assign-neuron-address", "--tpu-neuron-memory-reuse", "--tpu-neuron-address-align=64",
    "--tpu-neuron-map-filename=neuron_map.csv", "--divide-ops-to-func",
]  # fmt: skip


def roi_align_reference(x: np.ndarray, rois: np.ndarray) -> np.ndarray:
    """ROIAlign (aligned = false, as torchvision.ops.roi_align) in numpy, in float64."""
    n, c, h, w = x.shape
    out = np.zeros((len(rois), c, POOLED, POOLED))

    def sample(plane: np.ndarray, y: float, xx: float) -> np.ndarray:
        if y < -1 or y > h or xx < -1 or xx > w:
            return np.zeros(plane.shape[0])
        y, xx = max(y, 0.0), max(xx, 0.0)
        y0, x0 = int(y), int(xx)
        y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
        if y0 >= h - 1:
            y0 = y1 = h - 1
            y = float(y0)
        if x0 >= w - 1:
            x0 = x1 = w - 1
            xx = float(x0)
        ly, lx = y - y0, xx - x0
        return ((1 - ly) * (1 - lx) * plane[:, y0, x0] + (1 - ly) * lx * plane[:, y0, x1]
                + ly * (1 - lx) * plane[:, y1, x0] + ly * lx * plane[:, y1, x1])  # fmt: skip

    for r, (b, x1, y1, x2, y2) in enumerate(rois.astype(np.float64)):
        plane = x[int(b)].astype(np.float64)
        x1, y1 = x1 * SCALE, y1 * SCALE
        roi_w, roi_h = max(x2 * SCALE - x1, 1.0), max(y2 * SCALE - y1, 1.0)
        bin_h, bin_w = roi_h / POOLED, roi_w / POOLED
        for ph in range(POOLED):
            for pw in range(POOLED):
                acc = np.zeros(c)
                for iy in range(SAMPLING):
                    for ix in range(SAMPLING):
                        acc += sample(plane, y1 + ph * bin_h + (iy + 0.5) * bin_h / SAMPLING,
                                      x1 + pw * bin_w + (ix + 0.5) * bin_w / SAMPLING)  # fmt: skip
                out[r, :, ph, pw] = acc / (SAMPLING * SAMPLING)
    return out.astype(np.float32)


# -- running the tools ---------------------------------------------------------------------


def sh(*cmd: object, cwd: Path, capture: bool = False) -> str:
    args = [str(c) for c in cmd]
    print("$", " ".join(args), flush=True)
    proc = subprocess.run(args, cwd=cwd, text=True, errors="replace", capture_output=True)
    out = proc.stdout + proc.stderr
    if not capture or proc.returncode != 0:
        print(out.rstrip()[-6000:], flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"FAILED: {args[0]} exited with {proc.returncode} (see above)")
    return proc.stdout


def try_sh(*cmd: object, cwd: Path) -> bool:
    """Runs a check command; False (after printing its output) when it fails."""
    try:
        sh(*cmd, cwd=cwd)
    except SystemExit as error:
        print(error)
        return False
    return True


def build_plugin(plugin_build: Path | None, work: Path) -> tuple[Path, list[Path]]:
    """The plugin and the runtime libraries (aarch64 first, as the guide lists them), built with
    CMake as a user does (or taken from --plugin-build: <dir> and <dir>-arm64)."""
    if plugin_build is None:
        plugin_build = work / "build"
        cmake_dir = sh("tpuc-config", "--cmake-dir", cwd=work, capture=True).strip()
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        configs = [(plugin_build, [])]
        if shutil.which("aarch64-linux-gnu-g++"):
            toolchain = f"-DCMAKE_TOOLCHAIN_FILE={cmake_dir}/aarch64-linux-gnu.cmake"
            configs.append((Path(f"{plugin_build}-arm64"), [toolchain]))
        for build, extra in configs:
            sh("cmake", "-S", HERE, "-B", build, f"-Dtpuc_DIR={cmake_dir}",
               "-DCMAKE_BUILD_TYPE=Release", *gen, *extra, cwd=work, capture=True)  # fmt: skip
            sh("cmake", "--build", build, "-j2", cwd=work, capture=True)
    plugin = plugin_build / "libCustomOpPlugin.so"
    x86 = plugin_build / "libCustomOpRuntime_x86.so"
    arm64 = Path(f"{plugin_build}-arm64") / "libCustomOpRuntime_arm64.so"
    for lib in (plugin, x86):
        if not lib.is_file():
            raise SystemExit(f"FAILED: {lib} was not built")
    runtime = [arm64.resolve()] if arm64.is_file() else []
    return plugin.resolve(), [*runtime, x86.resolve()]


def run_vendor(
    work: Path, model: str, inputs: str, failures: list[str]
) -> dict[str, np.ndarray] | None:
    """The cvimodel on the vendor's runtime and simulator, which loads the embedded x86 library."""
    if not VENDOR_RUNNER.is_file():
        print(f"vendor runtime: skipped ({VENDOR_RUNNER} not found; set TPUC_VENDOR_RUNNER)")
        return None
    if not try_sh(sys.executable, VENDOR_RUNNER, model, inputs, "vendor_out.npz", "--all-tensors",
                  cwd=work):  # fmt: skip
        failures.append("the vendor runtime failed to run the cvimodel with its embedded x86 "
                        "runtime library (see its message above)")  # fmt: skip
        return None
    return dict(np.load(work / "vendor_out.npz"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=Path(f"{NAME}_work"))
    ap.add_argument("--plugin-build", type=Path, help="folder holding the built libraries")
    args = ap.parse_args(argv)
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    plugin, runtime_libs = build_plugin(args.plugin_build, work)
    shutil.copy(HERE / f"{NAME}.mlir", work / f"{NAME}.mlir")
    for stale in ("roialign.npz",):  # gen-pseudo-weight-npz never overwrites a weight file
        (work / stale).unlink(missing_ok=True)

    rng = np.random.default_rng(4)
    features = rng.normal(0, 1, FEATURES).astype(np.float32)
    # [batch, x1, y1, x2, y2] in the 96x128 image; the last box reaches past the border
    rois = np.array([[0, 8, 8, 64, 48], [0, 0, 0, 127, 95], [0, 40.5, 20.25, 50, 30],
                     [0, 100, 60, 140, 110]], np.float32)  # fmt: skip
    np.savez(work / "in.npz", features=features, rois=rois.reshape(1, 1, 4, 5))
    reference = roi_align_reference(features, rois)
    np.savez(work / "ref_all.npz", features=features, rois=rois.reshape(1, 1, 4, 5),
             roi_align=reference)  # fmt: skip

    # 1. pseudo weights and calibration table, fp32 check
    sh("mlir-opt", "--gen-pseudo-weight-npz", f"--pseudo-calibration-table={NAME}_cali_table",
       f"{NAME}.mlir", "-o", f"{NAME}_pseudo.mlir", cwd=work)  # fmt: skip
    print((work / f"{NAME}_cali_table").read_text())
    sh("mlir-opt", f"{NAME}_pseudo.mlir", "--assign-layer-id", "--canonicalize",
       "--print-tpu-op-info", "--tpu-op-info-filename", "op_info.csv", "-o", f"{NAME}_fp32.mlir",
       cwd=work)  # fmt: skip
    sh(
        "mlir-tpu-interpreter",
        f"{NAME}_fp32.mlir",
        "--tensor-in",
        "in.npz",
        "--tensor-out",
        "fp32_out.npz",
        "--custom-op-plugin",
        plugin,
        "--dump-all-tensor=fp32_all.npz",
        cwd=work,
    )
    print("== fp32 interpreter vs numpy ROIAlign")
    sh("cvi_npz_tool.py", "compare", "fp32_all.npz", "ref_all.npz", "--op_info", "op_info.csv",
       "--tolerance=0.9999,0.9999,0.999", "-v", cwd=work)  # fmt: skip

    # 2. quantization with the pseudo table (nothing is quantized but the graph boundary)
    sh("mlir-opt", f"{NAME}_fp32.mlir", "--import-calibration-table", "--calibration-table",
       f"{NAME}_cali_table", "--assign-chip-name", "--chipname", "cv183x", "--tpu-quant",
       "--custom-op-plugin", plugin, "--print-tpu-op-info", "--tpu-op-info-filename",
       "op_info_int8.csv", "-o", f"{NAME}_int8.mlir", cwd=work)  # fmt: skip
    sh(
        "mlir-tpu-interpreter",
        f"{NAME}_int8.mlir",
        "--tensor-in",
        "in.npz",
        "--tensor-out",
        "int8_out.npz",
        "--custom-op-plugin",
        plugin,
        "--dump-all-tensor=int8_all.npz",
        cwd=work,
    )
    failures = []
    print("== INT8-module interpreter vs numpy ROIAlign")
    int8_module = (work / f"{NAME}_int8.mlir").read_text()
    quantized = [n for n in ("features", "rois") if f'name = "{n}_quant"' in int8_module]
    if quantized:
        # Nothing here runs on the TPU: an INT8 round trip of the inputs only loses precision
        # (the pseudo table's threshold 1.0 clips the features and destroys the box coordinates).
        failures.append(
            f"tpu-quant converts the inputs {quantized} to INT8 and back although their only "
            "user is the fp32 CPU custom op roi_align (tpu.quant <input>_quant / "
            "roi_align_in<k>_dequant in roialign_int8.mlir)"
        )
    if not try_sh("cvi_npz_tool.py", "compare", "int8_out.npz", "ref_all.npz",
                  "--tolerance=0.9999,0.9999,0.999", "-v", cwd=work):  # fmt: skip
        failures.append("INT8-module interpreter output differs from the numpy ROIAlign")

    # 3. code generation with the runtime libraries embedded, and the simulators
    sh("mlir-opt", f"{NAME}_int8.mlir", *BACKEND_FLAGS, "-o", f"{NAME}_opt.mlir", cwd=work)
    sh("mlir-translate", "--mlir-to-cvimodel", "--custom-op-plugin", plugin,
       "--custom-runtime-lib", ",".join(map(str, runtime_libs)), "--weight-file", "weight.bin",
       f"{NAME}_opt.mlir", "-o", f"{NAME}.cvimodel", cwd=work)  # fmt: skip
    sh("model_runner", "--input", "in.npz", "--model", f"{NAME}.cvimodel", "--output",
       "runner_out.npz", cwd=work)  # fmt: skip
    ours = np.load(work / "runner_out.npz")["roi_align"]
    interp = np.load(work / "int8_out.npz")["roi_align"].reshape(ours.shape)
    same = ours.dtype == np.float32 and ours.tobytes() == interp.tobytes()
    print(f"model_runner vs INT8-module interpreter: roi_align {ours.shape} "
          f"{'identical' if same else 'DIFFERENT'} "
          f"(max |diff| {float(np.abs(ours - interp).max()):.2e}); "
          f"vs numpy: max |diff| {float(np.abs(ours - reference).max()):.2e}")  # fmt: skip
    if not same:
        failures.append(
            "model_runner != INT8-module interpreter on roi_align (the cvimodel dequantizes "
            "the CPU op's inputs on the TPU in bf16, the interpreter in fp32)"
        )
    vendor = run_vendor(work, f"{NAME}.cvimodel", "in.npz", failures)
    if vendor is not None:
        theirs = vendor.get("roi_align")
        same = theirs is not None and theirs.dtype == ours.dtype
        same = same and theirs.tobytes() == ours.tobytes()
        print(f"model_runner vs vendor runtime: roi_align {'identical' if same else 'DIFFERENT'}")
        if not same:
            failures.append("model_runner != vendor runtime")
    if failures:
        raise SystemExit("FAILED: " + "; ".join(failures))
    print(f"OK: {NAME}, the ROIAlign CPU custom op alone, fp32 / INT8 / cvimodel checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
