"""Bit-exactness of the INT8 interpreter against the vendor toolchain on the conformance models.

Per model: ONNX -> tpuc.frontend -> `tpuc-opt --assign-layer-id --canonicalize`, then the vendor's
calibration table (tensor names `<onnx output>_<OpType>` mapped to our layer names) ->
`--import-calibration-table --assign-chip-name --chipname cv183x --tpu-quant`, and the INT8
interpreter on `<model>_in_f32.npz`. Compared:

* every int8 tensor of the vendor's tpu.mlir interpreter (`*_sym_tpu_out_fixed.npz`, raw codes)
  whose layer we also have, code for code; our dump's `<name>_scale` times the codes must give the
  vendor's dequantized tensor (`*_sym_tpu_outputs.npz`);
* the fp32 results against the vendor runtime's outputs (`*_runner_out.npz`) byte for byte.

Where the vendor deliberately computes something differently, the difference is named in
EXPECTED_DIFFERENCES with its tolerance; nothing else may differ. m12 (TopK) is not here: the
vendor refuses to compile it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = REPO_ROOT.parent / "shared" / "conformance"

MODELS = [
    "m01_conv_relu", "m02_conv_s2_dil2", "m03_dwconv", "m04_pools", "m05_gap_gemm",
    "m06_add_mul_concat", "m07_leaky_resize", "m08_sigmoid_tanh", "m10_gemm_softmax",
    "m13_gemm_argmax", "r18_half_112",
]  # fmt: skip

# (model, our result name) -> (why, absolute tolerance). Everything not listed must be
# bit-exact.
EXPECTED_DIFFERENCES: dict[tuple[str, str], tuple[str, float]] = {
    ("m10_gemm_softmax", "output"): (
        "softmax is kept in fp32 by tpu-quant (fed by the dequantized int8 logits, x = q / scale); "
        "the vendor runs it on the TPU in bf16 (exp and reciprocal lookup tables), so its result "
        "has bf16 precision (measured: 1.1e-3 at most)",
        4e-3,
    ),
}


def _tool(name: str) -> Path:
    """$TPUC_BIN_DIR, $TPUC_BUILD_DIR, the installed package's _bin, then PATH."""
    for env, sub in (("TPUC_BIN_DIR", ""), ("TPUC_BUILD_DIR", "dialect/tools")):
        root = os.environ.get(env)
        if root and (Path(root) / sub / name).is_file():
            return Path(root) / sub / name
    try:
        import tpuc

        package = Path(tpuc.__file__).absolute().parent
        for candidate in (
            package / "_bin" / name,
            package.parent.parent / "dialect" / "tools" / name,
        ):
            if candidate.is_file():
                return candidate
    except ImportError:
        pass
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} not found (set TPUC_BIN_DIR or TPUC_BUILD_DIR)")
    return Path(found)


def _run(cmd: list[Any]) -> None:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}:\n{proc.stdout}\n{proc.stderr}"


def _our_name(vendor: str, ours: set[str]) -> str | None:
    """Our layer for a vendor tensor name `<onnx output>_<OpType>`."""
    if vendor in ours:
        return vendor
    base = vendor.rsplit("_", 1)[0]
    return base if base in ours else None


def _translate_table(vendor_table: Path, layers: set[str], out: Path) -> None:
    rows = []
    for line in vendor_table.read_text().splitlines():
        fields = line.split()
        if fields and not line.startswith("#"):
            name = _our_name(fields[0], layers)
            if name is None:
                continue  # a vendor tensor we have no layer for (fused away)
            fields[0] = name
            line = " ".join(fields)
        rows.append(line)
    out.write_text("\n".join(rows) + "\n")


def _argmax(inputs: list[np.ndarray], params: dict[str, Any], shape: tuple[int, ...]) -> np.ndarray:
    x = inputs[0]
    return np.argmax(x, axis=int(params["axis"]), keepdims=True).astype(np.float32).reshape(shape)


def _converter(model: str, onnx_path: Path, mlir: Path) -> Any:
    frontend = pytest.importorskip("tpuc.frontend", reason="tpuc.frontend is not available")

    class WithArgMax(frontend.OnnxConverter):
        """ArgMax (m13) as a CPU custom op, as the vendor guide adds ops the frontend lacks."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.onnxop_factory["ArgMax"] = self.convert_argmax

        def convert_argmax(self, node: Any) -> None:
            op, shape, _ = self.getOperand(node.inputs[0])
            axis = int(node.attrs.get("axis", 0))
            out_shape = list(shape)
            out_shape[axis] = 1
            custom = self.mlir.add_custom_op(
                node.name,
                [op],
                out_shape,
                operation_name="argmax",
                tpu=False,
                do_quant=False,
                param={"axis": axis},
            )
            self.addOperand(node.name, custom, out_shape, frontend.TensorType.ACTIVATION)

    return WithArgMax(model, str(onnx_path), str(mlir))


def quantize(model: str, work: Path) -> Path:
    src = CONFORMANCE / model
    if not (src / f"{model}.onnx").is_file():
        pytest.skip(f"conformance model {model} not found in {CONFORMANCE}")
    pytest.importorskip("onnx")
    raw, fp32, int8 = work / "raw.mlir", work / "fp32.mlir", work / "int8.mlir"
    _converter(model, src / f"{model}.onnx", raw).run()
    opt = _tool("tpuc-opt")
    _run([opt, raw, "--assign-layer-id", "--canonicalize", "-o", fp32])
    layers = set(re.findall(r'name = "([^"]+)"', fp32.read_text()))
    table = work / "cali_table"
    _translate_table(src / f"{model}_cali_table", layers, table)
    _run(
        [
            opt,
            fp32,
            "--import-calibration-table",
            "--calibration-table",
            table,
            "--assign-chip-name",
            "--chipname",
            "cv183x",
            "--tpu-quant",
            "-o",
            int8,
        ]
    )
    return int8


@pytest.fixture(scope="module")
def interp() -> Any:
    return pytest.importorskip("tpuc.interpreter", reason="tpuc.interpreter is not built")


@pytest.mark.parametrize("model", MODELS)
def test_int8_interpreter_matches_vendor(model: str, tmp_path: Path, interp: Any) -> None:
    int8 = quantize(model, tmp_path)
    src = CONFORMANCE / model
    inputs = dict(np.load(src / f"{model}_in_f32.npz"))
    ours = interp.run(int8, inputs, dump_all=True, custom_ops={"argmax": _argmax})
    codes = np.load(src / f"{model}_cv183x_int8_sym_tpu_out_fixed.npz")
    dequantized = np.load(src / f"{model}_cv183x_int8_sym_tpu_outputs.npz")
    runner = np.load(src / f"{model}_cv183x_int8_runner_out.npz")
    int8_names = {name for name, v in ours.items() if v.dtype == np.int8}

    # (a) int8 tensors, by layer.
    compared = []
    for vendor in codes.files:
        if vendor.endswith("_si8"):  # the input quant: `<input><first layer>_si8`
            name = next(
                (
                    n
                    for n in int8_names
                    if n.endswith("_quant") and vendor.startswith(n[: -len("_quant")])
                ),
                None,
            )
        else:
            name = _our_name(vendor, int8_names)
        if name is None:
            continue
        got, want = ours[name].astype(np.int32), codes[vendor].astype(np.int32)
        assert got.size == want.size, (name, got.shape, want.shape)
        diff = np.count_nonzero(got.reshape(-1) != want.reshape(-1))
        assert diff == 0, f"{model}: int8 tensor {name} differs from vendor {vendor} in {diff}"
        step = np.float32(ours[f"{name}_scale"])
        np.testing.assert_allclose(
            got.reshape(-1) * step, dequantized[vendor].reshape(-1), rtol=1e-6, atol=0
        )
        compared.append(name)
    quantized_layers = {n for n in int8_names if not n.endswith("_quant")}
    assert quantized_layers <= set(compared), (
        f"{model}: int8 layers without a vendor tensor: {sorted(quantized_layers - set(compared))}"
    )

    # (b) fp32 results against the vendor runtime, byte for byte.
    program = interp.compile(int8, custom_ops={"argmax": _argmax})
    results = program.run(inputs)
    for name, got in results.items():
        layer = name[: -len("_dequant")] if name.endswith("_dequant") else name
        # The vendor's output is `<layer>_<OpType>_f32` (dequantized on the TPU) or, for an
        # fp32 CPU result, `<layer>_<OpType>`.
        candidates = [v for v in runner.files if v.endswith("_f32") and _our_name(v[:-4], {layer})]
        candidates += [v for v in runner.files if _our_name(v, {layer})]
        assert candidates, f"{model}: no vendor output for our result {name}"
        vendor = candidates[0]
        want = runner[vendor].reshape(-1)
        got = got.reshape(-1).astype(np.float32)
        assert got.size == want.size, (name, vendor)
        if (model, name) in EXPECTED_DIFFERENCES:
            why, atol = EXPECTED_DIFFERENCES[model, name]
            np.testing.assert_allclose(got, want, rtol=0, atol=atol, err_msg=why)
            # The entry must stay true: a result that became bit-exact leaves the table.
            assert not np.array_equal(got.view(np.uint32), want.view(np.uint32)), (
                f"{model}: {name} is now bit-exact; remove it from EXPECTED_DIFFERENCES"
            )
            continue
        same = got.view(np.uint32) == want.view(np.uint32)
        assert same.all(), (
            f"{model}: result {name} differs from the vendor's {vendor} in "
            f"{np.count_nonzero(~same)} of {got.size} values"
        )
