"""fp32 interpreter speed on MobileNetV2 (224x224, width 1.0, random weights) against
onnxruntime on the same network.

The network is built twice from the same weights: directly in tpu IR (conv_2d, clip as ReLU6,
eltwise_add residuals, pool_avg_2d, reshape, fully_connected) and as an ONNX graph (Conv, Clip,
Add, GlobalAveragePool, Flatten, Gemm). Both run the same input; the outputs are checked to agree,
then each is timed over repeated runs (median). `ratio` = interpreter time / onnxruntime time;
the goal is at most 3.

    python bench/interpreter_mobilenet.py [--runs N] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# (expansion t, output channels c, repeats n, first stride s) of MobileNetV2.
BLOCKS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


class Graph:
    """Emits the same layers as tpu IR text and as ONNX nodes."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.lines: list[str] = []
        self.weights: dict[str, np.ndarray] = {}
        self.nodes: list = []
        self.initializers: list = []
        self.count = 0

    def ssa(self) -> str:
        self.count += 1
        return f"%v{self.count}"

    @staticmethod
    def ttype(shape: tuple[int, ...]) -> str:
        return "tensor<" + "x".join(map(str, shape)) + "xf32>"

    def weight(self, name: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        self.weights[name] = array
        self.initializers.append(numpy_helper.from_array(array, name))
        value = self.ssa()
        self.lines.append(
            f'{value} = tpu.load_weight {{name = "{name}"}} : {self.ttype(array.shape)}'
        )
        return value

    def conv(
        self,
        x: tuple[str, str, tuple[int, ...]],
        name: str,
        out: int,
        k: int,
        stride: int,
        group: int = 1,
    ) -> tuple[str, str, tuple[int, ...]]:
        from onnx import helper

        value, onnx_name, (n, c, h, w) = x
        fan_in = c // group * k * k
        wt = (self.rng.standard_normal((out, c // group, k, k)) * np.sqrt(2 / fan_in)).astype(
            np.float32
        )
        bias = (self.rng.standard_normal(out) * 0.05).astype(np.float32)
        w_value, b_value = self.weight(f"{name}_w", wt), self.weight(f"{name}_b", bias)
        pad = k // 2
        oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
        result = self.ssa()
        shape = (n, out, oh, ow)
        self.lines.append(
            f'{result} = tpu.conv_2d {value}, {w_value}, {b_value} {{name = "{name}", '
            f"strides = array<i64: {stride}, {stride}>, pads = array<i64: {pad}, {pad}, {pad}, "
            f"{pad}>, dilations = array<i64: 1, 1>, group = {group} : i64}} : "
            f"({self.ttype((n, c, h, w))}, {self.ttype(wt.shape)}, {self.ttype(bias.shape)}) -> "
            f"{self.ttype(shape)}"
        )
        self.nodes.append(
            helper.make_node(
                "Conv",
                [onnx_name, f"{name}_w", f"{name}_b"],
                [name],
                kernel_shape=[k, k],
                strides=[stride, stride],
                pads=[pad] * 4,
                group=group,
            )
        )
        return result, name, shape

    def relu6(
        self, x: tuple[str, str, tuple[int, ...]], name: str
    ) -> tuple[str, str, tuple[int, ...]]:
        from onnx import helper

        value, onnx_name, shape = x
        result = self.ssa()
        self.lines.append(
            f'{result} = tpu.clip {value} {{name = "{name}", min = 0.0 : f32, max = 6.0 : f32}} :'
            f" ({self.ttype(shape)}) -> {self.ttype(shape)}"
        )
        self.nodes.append(helper.make_node("Clip", [onnx_name, "zero", "six"], [name]))
        return result, name, shape

    def add(
        self, a: tuple[str, str, tuple[int, ...]], b: tuple[str, str, tuple[int, ...]], name: str
    ) -> tuple[str, str, tuple[int, ...]]:
        from onnx import helper

        result = self.ssa()
        t = self.ttype(a[2])
        self.lines.append(
            f'{result} = tpu.eltwise_add {a[0]}, {b[0]} {{name = "{name}"}} : ({t}, {t}) -> {t}'
        )
        self.nodes.append(helper.make_node("Add", [a[1], b[1]], [name]))
        return result, name, a[2]


def build(directory: Path) -> tuple[Path, bytes]:
    """Writes the tpu module (and its weights) to `directory`; returns its path and the ONNX
    model."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    g = Graph()
    shape = (1, 3, 224, 224)
    g.lines.append(
        f'%v0 = tpu.input %arg0 {{name = "input"}} : ({g.ttype(shape)}) -> {g.ttype(shape)}'
    )
    x = ("%v0", "input", shape)
    x = g.relu6(g.conv(x, "conv0", 32, 3, 2), "conv0_relu")
    channels, index = 32, 0
    for t, c, n, s in BLOCKS:
        for i in range(n):
            stride = s if i == 0 else 1
            name = f"block{index}"
            y = x
            if t != 1:
                y = g.relu6(g.conv(y, f"{name}_expand", channels * t, 1, 1), f"{name}_expand_relu")
            hidden = channels * t
            y = g.relu6(g.conv(y, f"{name}_dw", hidden, 3, stride, group=hidden), f"{name}_dw_relu")
            y = g.conv(y, f"{name}_project", c, 1, 1)
            if stride == 1 and channels == c:
                y = g.add(x, y, f"{name}_add")
            x, channels, index = y, c, index + 1
    x = g.relu6(g.conv(x, "conv_last", 1280, 1, 1), "conv_last_relu")
    pooled = g.ssa()
    g.lines.append(
        f'{pooled} = tpu.pool_avg_2d {x[0]} {{name = "pool", kernel_shape = array<i64: 7, 7>, '
        "strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : "
        f"({g.ttype(x[2])}) -> {g.ttype((1, 1280, 1, 1))}"
    )
    flat = g.ssa()
    g.lines.append(
        f'{flat} = tpu.reshape {pooled} {{name = "flatten"}} : '
        f"({g.ttype((1, 1280, 1, 1))}) -> {g.ttype((1, 1280))}"
    )
    fc_w = (g.rng.standard_normal((1000, 1280)) * np.sqrt(1 / 1280)).astype(np.float32)
    fc_b = (g.rng.standard_normal(1000) * 0.05).astype(np.float32)
    w_value, b_value = g.weight("fc_w", fc_w), g.weight("fc_b", fc_b)
    logits = g.ssa()
    g.lines.append(
        f'{logits} = tpu.fully_connected {flat}, {w_value}, {b_value} {{name = "fc"}}'
        f" : ({g.ttype((1, 1280))}, {g.ttype(fc_w.shape)}, {g.ttype(fc_b.shape)}) -> "
        f"{g.ttype((1, 1000))}"
    )
    g.nodes += [
        helper.make_node("GlobalAveragePool", [x[1]], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flatten"]),
        helper.make_node("Gemm", ["flatten", "fc_w", "fc_b"], ["fc"], transB=1),
    ]

    body = "\n".join("    " + line for line in g.lines)
    text = (
        f'module attributes {{tpu.weight_file = "mobilenet_v2_weights.npz"}} {{\n'
        f"  func.func @main(%arg0: {g.ttype(shape)}) -> {g.ttype((1, 1000))} {{\n{body}\n"
        f"    return {logits} : {g.ttype((1, 1000))}\n  }}\n}}\n"
    )
    np.savez(directory / "mobilenet_v2_weights.npz", **g.weights)
    path = directory / "mobilenet_v2.mlir"
    path.write_text(text)

    g.initializers += [
        numpy_helper.from_array(np.array(0, np.float32), "zero"),
        numpy_helper.from_array(np.array(6, np.float32), "six"),
    ]
    graph = helper.make_graph(
        g.nodes,
        "mobilenet_v2",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("fc", TensorProto.FLOAT, [1, 1000])],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    return path, model.SerializeToString()


def median_ms(run, runs: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="threads of both engines (default: each engine's default)",
    )
    args = parser.parse_args()
    if args.threads:
        os.environ["TPUC_INTERPRETER_THREADS"] = str(args.threads)

    import onnxruntime as ort
    from tpuc import interpreter

    with tempfile.TemporaryDirectory(prefix="tpuc-bench-") as tmp:
        path, onnx_model = build(Path(tmp))
        program = interpreter.compile(path)
        options = ort.SessionOptions()
        if args.threads:
            options.intra_op_num_threads = args.threads
        session = ort.InferenceSession(onnx_model, options, providers=["CPUExecutionProvider"])

    x = np.random.default_rng(1).uniform(-1, 1, (1, 3, 224, 224)).astype(np.float32)
    ours = program.run({"input": x})["fc"]
    reference = session.run(None, {"input": x})[0]
    error = float(np.abs(ours - reference).max() / np.abs(reference).max())
    cosine = float((ours * reference).sum() / np.linalg.norm(ours) / np.linalg.norm(reference))
    print(f"output agreement: max |diff| / max |ref| = {error:.2e}, cosine = {cosine:.8f}")
    if not np.allclose(ours, reference, rtol=1e-3, atol=1e-3 * np.abs(reference).max()):
        sys.exit("error: the interpreter and onnxruntime disagree on MobileNetV2")

    interp_ms = median_ms(lambda: program.run({"input": x}), args.runs)
    ort_ms = median_ms(lambda: session.run(None, {"input": x}), args.runs)
    print(
        f"tpuc interpreter: {interp_ms:.2f} ms, onnxruntime: {ort_ms:.2f} ms (median of "
        f"{args.runs} runs)"
    )
    print(
        json.dumps(
            {
                "metric": "mobilenet_v2_fp32_interpreter_ms",
                "value": round(interp_ms, 3),
                "reference": round(ort_ms, 3),
                "ratio": round(interp_ms / ort_ms, 3),
                "goal": 3.0,
            }
        )
    )


if __name__ == "__main__":
    main()
