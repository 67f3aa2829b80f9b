#!/usr/bin/env python3
"""The custom-op guide's first example: LeakyRelu as a TPU custom op in a YOLOv3-tiny-shaped ONNX
network, from the ONNX model to the cvimodel on the simulators.

    python examples/custom_ops/1_leaky_relu/run.py [--workdir DIR] [--plugin-build DIR]

Steps (the guide's commands, run in the work folder):
  1. the plugin (LeakyReluOp.cpp: interpretFp32, quantizeInt8, interpretInt8, codeGenInt8) built
     out of tree with CMake against `tpuc-config --cmake-dir`;
  2. a YOLOv3-tiny-shaped network with seeded random weights (conv-BN-LeakyRelu(0.1), max pools,
     a second head on an upsampled branch) written as ONNX;
  3. cvi_model_convert.py with the converter subclass below (LeakyRelu -> tpu.custom_op
     leaky_relu, tpu = true, do_quant = true), mlir-opt --assign-layer-id ...;
  4. mlir-tpu-interpreter (fp32) against run_onnx_inference.py, layer by layer;
  5. gen_data_list.py, run_calibration.py, mlir-opt --tpu-quant with the plugin, the INT8
     interpreter against fp32;
  6. the backend passes, mlir-translate --mlir-to-cvimodel with the plugin (codeGenInt8);
  7. model_runner on tpuc's simulator, and the vendor runtime's simulator when available: every
     int8 tensor equals the INT8 interpreter's, and both runtimes give the same bytes.
Exits non-zero with a message naming the failing step.
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
NAME = "yolo_tiny_lrelu"
INPUT_SHAPE = (1, 3, 128, 128)
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


class YoloConverter(OnnxConverter):
    """The guide's converter subclass: every LeakyRelu becomes the TPU custom op `leaky_relu`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.onnxop_factory["LeakyRelu"] = self.convert_leaky_relu_op

    def convert_leaky_relu_op(self, node) -> None:
        op, shape, _ = self.getOperand(node.inputs[0])
        new_op = self.mlir.add_custom_op(
            f"{node.name}_{node.op_type}",
            [op],
            shape,
            operation_name="leaky_relu",
            do_quant=True,
            tpu=True,
            threshold_overwrite="backward",
            param={"negative_slope": float(node.attrs.get("alpha", 0.01))},
        )
        self.addOperand(node.outputs[0], new_op, shape, TensorType.ACTIVATION)


# -- the model -----------------------------------------------------------------------------


def make_yolov3_tiny(path: Path, seed: int = 0) -> None:
    """YOLOv3-tiny's layout at 1/4 of its widths: 6 conv-BN-LeakyRelu stages with 2x2/2 max
    pools, a 1x1 bottleneck and a 3x3 conv before the first head; a 1x1 conv, 2x nearest
    upsample and concat with stage 5 before the second head."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    nodes, inits = [], []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def conv_bn_leaky(name: str, x: str, cin: int, cout: int, k: int) -> str:
        w = rng.normal(0, np.sqrt(2.0 / (cin * k * k)), (cout, cin, k, k))
        nodes.append(
            helper.make_node("Conv", [x, const(f"{name}_w", w)], [f"{name}_conv"],
                             name=f"{name}_conv", kernel_shape=[k, k], pads=[k // 2] * 4)
        )  # fmt: skip
        bn = [rng.uniform(0.5, 1.5, cout), rng.normal(0, 0.1, cout), rng.normal(0, 0.1, cout),
              rng.uniform(0.5, 1.5, cout)]  # fmt: skip
        names = [const(f"{name}_bn_{p}", v) for p, v in zip("sbmv", bn, strict=True)]
        nodes.append(
            helper.make_node(
                "BatchNormalization",
                [f"{name}_conv", *names],
                [f"{name}_bn"],
                name=f"{name}_bn",
                epsilon=1e-5,
            )
        )
        nodes.append(helper.make_node("LeakyRelu", [f"{name}_bn"], [name], name=name, alpha=0.1))
        return name

    def head(name: str, x: str, cin: int, cout: int = 3 * (5 + 2)) -> str:
        w = rng.normal(0, np.sqrt(1.0 / cin), (cout, cin, 1, 1))
        b = rng.normal(0, 0.1, cout)
        nodes.append(
            helper.make_node(
                "Conv",
                [x, const(f"{name}_w", w), const(f"{name}_b", b)],
                [name],
                name=name,
                kernel_shape=[1, 1],
            )
        )
        return name

    x, cin = "input", INPUT_SHAPE[1]
    for i, cout in enumerate((8, 16, 32, 64, 128), start=1):
        x = conv_bn_leaky(f"leaky{i}", x, cin, cout, 3)
        if i == 5:
            route = x
        nodes.append(
            helper.make_node(
                "MaxPool", [x], [f"pool{i}"], name=f"pool{i}", kernel_shape=[2, 2], strides=[2, 2]
            )
        )
        x, cin = f"pool{i}", cout
    x = conv_bn_leaky("leaky6", x, 128, 256, 3)
    bottleneck = conv_bn_leaky("leaky7", x, 256, 64, 1)
    x = conv_bn_leaky("leaky8", bottleneck, 64, 128, 3)
    out1 = head("yolo_out1", x, 128)
    x = conv_bn_leaky("leaky9", bottleneck, 64, 32, 1)
    scales = const("up_scales", np.array([1, 1, 2, 2]))
    nodes.append(
        helper.make_node(
            "Resize",
            [x, "", scales],
            ["upsample"],
            name="upsample",
            mode="nearest",
            nearest_mode="floor",
            coordinate_transformation_mode="asymmetric",
        )
    )
    nodes.append(helper.make_node("Concat", ["upsample", route], ["route"], name="route", axis=1))
    x = conv_bn_leaky("leaky10", "route", 32 + 128, 64, 3)
    out2 = head("yolo_out2", x, 64)
    side = INPUT_SHAPE[2] // 32
    graph = helper.make_graph(
        nodes, NAME,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(INPUT_SHAPE))],
        [helper.make_tensor_value_info(out1, TensorProto.FLOAT, [1, 21, side, side]),
         helper.make_tensor_value_info(out2, TensorProto.FLOAT, [1, 21, 2 * side, 2 * side])],
        inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


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


def build_plugin(plugin_build: Path | None, work: Path) -> Path:
    """The plugin, built with CMake as a user does (or taken from --plugin-build)."""
    if plugin_build is None:
        plugin_build = work / "build"
        cmake_dir = sh("tpuc-config", "--cmake-dir", cwd=work, capture=True).strip()
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        sh("cmake", "-S", HERE, "-B", plugin_build, f"-Dtpuc_DIR={cmake_dir}",
           "-DCMAKE_BUILD_TYPE=Release", *gen, cwd=work, capture=True)  # fmt: skip
        sh("cmake", "--build", plugin_build, "-j2", cwd=work, capture=True)
    plugin = plugin_build / "libCustomOpPlugin.so"
    if not plugin.is_file():
        raise SystemExit(f"FAILED: {plugin} was not built")
    return plugin.resolve()


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
    work: Path, model: str, inputs: str, output: str, failures: list[str]
) -> dict[str, np.ndarray] | None:
    """The cvimodel on the vendor's runtime and simulator, every tensor still in memory kept."""
    if not VENDOR_RUNNER.is_file():
        print(f"vendor runtime: skipped ({VENDOR_RUNNER} not found; set TPUC_VENDOR_RUNNER)")
        return None
    if not try_sh(sys.executable, VENDOR_RUNNER, model, inputs, output, "--all-tensors",
                  cwd=work):  # fmt: skip
        failures.append(f"the vendor runtime failed to run {model} (see its message above)")
        return None
    return dict(np.load(work / output))


def check_cvimodel(work: Path, model: str, failures: list[str]) -> None:
    """Runs `model` on the vendor runtime and on model_runner: every int8 tensor either dumps
    must equal the INT8 interpreter's, and the two runtimes must give the same bytes."""
    interp = dict(np.load(work / "int8_all.npz"))
    stem = Path(model).stem

    def against_interpreter(dump: dict[str, np.ndarray], who: str) -> None:
        bad = compare_exact(dump, interp, f"{who} vs INT8 interpreter (int8 tensors)", True)
        failures.extend([f"{model}: {who} != INT8 interpreter: {bad}"] if bad else [])
        custom = [n for n in dump if n.endswith("_LeakyRelu") and dump[n].dtype == np.int8]
        print(f"  of which custom-op (codeGenInt8) outputs: {custom}")
        if not custom:
            failures.append(f"{model}: no custom-op output in the {who} dump")

    vendor = run_vendor(work, model, "in.npz", f"{stem}_vendor_out.npz", failures)
    if vendor is not None:
        against_interpreter(vendor, "vendor runtime")
    out = f"{stem}_runner_out.npz"
    if not try_sh("model_runner", "--input", "in.npz", "--model", model, "--output", out,
                  "--dump-all-tensors", "--out-fixed", cwd=work):  # fmt: skip
        failures.append(f"model_runner could not run {model} (see its message above)")
        return
    ours = dict(np.load(work / out))
    against_interpreter(ours, "model_runner")
    if vendor is not None:
        bad = compare_exact(ours, vendor, "model_runner vs vendor runtime (all tensors)", False)
        failures.extend([f"{model}: model_runner != vendor runtime: {bad}"] if bad else [])
        if set(vendor) != set(ours):
            failures.append(f"{model}: tensors dumped by one runtime only: "
                            f"{sorted(set(vendor) ^ set(ours))}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=Path(f"{NAME}_work"))
    ap.add_argument("--plugin-build", type=Path, help="folder holding a built libCustomOpPlugin.so")
    args = ap.parse_args(argv)
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    plugin = build_plugin(args.plugin_build, work)

    # model, input, calibration images
    make_yolov3_tiny(work / f"{NAME}.onnx")
    rng = np.random.default_rng(1)
    np.savez(work / "in.npz", input=rng.uniform(0, 1, INPUT_SHAPE).astype(np.float32))
    (work / "cali").mkdir(exist_ok=True)
    for i in range(8):
        np.savez(work / "cali" / f"img{i}.npz",
                 input=rng.uniform(0, 1, INPUT_SHAPE).astype(np.float32))  # fmt: skip

    # 1. conversion and fp32 check
    converter = f"{Path(__file__).resolve()}:YoloConverter"
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
    custom = pair_custom_ops(work, "onnx_all.npz", "fp32_all.npz", "_LeakyRelu")
    print(f"== fp32 interpreter vs onnxruntime, layer by layer ({len(custom)} custom ops)")
    sh("cvi_npz_tool.py", "compare", "fp32_all.npz", "onnx_layers.npz", "--op_info", "op_info.csv",
       "--tolerance=0.999,0.999,0.998", "-v", cwd=work)  # fmt: skip

    # 2. calibration, quantization, INT8 check
    sh("gen_data_list.py", "cali", "8", "cali_list.txt", "--ext", "npz", cwd=work)
    sh("run_calibration.py", f"{NAME}_fp32.mlir", "cali_list.txt", "--calibration_table",
       f"{NAME}_calibration_table", "--input_num=8", "--custom_op_plugin", plugin,
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
       "op_info_int8.csv", "--dequant", "--tolerance=0.9,0.9,0.6", "-v", cwd=work)  # fmt: skip

    # 3. code generation and the simulators
    sh("mlir-opt", f"{NAME}_int8.mlir", *BACKEND_FLAGS, "-o", f"{NAME}_opt.mlir", cwd=work)
    sh("mlir-translate", "--mlir-to-cvimodel", "--custom-op-plugin", plugin, "--weight-file",
       "weight.bin", f"{NAME}_opt.mlir", "-o", f"{NAME}.cvimodel", cwd=work)  # fmt: skip
    failures: list[str] = []
    check_cvimodel(work, f"{NAME}.cvimodel", failures)
    # Neuron memory reuse leaves few tensors to compare: the same model without it keeps all.
    print("== the same model without --tpu-neuron-memory-reuse: every tensor kept")
    flags = [f for f in BACKEND_FLAGS if f != "--tpu-neuron-memory-reuse"]
    flags = [f.replace("neuron_map.csv", "neuron_map_noreuse.csv") for f in flags]
    sh("mlir-opt", f"{NAME}_int8.mlir", *flags, "-o", f"{NAME}_opt_noreuse.mlir", cwd=work)
    sh("mlir-translate", "--mlir-to-cvimodel", "--custom-op-plugin", plugin, "--weight-file",
       "weight.bin", f"{NAME}_opt_noreuse.mlir", "-o", f"{NAME}_noreuse.cvimodel",
       cwd=work)  # fmt: skip
    check_cvimodel(work, f"{NAME}_noreuse.cvimodel", failures)
    if failures:
        raise SystemExit("FAILED: " + "; ".join(failures))
    print(f"OK: {NAME} with the LeakyRelu TPU custom op, fp32 / INT8 / cvimodel checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
