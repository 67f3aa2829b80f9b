"""Quickstart: build a small tpu network from Python, run the vendor-guide passes over it and write
op_info.csv, then run the same passes through the tpuc-opt command line."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from tpuc.dialects import func, tpu
from tpuc.ir import Context, F32Type, InsertionPoint, Location, Module, RankedTensorType
from tpuc.pipeline import run_pipeline


def build_network() -> Module:
    module = Module.create()
    f32 = F32Type.get()
    data = RankedTensorType.get([1, 3, 16, 16], f32)
    with InsertionPoint(module.body):

        @func.FuncOp.from_py_func(data)
        def net(x):
            inp = tpu.InputOp(x, "data")
            weight = tpu.LoadWeightOp(RankedTensorType.get([8, 3, 3, 3], f32), "conv1_w")
            # The result type [1, 8, 16, 16] is inferred from the operands and attributes.
            conv = tpu.Conv2DOp(
                inp.result,
                weight.result,
                strides=[1, 1],
                pads=[1, 1, 1, 1],
                dilations=[1, 1],
                name="conv1",
                do_relu=True,
            )
            act = tpu.custom_op(
                "conv1_lrelu",
                [conv.result],
                [1, 8, 16, 16],
                operation_name="leaky_relu",
                param={"negative_slope": 0.1},
                threshold_overwrite="backward",
            )
            return act.result

    return module


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="tpuc-quickstart-"))
    with Context(), Location.unknown():
        module = build_network()
        op_info = workdir / "op_info.csv"
        run_pipeline(
            module, ["assign-layer-id", f"print-tpu-op-info{{tpu-op-info-filename={op_info}}}"]
        )
        mlir_path = workdir / "net.mlir"
        mlir_path.write_text(str(module))
    print(f"op_info.csv ({op_info}):\n{op_info.read_text()}")
    # The same through the command line, with the vendor guide's flag spellings.
    subprocess.run(
        [
            "tpuc-opt",
            str(mlir_path),
            "--assign-layer-id",
            "--print-tpu-op-info",
            "--tpu-op-info-filename",
            str(workdir / "op_info_cli.csv"),
            "-o",
            str(workdir / "out.mlir"),
        ],
        check=True,
    )
    same = (workdir / "op_info_cli.csv").read_text() == op_info.read_text()
    print(f"tpuc-opt wrote the same op_info.csv: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
