"""Fuzz target for the cvimodel loader (atheris, libFuzzer-compatible command line).

    PYTHONPATH=<build>/python_packages python fuzz_loader.py [libFuzzer flags] [corpus dirs]

Each input is a cvimodel image. Before parsing, the header's MD5 is recomputed when the magic is
intact, so that mutations reach the FlatBuffers verifier and the semantic checks instead of all
stopping at the checksum. The only acceptable failure is RuntimeError (the runtime's Error); any
other exception, a crash or a hang is a bug. Images embedding CPU-function libraries are parsed
but not loaded: a library section is code that the loader dlopens, trusted by design.

`mutate_and_check(seed_images, iterations, rng)` is the same check driven by a plain random
mutator, for environments without atheris.
"""

from __future__ import annotations

import hashlib
import random
import sys

from tpuc.runtime import Model, cvimodel

FUNC_SECTIONS = {int(cvimodel.SectionType.FUNC_X86), int(cvimodel.SectionType.FUNC_AARCH64)}


def with_fixed_md5(data: bytes) -> bytes:
    if len(data) >= 48 and data[:8] == b"CviModel":
        fixed = bytearray(data)
        fixed[14:30] = hashlib.md5(data[48:]).digest()
        return bytes(fixed)
    return data


def check_one(data: bytes) -> None:
    data = with_fixed_md5(data)
    try:
        info = cvimodel.parse(data)
        for program in info.programs:
            for routine in program.routines:
                if routine.type == int(cvimodel.RoutineType.CPU):
                    cvimodel.decode_params(routine.function_args)
        if any(s.type in FUNC_SECTIONS for s in info.sections):
            return
        Model.from_bytes(data)
    except RuntimeError:
        pass


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        choice = rng.random()
        if not buf:
            buf = bytearray(rng.randbytes(rng.randint(1, 64)))
        elif choice < 0.5:
            pos = rng.randrange(len(buf))
            buf[pos] = rng.randrange(256)
        elif choice < 0.65:
            pos = rng.randrange(len(buf))
            buf[pos : pos + 4] = rng.choice(
                [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x00\x00\x00\x80", b"\x7f\xff\xff\xff"]
            )
        elif choice < 0.8:
            del buf[rng.randrange(len(buf)) :]
        elif choice < 0.9:
            pos = rng.randrange(len(buf))
            buf[pos:pos] = rng.randbytes(rng.randint(1, 16))
        else:
            a, b = sorted(rng.randrange(len(buf)) for _ in range(2))
            del buf[a:b]
    return bytes(buf)


def mutate_and_check(seeds: list[bytes], iterations: int, rng: random.Random) -> None:
    for _ in range(iterations):
        check_one(mutate(rng.choice(seeds), rng))


def main() -> None:
    import atheris

    atheris.Setup(sys.argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
