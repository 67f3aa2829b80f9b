"""codeGenInt8 of the example LeakyRelu: the command buffer it emits through
tpuc::kernel::Context (tpuc-plugin-codegen), run on the simulator (tpuc-cmdbuf-run), gives the
same int8 values as its interpretInt8."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .plugin_helpers import Plugin, find_tool, leaky_relu_int8, run


@pytest.fixture(scope="module")
def tools() -> tuple[Path, Path]:
    codegen, simulator = find_tool("tpuc-plugin-codegen"), find_tool("tpuc-cmdbuf-run")
    if codegen is None or simulator is None:
        pytest.skip("tpuc-plugin-codegen / tpuc-cmdbuf-run are not built")
    return codegen, simulator


OUTPUT_OFFSET = 0x20000


@pytest.mark.parametrize(
    "shape,pos,neg",
    [
        ((1, 4, 8, 8), (85, 6), (68, 9)),  # less than one (lanes x EUs) row
        ((2, 32, 16, 16), (1, 0), (102, 10)),  # whole tiles, identity on the positive side
        ((1, 3, 37, 41), (85, 6), (68, 9)),  # tiles and a remainder
    ],
)
def test_codegen_matches_interpret_int8(
    plugin: Plugin,
    tools: tuple[Path, Path],
    tmp_path: Path,
    shape: tuple[int, ...],
    pos: tuple[int, int],
    neg: tuple[int, int],
) -> None:
    codegen, simulator = tools
    count = int(np.prod(shape))
    params = [
        "--param",
        "f32:negative_slope=0.1",
        "--param",
        f"i8:m_i8_neg={neg[0]}",
        "--param",
        f"i8:rshift_neg={neg[1]}",
    ]
    if pos != (1, 0):
        params += ["--param", f"i8:m_i8_pos={pos[0]}", "--param", f"i8:rshift_pos={pos[1]}"]
    cmdbuf = tmp_path / "op.cmdbuf"
    run(
        codegen,
        plugin.library,
        "leaky_relu",
        "--shape",
        ",".join(map(str, shape)),
        *params,
        "--input-gaddr",
        "0",
        "--output-gaddr",
        hex(OUTPUT_OFFSET),
        "--layer-id",
        "7",
        "-o",
        cmdbuf,
        check=True,
    )
    q = np.random.default_rng(count).integers(-128, 128, size=count, dtype=np.int64)
    memory = np.zeros(OUTPUT_OFFSET + count, dtype=np.int8)
    memory[:count] = q
    (tmp_path / "in.bin").write_bytes(memory.tobytes())
    run(simulator, cmdbuf, tmp_path / "in.bin", tmp_path / "out.bin", check=True)
    out = np.frombuffer((tmp_path / "out.bin").read_bytes(), dtype=np.int8)
    result = out[OUTPUT_OFFSET : OUTPUT_OFFSET + count].astype(np.int64)
    np.testing.assert_array_equal(result, leaky_relu_int8(q, pos, neg))


def test_codegen_error_names_the_hook(
    plugin: Plugin, tools: tuple[Path, Path], tmp_path: Path
) -> None:
    codegen, _ = tools
    result = run(
        codegen,
        plugin.library,
        "mysoftmax",
        "--shape",
        "1,4,8,8",
        "--input-gaddr",
        "0",
        "--output-gaddr",
        "0x1000",
        "-o",
        tmp_path / "x",
    )
    assert result.returncode == 1
    assert (
        f"plugin '{plugin.library}': custom op 'mysoftmax': codeGenInt8 is not implemented "
        "by the plugin (override cvi::CustomOp::codeGenInt8)"
    ) in result.stderr
    result = run(
        codegen,
        plugin.library,
        "leaky_relu",
        "--shape",
        "1,4,8,8",
        "--input-gaddr",
        "0",
        "--output-gaddr",
        "0x1000",
        "-o",
        tmp_path / "x",
    )
    assert result.returncode == 1
    assert (
        "codeGenInt8 failed: uncaught exception: OpParam: no parameter named 'm_i8_neg'"
        in result.stderr
    )
