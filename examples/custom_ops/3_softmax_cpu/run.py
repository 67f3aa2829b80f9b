#!/usr/bin/env python3
"""The custom-op guide's third example: Softmax as a CPU custom op appended to a ResNet18-shaped
ONNX model, its runtime function embedded in the cvimodel.

    python examples/custom_ops/3_softmax_cpu/run.py [--workdir DIR] [--plugin-build DIR]
        [--base-onnx r18.onnx]

Steps (the guide's commands, run in the work folder):
  1. the compiler plugin (SoftmaxOp.cpp: interpretFp32) and the runtime library
     (SoftmaxOpRuntime.cpp: REGISTER_OP_RUNTIME_FUNCS) built with CMake against
     `tpuc-config --cmake-dir`; the aarch64 runtime library too when the cross compiler exists;
  2. the ResNet18-shaped model (default: the conformance set's r18_half_112.onnx, copied) with a
     Softmax(axis = 1) appended to its logits;
  3. cvi_model_convert.py with the converter subclass below (Softmax -> tpu.custom_op mysoftmax,
     tpu = false, do_quant = false, param axis), mlir-opt --assign-layer-id ...;
  4. mlir-tpu-interpreter (fp32) against run_onnx_inference.py, layer by layer;
  5. calibration, mlir-opt --tpu-quant (the softmax stays fp32), INT8 interpreter against fp32;
  6. the backend passes, mlir-translate --mlir-to-cvimodel --custom-runtime-lib <arm64>,<x86>;
  7. model_runner (tpuc's simulator runs the embedded x86 library) and the vendor runtime: every
     int8 tensor equals the INT8 interpreter's, and both runtimes give the same bytes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from tpuc.frontend.onnx_converter import OnnxConverter, TensorType

HERE = Path(__file__).resolve().parent
NAME = "r18_softmax"
BASE_ONNX = Path(
    os.environ.get("TPUC_R18_ONNX", "/work/shared/conformance/r18_half_112/r18_half_112.onnx")
)
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


class SoftmaxConverter(OnnxConverter):
    """The guide's converter subclass: Softmax becomes the CPU custom op `mysoftmax`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.onnxop_factory["Softmax"] = self.convert_softmax_op

    def convert_softmax_op(self, node) -> None:
        op, shape, _ = self.getOperand(node.inputs[0])
        new_op = self.mlir.add_custom_op(
            f"{node.name}_{node.op_type}",
            [op],
            shape,
            operation_name="mysoftmax",
            do_quant=False,
            tpu=False,
            param={"axis": int(node.attrs.get("axis", 1))},
        )
        self.addOperand(node.outputs[0], new_op, shape, TensorType.ACTIVATION)


def append_softmax(base: Path, path: Path) -> tuple[str, tuple[int, ...], str]:
    """Copies `base` with a Softmax over the channels of its output; (input name, input shape,
    logits name)."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(base)
    graph = model.graph
    logits = graph.output[0]
    dims = [d.dim_value for d in logits.type.tensor_type.shape.dim]
    graph.node.append(helper.make_node("Softmax", [logits.name], ["prob"], name="prob",
                                       axis=1))  # fmt: skip
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("prob", TensorProto.FLOAT, dims))
    onnx.checker.check_model(model)
    onnx.save(model, path)
    first = graph.input[0]
    return first.name, tuple(d.dim_value for d in first.type.tensor_type.shape.dim), logits.name


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


def pair_custom_ops(work: Path, reference: str, dump: str, suffix: str) -> list[str]:
    """The custom op `<tensor><suffix>` (the guide's layer name) computes the ONNX tensor
    `<tensor>`: writes onnx_layers.npz, the reference dump with those tensors also under the
    layer names; returns the layer names."""
    ref, ours = dict(np.load(work / reference)), np.load(work / dump)
    custom = [n + suffix for n in ref if n + suffix in ours.files]
    if not custom:
        raise SystemExit(f"FAILED: no custom op <tensor>{suffix} in {dump}")
    ref.update({n: ref[n[: -len(suffix)]] for n in custom})
    np.savez(work / "onnx_layers.npz", **ref)
    return custom


def compare_exact(ours: dict, ref: dict, what: str, int8_only: bool) -> list[str]:
    """Names of the tensors present in both that differ (byte for byte, same dtype)."""
    names = [n for n in ours if n in ref and (not int8_only or ours[n].dtype == np.int8)]
    if not names:
        raise SystemExit(f"FAILED: {what}: no tensor in common")
    bad = []
    for n in names:
        a, b = ours[n], ref[n]
        if int8_only:
            same = np.array_equal(a.reshape(-1).astype(np.int64), b.reshape(-1).astype(np.int64))
        else:
            same = a.dtype == b.dtype and a.tobytes() == b.tobytes()
        if not same:
            bad.append(n)
    print(f"{what}: {len(names) - len(bad)}/{len(names)} tensors identical")
    return bad


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
    ap.add_argument("--base-onnx", type=Path, default=BASE_ONNX, help="ResNet18-shaped model")
    args = ap.parse_args(argv)
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    if not args.base_onnx.is_file():
        raise SystemExit(f"FAILED: the ResNet18-shaped base model {args.base_onnx} is missing "
                         "(give --base-onnx or TPUC_R18_ONNX)")  # fmt: skip
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    plugin, runtime_libs = build_plugin(args.plugin_build, work)

    input_name, input_shape, logits = append_softmax(args.base_onnx, work / f"{NAME}.onnx")
    rng = np.random.default_rng(3)
    np.savez(work / "in.npz", **{input_name: rng.normal(0, 1, input_shape).astype(np.float32)})
    (work / "cali").mkdir(exist_ok=True)
    for i in range(4):
        sample = rng.normal(0, 1, input_shape).astype(np.float32)
        np.savez(work / "cali" / f"img{i}.npz", **{input_name: sample})

    # 1. conversion and fp32 check
    converter = f"{Path(__file__).resolve()}:SoftmaxConverter"
    sh("cvi_model_convert.py", "--model_path", f"{NAME}.onnx", "--model_name", NAME,
       "--mlir_file_path", f"{NAME}.mlir", "--converter", converter, cwd=work)  # fmt: skip
    sh("mlir-opt", f"{NAME}.mlir", "--assign-layer-id", "--convert-bn-to-scale", "--canonicalize",
       "--eltwise-early-stride", "--print-tpu-op-info", "--tpu-op-info-filename", "op_info.csv",
       "-o", f"{NAME}_fp32.mlir", cwd=work)  # fmt: skip
    sh("run_onnx_inference.py", "--model_def", f"{NAME}.onnx", "--input_file", "in.npz",
       "--output_file", "onnx_out.npz", "--dump_tensor", "onnx_all.npz", cwd=work)  # fmt: skip
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
    custom = pair_custom_ops(work, "onnx_all.npz", "fp32_all.npz", "_Softmax")
    print(f"== fp32 interpreter vs onnxruntime, layer by layer (custom op {custom})")
    sh("cvi_npz_tool.py", "compare", "fp32_all.npz", "onnx_layers.npz", "--op_info", "op_info.csv",
       "--tolerance=0.999,0.999,0.998", "-v", cwd=work)  # fmt: skip

    # 2. calibration, quantization (the softmax stays fp32), INT8 check
    sh("gen_data_list.py", "cali", "4", "cali_list.txt", "--ext", "npz", cwd=work)
    sh("run_calibration.py", f"{NAME}_fp32.mlir", "cali_list.txt", "--calibration_table",
       f"{NAME}_calibration_table", "--input_num=4", "--custom_op_plugin", plugin,
       "--no_progress", cwd=work)  # fmt: skip
    sh("mlir-opt", f"{NAME}_fp32.mlir", "--import-calibration-table", "--calibration-table",
       f"{NAME}_calibration_table", "--assign-chip-name", "--chipname", "cv183x", "--tpu-quant",
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
    print("== INT8 interpreter vs fp32 interpreter, layer by layer")
    sh("cvi_npz_tool.py", "compare", "int8_all.npz", "fp32_all.npz", "--op_info",
       "op_info_int8.csv", "--dequant", "--tolerance=0.9,0.9,0.5", "-v", cwd=work)  # fmt: skip

    # 3. code generation with the runtime libraries embedded, and the simulators
    sh("mlir-opt", f"{NAME}_int8.mlir", *BACKEND_FLAGS, "-o", f"{NAME}_opt.mlir", cwd=work)
    sh("mlir-translate", "--mlir-to-cvimodel", "--custom-op-plugin", plugin,
       "--custom-runtime-lib", ",".join(map(str, runtime_libs)), "--weight-file", "weight.bin",
       f"{NAME}_opt.mlir", "-o", f"{NAME}.cvimodel", cwd=work)  # fmt: skip
    sh("model_runner", "--input", "in.npz", "--model", f"{NAME}.cvimodel", "--output",
       "runner_out.npz", "--dump-all-tensors", "--out-fixed", cwd=work)  # fmt: skip
    ours = dict(np.load(work / "runner_out.npz"))
    interp = dict(np.load(work / "int8_all.npz"))
    failures = []
    bad = compare_exact(ours, interp, "model_runner vs INT8 interpreter (int8 tensors)", True)
    failures += [f"model_runner != INT8 interpreter: {bad}"] if bad else []
    # The fp32 tensors: the softmax input dequantized on the TPU (named after the tpu.quant op that
    # converts it, in the cvimodel and the interpreter alike) and the CPU function's output.
    dequant = "prob_Softmax_in0_dequant"
    for name, theirs in ((dequant, dequant), ("prob_Softmax",) * 2):
        if name not in ours or theirs not in interp:
            failures.append(f"{name} / {theirs} missing from the model_runner / interpreter dump")
            continue
        a, b = ours[name], interp[theirs].reshape(ours[name].shape)
        same = a.dtype == b.dtype and a.tobytes() == b.tobytes()
        print(f"{name}: model_runner vs INT8 interpreter {'identical' if same else 'DIFFERENT'}, "
              f"max |diff| {float(np.abs(a - b).max()):.2e}")  # fmt: skip
        if not same:
            failures.append(
                f"{name}: model_runner != INT8 interpreter (the cvimodel dequantizes the CPU "
                "op's input on the TPU in bf16, the interpreter in fp32)"
            )
    if "prob_Softmax" in ours and dequant in ours:
        # the runtime function on its own input, against numpy
        z = ours[dequant].astype(np.float64)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        diff = float(np.abs(ours["prob_Softmax"] - z / z.sum(axis=1, keepdims=True)).max())
        print(f"the runtime function (model_runner) vs numpy softmax of its input: max |diff| "
              f"{diff:.2e}")  # fmt: skip
        if diff > 1e-6:
            failures.append(f"the runtime function's softmax is off by {diff}")
        prob = ours["prob_Softmax"]
        onnx_prob = np.load(work / "onnx_out.npz")["prob"].reshape(prob.shape)
        print(f"prob_Softmax on model_runner: sum {prob.sum():.6f}, top-1 {int(prob.argmax())} "
              f"(onnxruntime: top-1 {int(onnx_prob.argmax())}), max |diff| to onnxruntime "
              f"{float(np.abs(prob - onnx_prob).max()):.2e}")  # fmt: skip
    vendor = run_vendor(work, f"{NAME}.cvimodel", "in.npz", failures)
    if vendor is not None:
        bad = compare_exact(ours, vendor, "model_runner vs vendor runtime (all tensors)", False)
        failures += [f"model_runner != vendor runtime: {bad}"] if bad else []
        if set(vendor) != set(ours):
            print(f"  tensors dumped by one runtime only: {sorted(set(vendor) ^ set(ours))}")
    if failures:
        raise SystemExit("FAILED: " + "; ".join(failures))
    print(f"OK: {NAME} with the Softmax CPU custom op, fp32 / INT8 / cvimodel checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
