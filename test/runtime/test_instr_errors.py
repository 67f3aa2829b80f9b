"""Malformed command buffers and descriptors must fail with a clear error naming the problem (the
record offset, the descriptor index and field), never crash or silently compute."""

from __future__ import annotations

import struct
import subprocess

import numpy as np
import pytest
from vendor_sim import (
    GBASE,
    LANE_BYTES,
    TDMA_FIELDS,
    TIU_FIELDS,
    EngineError,
    Program,
    engine_available,
    pack,
    run_tpuc,
    tpuc_runner,
)

pytestmark = pytest.mark.skipif(not engine_available(), reason="tpuc engine not built")

MEM = np.zeros(1 << 16, np.uint8)


def run_expect(cmdbuf: bytes, *needles: str, mem: np.ndarray = MEM) -> str:
    with pytest.raises(EngineError) as e:
        run_tpuc(cmdbuf, mem, [0] * 8)
    msg = str(e.value)
    for n in needles:
        assert n in msg, f"{n!r} not in error message {msg!r}"
    return msg


def g2l_program(**kw: int) -> Program:
    p = Program()
    args = dict(
        trans_dir=0,
        src_base_addr=GBASE,
        dst_base_addr=0,
        src_n=1,
        src_c=4,
        src_h=1,
        src_w=16,
        dst_c=4,
        dst_h=1,
        dst_w=16,
        src_n_stride=64,
        src_c_stride=16,
        src_h_stride=16,
        dst_n_stride=16,
        dst_c_stride=16,
        dst_h_stride=16,
    )
    args.update(kw)
    p.tdma(**args)
    return p


def copy_program(**kw: int) -> Program:
    """One element-wise copy (tsk_typ 3, eu 10) of a (1, 4, 2, 8) tensor."""
    p = Program()
    f = dict(
        tsk_typ=3,
        tsk_eu_typ=10,
        tsk_opd_num=1,
        opt_relu=0,
        opt_shift_typ=0,
        opt_opd1_sign=0,
        short_res0_str=3,
        short_opd0_str=3,
        res0_addr=4096,
        opd0_addr=0,
        res0_n=1,
        res0_c=4,
        res0_h=2,
        res0_w=8,
        opd0_n=1,
        opd0_c=4,
        opd0_h=2,
        opd0_w=8,
        res0_n_str=16,
        res0_c_str=16,
        res0_h_str=8,
        res0_w_str=1,
        opd0_n_str=16,
        opd0_c_str=16,
        opd0_h_str=8,
        opd0_w_str=1,
    )
    f.update(kw)
    p.tiu(**f)
    return p


# -- record stream ---------------------------------------------------------------------------
def test_valid_programs_run() -> None:
    out, _ = run_tpuc(g2l_program().to_bytes() + copy_program().to_bytes(), MEM, [0] * 8)
    assert out.size == MEM.size


def test_truncated_header() -> None:
    buf = g2l_program().to_bytes()
    run_expect(buf + buf[:5], "offset 72", "truncated header")


def test_truncated_body() -> None:
    buf = g2l_program().to_bytes() * 2
    run_expect(buf[:-10], "offset 72", "truncated record")


def test_wrong_magic() -> None:
    buf = bytearray(g2l_program().to_bytes())
    buf[0] = 0xA6
    run_expect(bytes(buf), "offset 0", "magic 0xa6")


def test_unknown_engine() -> None:
    buf = bytearray(g2l_program().to_bytes())
    buf[2] = 5
    run_expect(bytes(buf), "offset 0", "unknown engine id 5")


def test_wrong_tiu_length() -> None:
    body = struct.pack("<16I", *pack(TIU_FIELDS, 28, dict(cmd_en=1))[:16])
    run_expect(struct.pack("<BBBBI", 0xA5, 64, 0, 0, 0) + body, "offset 0", "TIU body length 64")


def test_cpu_record_is_a_sync_break() -> None:
    cpu = struct.pack("<BBBBI", 0xA5, 224, 1, 0, 0) + bytes(224)
    run_tpuc(g2l_program().to_bytes() + cpu + copy_program().to_bytes(), MEM, [0] * 8)


# -- memory bounds -----------------------------------------------------------------------------
def test_local_memory_overflow_names_descriptor_and_field() -> None:
    buf = g2l_program().to_bytes() + copy_program(res0_addr=LANE_BYTES - 8).to_bytes()
    run_expect(buf, "local-memory overflow", "TIU descriptor #1", "res0_addr")


def test_local_start_lane_out_of_range() -> None:
    run_expect(
        copy_program(opd0_addr=32 * LANE_BYTES).to_bytes(),
        "local-memory overflow",
        "opd0_addr",
        "start lane 32",
    )


def test_tdma_local_overflow() -> None:
    run_expect(
        g2l_program(dst_base_addr=LANE_BYTES - 8).to_bytes(),
        "local-memory overflow",
        "TDMA descriptor #0",
        "dst_base_addr",
    )


def test_global_out_of_range() -> None:
    msg = run_expect(
        g2l_program(src_base_addr=GBASE + MEM.size - 16).to_bytes(),
        "TDMA descriptor #0",
        "src_base_addr",
        "outside device memory",
    )
    assert "base register 0" in msg


def test_global_base_register_out_of_range() -> None:
    p = g2l_program(src_base_reg_sel=3)
    with pytest.raises(EngineError, match="base register 3"):
        run_tpuc(p.to_bytes(), MEM, [0, 0, 0, MEM.size, 0, 0, 0, 0])


def test_global_address_without_bias() -> None:
    run_expect(
        g2l_program(src_base_addr=0x100).to_bytes(),
        "src_base_addr",
        "below the global-memory start",
    )


# -- unsupported or malformed descriptors ------------------------------------------------------
def test_unknown_task_type() -> None:
    run_expect(
        copy_program(tsk_typ=4).to_bytes(),
        "TIU descriptor #0",
        "tsk_typ",
        "unsupported task type 4",
    )


def test_unsupported_arith_type() -> None:
    run_expect(copy_program(tsk_eu_typ=11, tsk_opd_num=2).to_bytes(), "tsk_eu_typ", "11")


def test_min_pooling_is_not_cv183x() -> None:
    p = Program()
    p.tiu(tsk_typ=1, tsk_eu_typ=3, tsk_opd_num=1, opt_relu=0)
    run_expect(p.to_bytes(), "tsk_eu_typ", "pooling kind 3")


def test_disabled_tiu_descriptor() -> None:
    run_expect(copy_program(cmd_en=0).to_bytes(), "cmd_en", "not enabled")


def test_invalid_tdma_descriptor() -> None:
    run_expect(g2l_program(vld=0).to_bytes(), "vld", "not marked valid")


def test_bad_tdma_format() -> None:
    run_expect(g2l_program(src_fmt=3).to_bytes(), "src_fmt", "unsupported data format 3")


def test_signed_result_from_unsigned_operands() -> None:
    p = copy_program(
        tsk_eu_typ=0,
        tsk_opd_num=2,
        opt_opd0_sign=0,
        opt_opd1_sign=0,
        opt_res0_sign=1,
        opd1_addr=2048,
        short_opd1_str=3,
        opd1_n=1,
        opd1_c=4,
        opd1_h=2,
        opd1_w=8,
        opd1_n_str=16,
        opd1_c_str=16,
        opd1_h_str=8,
        opd1_w_str=1,
    )
    run_expect(p.to_bytes(), "opt_res0_sign", "signed result from unsigned operands")


def test_max_pooling_with_insertion_is_rejected() -> None:
    p = Program()
    p.tiu(
        tsk_typ=1,
        tsk_eu_typ=0,
        tsk_opd_num=1,
        opt_relu=0,
        opd0_c=1,
        opd0_h=2,
        opd0_w=2,
        res0_c=1,
        res0_h=3,
        res0_w=3,
        opd1_h=1,
        opd1_w=1,
        conv_opd0_x_ins0=1,
        conv_opd0_y_ins0=1,
        res0_addr=1024,
    )
    run_expect(p.to_bytes(), "conv_opd0_x_ins0", "insertion")


def test_shift_amount_out_of_range() -> None:
    mem = MEM.copy()
    mem[:64] = 40  # shift amounts of 40
    p = g2l_program(dst_base_addr=2048)
    p.tiu(
        tsk_typ=3,
        tsk_eu_typ=6,
        tsk_opd_num=2,
        opt_relu=0,
        opt_shift_typ=1,
        opt_rshift_typ=0,
        opt_opd0_sign=1,
        opt_opd1_sign=1,
        opt_res0_sign=1,
        opt_opd0_int8=0,
        opt_res0_int8=0,
        short_res0_str=3,
        short_opd0_str=3,
        short_opd1_str=3,
        res0_addr=4096,
        opd0_addr=0,
        opd1_addr=2048,
        res0_b_str=512,
        opd0_b_str=512,
        res0_n=1,
        res0_c=4,
        res0_h=1,
        res0_w=16,
        opd0_n=1,
        opd0_c=4,
        opd0_h=1,
        opd0_w=16,
        opd1_n=1,
        opd1_c=4,
        opd1_h=1,
        opd1_w=16,
        res0_n_str=16,
        res0_c_str=16,
        res0_h_str=16,
        res0_w_str=1,
        opd0_n_str=16,
        opd0_c_str=16,
        opd0_h_str=16,
        opd0_w_str=1,
        opd1_n_str=16,
        opd1_c_str=16,
        opd1_h_str=16,
        opd1_w_str=1,
    )
    with pytest.raises(EngineError, match="arith_shift amount 40"):
        run_tpuc(p.to_bytes(), mem, [0] * 8)


def test_lut_index_of_negative_value() -> None:
    mem = MEM.copy()
    mem[:2] = [0x80, 0xBF]  # bf16 -1.0
    p = g2l_program(src_fmt=2, dst_fmt=2, src_c=1, dst_c=1, src_w=1, dst_w=1)
    p.tdma(trans_dir=3, src_fmt=2, dst_fmt=2, mv_lut_idx=1, src_base_addr=0, dst_base_addr=64)
    run_expect(p.to_bytes(), "mv_lut_idx", "negative or NaN", mem=mem)


# -- the field table through the engine's encoder -----------------------------------------------
def encoder() -> str:
    exe = tpuc_runner()
    if exe is None:
        pytest.skip("tpuc-cmdbuf-run not built")
    return exe


def encode(kind: str, **fields: int) -> subprocess.CompletedProcess[str]:
    args = [encoder(), "--encode", kind] + [f"{k}={v}" for k, v in fields.items()]
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    "kind,table,nwords,fields",
    [
        (
            "tiu",
            TIU_FIELDS,
            28,
            dict(
                tsk_typ=2,
                res0_c=4095,
                cmd_id_gdma=0xABCD,
                quan_m=0x89ABCDEF,
                opd0_h=0xFFF,
                res0_addr=0x123456,
                layer_info=0xFFFFFFF,
            ),
        ),
        (
            "tdma",
            TDMA_FIELDS,
            16,
            dict(
                dst_c_stride=0x12345678,
                src_c_stride=0x9ABCDEF0,
                src_base_addr=0xFF_1234_5678,
                dst_base_addr=0x12_8765_4321,
                cmd_id=0xFFFF,
                wait_id_tpu=7,
            ),
        ),
    ],
)
def test_engine_encoder_matches_field_table(
    kind: str, table: dict, nwords: int, fields: dict[str, int]
) -> None:
    r = encode(kind, **fields)
    assert r.returncode == 0, r.stderr
    words = [int(w, 16) for w in r.stdout.split()]
    assert words == pack(table, nwords, fields)


def test_encoder_rejects_values_wider_than_the_field() -> None:
    r = encode("tiu", res0_c=4096)
    assert r.returncode == 1 and "does not fit descriptor field res0_c (12 bits)" in r.stderr
    r = encode("tdma", src_base_addr=1 << 40)
    assert r.returncode == 1 and "src_base_addr (40 bits)" in r.stderr


def test_encoder_rejects_unknown_fields() -> None:
    r = encode("tiu", no_such_field=1)
    assert r.returncode == 1 and "unknown descriptor field 'no_such_field'" in r.stderr


def test_window_result_size_must_match_geometry() -> None:
    p = Program()
    p.tiu(
        tsk_typ=1,
        tsk_eu_typ=0,
        tsk_opd_num=1,
        opt_relu=0,
        opd0_c=1,
        opd0_h=4,
        opd0_w=4,
        res0_c=1,
        res0_h=4,
        res0_w=4,
        opd1_h=2,
        opd1_w=2,
        res0_addr=1024,
    )
    run_expect(p.to_bytes(), "TIU descriptor #0 field res0_h", "does not match the window")


def test_double_conv_needs_even_channels() -> None:
    p = Program()
    p.tiu(
        tsk_typ=0,
        double_conv=1,
        tsk_opd_num=2,
        opt_relu=0,
        opd0_c=3,
        opd0_h=2,
        opd0_w=2,
        opd1_n=3,
        opd1_c=1,
        opd1_h=1,
        opd1_w=1,
        res0_c=1,
        res0_h=2,
        res0_w=2,
        short_opd1_str=1,
        res0_addr=1024,
        opd1_addr=2048,
    )
    run_expect(p.to_bytes(), "double_conv", "even IC")


# -- robustness: random descriptors fail cleanly ---------------------------------------------
def random_descriptor_program(rng: np.random.Generator) -> bytes:
    """A few descriptors with random field values (biased toward small, plausible ones)."""
    p = Program()
    for _ in range(3):
        if rng.random() < 0.5:
            table, emit = TIU_FIELDS, p.tiu
        else:
            table, emit = TDMA_FIELDS, p.tdma
        values = {}
        for name, f in table.items():
            width = f.width + f.hi_width
            r = rng.random()
            if r < 0.6:
                values[name] = f.reset
            elif r < 0.9:
                values[name] = int(rng.integers(0, min(1 << width, 64)))
            else:
                values[name] = int(rng.integers(0, 1 << min(width, 62)))
        if table is TIU_FIELDS:
            values.update(cmd_en=1, tsk_typ=int(rng.integers(0, 4)))
        else:
            values.update(vld=1, trans_dir=int(rng.integers(0, 4)))
        emit(**values)
    return p.to_bytes()


@pytest.mark.parametrize("seed", range(200))
def test_random_descriptors_fail_cleanly(seed: int) -> None:
    """Random descriptors run or raise the engine's error; the CLI must not crash or hang."""
    exe = tpuc_runner()
    if exe is None:
        pytest.skip("tpuc-cmdbuf-run not built")
    import tempfile
    from pathlib import Path

    rng = np.random.default_rng(3000 + seed)
    with tempfile.TemporaryDirectory() as d:
        cb, mi, mo = Path(d, "c.bin"), Path(d, "m.bin"), Path(d, "o.bin")
        cb.write_bytes(random_descriptor_program(rng))
        mi.write_bytes(bytes(1 << 20))
        r = subprocess.run(
            [exe, str(cb), str(mi), str(mo)], capture_output=True, text=True, timeout=60
        )
    assert r.returncode in (0, 1), f"exit {r.returncode}: {r.stderr[-300:]}"
    if r.returncode == 1:
        assert r.stderr.startswith("tpuc-cmdbuf-run: ") and "descriptor" in r.stderr
