#!/usr/bin/env python3
"""The custom-op guide's second example: UnPooling as a TPU custom op in a SegNet-shaped Caffe
model (the converter replaces SegNet's Upsample-with-mask layers), from the Caffe model to the
cvimodel on the simulators.

    python examples/custom_ops/2_unpooling/run.py [--workdir DIR] [--plugin-build DIR]
        [--threshold-overwrite none|backward] [--no-softmax]

Steps (the guide's commands, run in the work folder):
  1. the plugin (UnPoolingOp.cpp: interpretFp32, quantizeInt8, interpretInt8, codeGenInt8) built
     out of tree with CMake against `tpuc-config --cmake-dir`;
  2. the SegNet-shaped model of tpuc.frontend.caffe_models.make_segnet (conv-BatchNorm-Scale-ReLU
     encoder, 2x2 max poolings with argmax masks, Upsample decoder, classifier, Softmax), seeded;
  3. cvi_model_convert.py --model_type caffe with the converter subclass below (Upsample with a
     mask -> tpu.custom_op unpooling, which receives the pooled tensor and the pooling's input and
     recomputes the argmax), mlir-opt --assign-layer-id ...;
  4. mlir-tpu-interpreter (fp32) against the numpy Caffe reference (tpuc.frontend.caffe_reference),
     layer by layer;
  5. gen_data_list.py, run_calibration.py, mlir-opt --tpu-quant with the plugin, the INT8
     interpreter against fp32;
  6. the backend passes, mlir-translate --mlir-to-cvimodel with the plugin (codeGenInt8);
  7. model_runner on tpuc's simulator, and the vendor runtime's simulator when available: every
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
from tpuc.frontend.caffe_converter import CaffeConverter
from tpuc.frontend.onnx_converter import TensorType

HERE = Path(__file__).resolve().parent
NAME = "segnet"
INPUT_SHAPE = (1, 3, 32, 48)
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


class SegnetConverter(CaffeConverter):
    """The guide's converter subclass: an Upsample fed a pooling mask becomes the TPU custom op
    `unpooling`. The mask blob stands for the pooling's input; pool_mask_info gives the pooling
    geometry, so the op recomputes Caffe's argmax. The op keeps its own threshold
    (threshold_overwrite = "none"): quantizeInt8 rescales x to it."""

    threshold_overwrite = "none"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.caffeop_factory["Upsample"] = self.convert_unpooling_op

    def convert_unpooling_op(self, layer) -> None:
        op, input_shape, _ = self.getOperand(layer.bottom[0])
        mask_op, _, _ = self.getOperand(layer.bottom[1])
        output_shape = self.upsample_output_shape(layer, input_shape)
        param = {
            "scale": int(layer.upsample_param.scale),
            "unpool_h": output_shape[2],
            "unpool_w": output_shape[3],
            **self.pool_mask_info(layer.bottom[1]).as_param(),
        }
        new_op = self.mlir.add_custom_op(
            f"{layer.name}_{layer.type}",
            [op, mask_op],
            output_shape,
            operation_name="unpooling",
            do_quant=True,
            tpu=True,
            threshold_overwrite=self.threshold_overwrite,
            param=param,
        )
        self.addOperand(layer.top[0], new_op, output_shape, TensorType.ACTIVATION)


class SegnetBackwardConverter(SegnetConverter):
    """The same with threshold_overwrite = "backward": x's producer takes the op's threshold."""

    threshold_overwrite = "backward"


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
    """The custom op `<tensor><suffix>` (the guide's layer name) computes the Caffe layer
    `<tensor>`: writes caffe_layers.npz, the reference dump with those tensors also under the
    layer names; returns the layer names."""
    ref, ours = dict(np.load(work / reference)), np.load(work / dump)
    custom = [n + suffix for n in ref if n + suffix in ours.files]
    if not custom:
        raise SystemExit(f"FAILED: no custom op <tensor>{suffix} in {dump}")
    ref.update({n: ref[n[: -len(suffix)]] for n in custom})
    np.savez(work / "caffe_layers.npz", **ref)
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
        custom = [n for n in dump if n.endswith("_Upsample") and dump[n].dtype == np.int8]
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
    ap.add_argument("--threshold-overwrite", choices=["none", "backward"], default="none")
    ap.add_argument("--no-softmax", action="store_true", help="leave out the final Softmax")
    args = ap.parse_args(argv)
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    plugin = build_plugin(args.plugin_build, work)

    # model, input, calibration images
    from tpuc.frontend.caffe_models import make_segnet, segnet_builder

    if args.no_softmax:
        net = segnet_builder(input_shape=list(INPUT_SHAPE), seed=0)
        net.net.name = NAME
        net.net.layer = [layer for layer in net.net.layer if layer.type != "Softmax"]
        prototxt, caffemodel = net.save(work / f"{NAME}.prototxt", work / f"{NAME}.caffemodel")
    else:
        prototxt, caffemodel = make_segnet(work, NAME, input_shape=list(INPUT_SHAPE), seed=0)
    rng = np.random.default_rng(2)
    np.savez(work / "in.npz", data=rng.uniform(-1, 1, INPUT_SHAPE).astype(np.float32))
    (work / "cali").mkdir(exist_ok=True)
    for i in range(8):
        np.savez(work / "cali" / f"img{i}.npz",
                 data=rng.uniform(-1, 1, INPUT_SHAPE).astype(np.float32))  # fmt: skip

    # 1. conversion and fp32 check
    cls = "SegnetBackwardConverter" if args.threshold_overwrite == "backward" else "SegnetConverter"
    converter = f"{Path(__file__).resolve()}:{cls}"
    sh("cvi_model_convert.py", "--model_type", "caffe", "--model_def", prototxt.name,
       "--model_data", caffemodel.name, "--model_name", NAME, "--mlir_file_path", f"{NAME}.mlir",
       "--converter", converter, cwd=work)  # fmt: skip
    sh("mlir-opt", f"{NAME}.mlir", "--assign-layer-id", "--convert-bn-to-scale", "--canonicalize",
       "--eltwise-early-stride", "--print-tpu-op-info", "--tpu-op-info-filename", "op_info.csv",
       "-o", f"{NAME}_fp32.mlir", cwd=work)  # fmt: skip
    sh(sys.executable, "-m", "tpuc.frontend.caffe_reference", "--model_def", prototxt.name,
       "--pretrained", caffemodel.name, "--input_file", "in.npz", "--output_file",
       "caffe_out.npz", "--dump_blobs", "caffe_all.npz", cwd=work)  # fmt: skip
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
    custom = pair_custom_ops(work, "caffe_all.npz", "fp32_all.npz", "_Upsample")
    print(f"== fp32 interpreter vs the Caffe reference, layer by layer (custom ops {custom})")
    sh("cvi_npz_tool.py", "compare", "fp32_all.npz", "caffe_layers.npz", "--op_info", "op_info.csv",
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
       "op_info_int8.csv", "--dequant", "--tolerance=0.9,0.9,0.5", "-v", cwd=work)  # fmt: skip

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
    print(f"OK: {NAME} with the UnPooling TPU custom op, fp32 / INT8 / cvimodel checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
