"""`tpuc compile --converter ... --custom-op-plugin ...`: an ONNX op handled as a custom op by a
converter subclass and the example plugin (examples/custom_ops, built out of tree): quantized by
the plugin, checked on the interpreter through it, compiled to a cvimodel whose TPU code for the
op comes from the plugin, and run on the simulator."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import REPO_ROOT, tiny_onnx
from tpuc.cli import CompileError, main

CONVERTER = """
from tpuc.frontend import OnnxConverter, TensorType


class LeakyAsCustomOp(OnnxConverter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.onnxop_factory["LeakyRelu"] = self.convert_leaky

    def convert_leaky(self, node):
        op, shape, _ = self.getOperand(node.inputs[0])
        out = self.mlir.add_custom_op(
            node.name, [op], shape, operation_name="leaky_relu", tpu=True, do_quant=True,
            threshold_overwrite="backward",
            param={"negative_slope": node.attrs.get("alpha", 0.01)})
        self.addOperand(node.name, out, shape, TensorType.ACTIVATION)
"""


@pytest.fixture(scope="module")
def example_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    found = subprocess.run(
        [sys.executable, "-m", "tpuc", "--cmake-dir"], capture_output=True, text=True
    )
    if found.returncode != 0:
        pytest.skip(f"the tpuc CMake package is not available: {found.stderr.strip()}")
    build = tmp_path_factory.mktemp("custom_ops")
    configure = [
        "cmake",
        "-S",
        str(REPO_ROOT / "examples" / "custom_ops"),
        "-B",
        str(build),
        f"-Dtpuc_DIR={found.stdout.strip()}",
        "-DCMAKE_BUILD_TYPE=Release",
    ]
    if shutil.which("ninja"):
        configure += ["-G", "Ninja"]
    for command in (configure, ["cmake", "--build", str(build), "-j2"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    return build / "libCustomOpPlugin.so"


def test_compile_with_custom_op(
    tmp_path: Path, tiny_calibration: Path, example_plugin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tiny_onnx(tmp_path / "leaky.onnx", op="LeakyRelu")
    (tmp_path / "leaky_converter.py").write_text(CONVERTER)
    work = tmp_path / "w"
    code = main(
        [
            "compile",
            str(model),
            "--calibration-images",
            str(tiny_calibration),
            "--workdir",
            str(work),
            "--no-progress",
            "--converter",
            f"{tmp_path / 'leaky_converter.py'}:LeakyAsCustomOp",
            "--custom-op-plugin",
            str(example_plugin),
        ]
    )
    out, err = capsys.readouterr()
    assert "custom_op" in (work / "leaky_opt_fp32.mlir").read_text()
    assert "int8 check  done" in out, out + err
    from tpuc.cli import load_result

    result = load_result(work)
    layers = {m.name: m for m in result.int8_check.layers}
    assert layers["act1"].op == "custom_op" and layers["act1"].verdict != "NOT SIMILAR"
    # The backend emits the custom op's TPU code through the plugin's codeGenInt8, and the
    # simulate stage checks the cvimodel against the INT8 interpreter.
    assert code == 0, out + err
    assert result.complete
    assert "simulate    done" in out, out


def test_custom_op_without_plugin_names_the_op(tmp_path: Path, tiny_calibration: Path) -> None:
    import tpuc
    from tpuc.tools.model_convert import load_converter_class

    model = tiny_onnx(tmp_path / "leaky.onnx", op="LeakyRelu")
    (tmp_path / "leaky_converter.py").write_text(CONVERTER)
    converter = load_converter_class(f"{tmp_path / 'leaky_converter.py'}:LeakyAsCustomOp")
    with pytest.raises(CompileError) as error:
        tpuc.compile(model, tiny_calibration, workdir=tmp_path / "w", converter=converter)
    message = str(error.value)
    assert "'act1'" in message and "leaky_relu" in message and "--custom-op-plugin" in message
    assert error.value.result.stages[-1].name == "fp32 check"
