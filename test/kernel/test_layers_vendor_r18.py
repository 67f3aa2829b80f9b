"""Layer kernels: the whole vendor conformance model r18_half_112 (a half-width ResNet-18 at
112x112: 7x7/2 stem, max pool, 8 residual blocks with eltwise adds, global average pool,
fully_connected, output dequant) emitted layer by layer with tpuc/kernel/Layers.h into one command
buffer. Layer parameters come from the vendor's tpu mlir, weights and channel records from its
cvimodel; the int8 tensors the vendor runner dumped and the fp32 output must come out bit for bit,
on the vendor simulator and on tpuc's engine."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from .kernel_harness import SIMS, Simulators, find_tool
from .layer_harness import LayerProgram, VendorModel, run

MODEL = "r18_half_112"
OP = re.compile(r'%(\d+) = "tpu\.(\w+)"\(([^)]*)\) \{(.*)\} : \((.*)\) -> (.*) loc\(#loc(\d+)\)')
LOC = re.compile(r'^#loc(\d+) = loc\("([^"]*)"\)')
WEIGHT = re.compile(r"^\s+0x([0-9a-f]+)\s+(\d+)\s+(\w+)\s+([\dx]+)\s+(\S+)\s*$")


def ints(attrs: str, key: str) -> list[int]:
    m = re.search(rf"\b{key} = \[([^\]]*)\]", attrs)
    assert m, key
    return [int(v.split(":")[0]) for v in m.group(1).split(",")]


def scalar(attrs: str, key: str) -> int:
    m = re.search(rf"\b{key} = (-?\d+)", attrs)
    assert m, key
    return int(m.group(1))


def flag(attrs: str, key: str) -> bool:
    return re.search(rf"\b{key} = true", attrs) is not None


def result_shape(text: str) -> tuple[int, ...]:
    m = re.match(r"tensor<([\dx]+)x[!a-z]", text)
    assert m, text
    return tuple(int(v) for v in m.group(1).split("x"))


def as4(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    s = tuple(shape) + (1,) * (4 - len(shape))
    return (s[0], s[1], s[2], s[3])


def build_r18() -> tuple[LayerProgram, dict[str, np.ndarray]]:
    """The kernel-script program of the whole model and the tensors it must produce."""
    vm = VendorModel(MODEL)
    tool = find_tool("cvimodel")
    if tool is None:
        pytest.skip("the cvimodel tool is not available")
    dump = subprocess.run(
        [str(tool), str(vm.dir / f"{MODEL}_cv183x_int8.cvimodel")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    weights = {
        m.group(5): (
            int(m.group(1), 16),
            int(m.group(2)),
            tuple(int(v) for v in m.group(4).split("x")),
        )
        for m in map(WEIGHT.match, dump.splitlines())
        if m
    }
    text = (vm.dir / f"{MODEL}_cv183x_int8_sym_tpu.mlir").read_text()
    locs = {m.group(1): m.group(2) for m in map(LOC.match, text.splitlines()) if m}

    p = LayerProgram(np.random.default_rng(0), mem_size=1 << 25)
    wblob = p.blob(np.frombuffer(vm.weights, np.uint8).copy(), region=1)
    wreg, wbase = (int(v) for v in wblob.split(":"))

    def waddr(name: str) -> tuple[str, tuple[int, ...]]:
        off, _, shape = weights[name]
        return f"{wreg}:{wbase + off}", shape

    def wdata(name: str, dtype: type = np.int8) -> np.ndarray:
        off, size, _ = weights[name]
        return np.frombuffer(vm.weights[off : off + size], np.uint8).view(dtype)

    tensors: dict[str, str] = {}  # SSA id -> global name
    expected: dict[str, np.ndarray] = {}
    names = {}
    x = vm.int8(f"input{locs_first_conv(text, locs)}_si8", 2.2)
    count = 0
    for line in text.splitlines():
        m = OP.search(line)
        if not m:
            continue
        res, kind, args, attrs, _, rtype, loc = m.groups()
        name = locs[loc]
        operands = re.findall(r"%(\d+)", args)
        gname = f"t{res}"
        if kind == "GenericCpu":  # the input quant runs on the CPU
            p.gtensor(gname, as4(x.shape), "int8", x, region=2)
            tensors[res] = gname
            continue
        if kind == "Cast":
            thr = vm.thresholds[locs[loc].removesuffix("_f32")]
            src = p.globals[tensors[operands[0]]]
            n = int(np.prod(src.shape))
            y = p.gtensor("y_f32", (1, n, 1, 2), "bf16", None, region=4)
            p(f"global cast_in {src.region} {src.offset} 1 {n} 1 1 int8")
            p(f"layer_dequant input=cast_in output=4:{y.offset} threshold={thr!r} id={count}")
            bits = vm.outputs[name].astype(np.float32).reshape(-1).view(np.uint32)
            expected["y_f32"] = (
                np.stack([bits & 0xFFFF, bits >> 16], -1).astype(np.uint16).reshape(1, n, 1, 2)
            )
            continue
        count += 1
        shape = as4(result_shape(rtype))
        if kind == "Reshape":  # same bytes, another shape
            src = p.globals[tensors[operands[0]]]
            p.globals[gname] = src.__class__(
                src.region,
                src.offset,
                shape,
                "int8",
                (shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1),
            )
            p(f"global {gname} {src.region} {src.offset} {' '.join(map(str, shape))} int8")
            tensors[res] = gname
            continue
        p.gtensor(gname, shape, "int8", None, region=2 + count % 2)
        tensors[res] = gname
        names[name] = gname
        ins = [tensors[o] for o in operands if o in tensors]
        if kind == "Conv2D":
            kh, kw = ints(attrs, "kernel_shape")
            sh, sw = ints(attrs, "strides")
            pt, pl, pb, pr = ints(attrs, "pads")
            group = scalar(attrs, "group")
            icg = p.globals[ins[0]].shape[1] // group
            faddr, fshape = waddr(f"{name}_filter_reordered")
            if fshape[3] != icg:  # input channels padded (to an even count) by the vendor
                f = wdata(f"{name}_filter_reordered").reshape(fshape[1:])[:, :, :icg]
                faddr = p.blob(np.ascontiguousarray(f), region=5)
            raddr, rshape = waddr(f"{name}_bias_packed")
            p(
                f"layer_conv2d input={ins[0]} output={gname} filter={faddr} group={group} kh={kh} "
                f"kw={kw} sh={sh} sw={sw} pt={pt} pb={pb} pl={pl} pr={pr} chan_param={raddr} "
                f"chan_bias={int(rshape[3] == 9)} relu={int(flag(attrs, 'do_relu'))} "
                f"name={name} id={count}"
            )
        elif kind == "Pool2D":
            kh, kw = ints(attrs, "kernel_shape")
            sh, sw = ints(attrs, "strides")
            pt, pl, pb, pr = ints(attrs, "pads")
            avg = "pool_mode Avg" in attrs
            extra = (
                f"m={scalar(attrs, 'multiplier')} rshift={scalar(attrs, 'rshift')}" if avg else ""
            )
            p(
                f"layer_pool kind={'avg' if avg else 'max'} input={ins[0]} output={gname} kh={kh} "
                f"kw={kw} sh={sh} sw={sw} pt={pt} pb={pb} pl={pl} pr={pr} {extra} "
                f"relu={int(flag(attrs, 'do_relu'))} name={name} id={count}"
            )
        elif kind == "Add":
            m_ = ",".join(map(str, ints(attrs, "multipliers")))
            p(
                f"layer_eltwise kind=add inputs={','.join(ins)} output={gname} m={m_} "
                f"rshift={ints(attrs, 'rshifts')[0]} relu={int(flag(attrs, 'do_relu'))} "
                f"name={name} id={count}"
            )
        elif kind == "MatMul":
            src = p.globals[ins[0]]
            k = src.shape[1] * src.shape[2] * src.shape[3]
            n = shape[1]
            fil, fshape = waddr(f"{name}_filter_i8")
            assert fshape[:2] == (k, n)  # [K][N]
            # the vendor stores the int32 biases as four byte planes [4][N] already (the layout
            # of packFcBiasInt32)
            bias, _ = waddr(f"{name}_bias_int32")
            p(f"gmatrix {gname}_in {src.region} {src.offset} 1 {k} int8")
            p(f"gmatrix {gname}_m {p.globals[gname].region} {p.globals[gname].offset} 1 {n} int8")
            p(
                f"layer_fc input={gname}_in output={gname}_m filter={fil} transposed=1 "
                f"bias={bias} m={ints(attrs, 'multipliers')[0]} "
                f"rshift={ints(attrs, 'rshifts')[0]} relu={int(flag(attrs, 'do_relu'))} "
                f"name={name} id={count}"
            )
        else:
            raise AssertionError(f"unexpected op {kind}")
        if name in vm.outputs.files:
            expected[gname] = vm.int8(name, name).reshape(shape)
    assert {"y_f32"} < set(expected) and len(expected) >= 3
    return p, expected


@pytest.mark.parametrize("sim", SIMS)
def test_vendor_model_r18(sims: Simulators, sim: str) -> None:
    p, expected = build_r18()
    run(sims, sim, p, expected)


def locs_first_conv(text: str, locs: dict[str, str]) -> str:
    """Name of the layer the input quant feeds (the runner names the quantized input after it)."""
    for line in text.splitlines():
        m = OP.search(line)
        if m and m.group(2) == "Conv2D":
            return locs[m.group(7)]
    raise AssertionError("no convolution")
