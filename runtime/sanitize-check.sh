#!/usr/bin/env bash
# Builds the runtime's C++ CLIs with AddressSanitizer + UndefinedBehaviorSanitizer (TPUC_SANITIZE=ON)
# in a standalone build dir and runs them over the conformance cvimodels and over malformed inputs.
# Usage: runtime/sanitize-check.sh [build-dir]   (default /tmp/tpuc-asan)
# Exits non-zero on any sanitizer report, output mismatch, crash, or malformed input that is accepted
# where it must be rejected.
set -uo pipefail

RUNTIME_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(dirname "$RUNTIME_DIR")
BUILD_DIR=${1:-/tmp/tpuc-asan}
CONF_DIR=$(cd "$REPO_DIR/.." && pwd)/shared/conformance
PYTHON=${PYTHON:-/work/venv/bin/python}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
MUTATIONS=${TPUC_SANITIZE_MUTATIONS:-200}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}

cmake -S "$RUNTIME_DIR" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTPUC_SANITIZE=ON -DPython_EXECUTABLE="$PYTHON" >/dev/null || exit 1
ninja -C "$BUILD_DIR" -j2 model_runner cvimodel tpuc-cmdbuf-run || exit 1
ninja -C "$BUILD_DIR" -j2 tpuc-kernel-emit >/dev/null 2>&1 || echo "note: tpuc-kernel-emit not built"

BIN=$BUILD_DIR/bin
RUNNER=$(find "$BUILD_DIR" -name model_runner -type f -perm -u+x | head -1)
CVIMODEL=$(find "$BUILD_DIR" -name cvimodel -type f -perm -u+x | head -1)
CMDBUF_RUN=$(find "$BUILD_DIR" -name tpuc-cmdbuf-run -type f -perm -u+x | head -1)
if [[ ! -d "$CONF_DIR" ]]; then
  echo "skip: conformance models not found at $CONF_DIR"
  exit 0
fi

WORK=$(mktemp -d /tmp/tpuc-sanitize.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

# run_tool LOG CMD...: runs CMD, stores stderr+stdout in LOG, sets RC; flags sanitizer reports.
run_tool() {
  local log=$1
  shift
  timeout 900 "$@" >"$log" 2>&1
  RC=$?
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' "$log"; then
    fail "sanitizer report from: $*"
    sed -n '1,40p' "$log"
    return 1
  fi
  return 0
}

# --- Conformance models -------------------------------------------------------------------------
NMODELS=0
while IFS= read -r model; do
  base=${model%.cvimodel}
  name=$(basename "$base")
  stem=$(basename "$(dirname "$model")")
  input=$(dirname "$model")/${stem}_in_f32.npz
  [[ -f "$input" ]] || { fail "$name: no input $input"; continue; }
  NMODELS=$((NMODELS + 1))
  out=$WORK/$name.out.npz
  run_tool "$WORK/$name.run.log" "$RUNNER" --input "$input" --model "$model" --output "$out" \
    --dump-all-tensors || continue
  if [[ $RC -ne 0 ]]; then
    fail "$name: model_runner exit $RC"
    tail -5 "$WORK/$name.run.log"
    continue
  fi
  ref=${base}_runner_out.npz
  if [[ -f "$ref" ]]; then
    if "$PYTHON" - "$out" "$ref" <<'PY'; then
import sys
import numpy as np
got, ref = np.load(sys.argv[1]), np.load(sys.argv[2])
bad = [k for k in ref.files if k not in got.files or got[k].dtype != ref[k].dtype
       or got[k].shape != ref[k].shape or got[k].tobytes() != ref[k].tobytes()]
if bad:
    print("mismatch:", bad)
sys.exit(1 if bad else 0)
PY
      echo "ok   $name (bit-exact vs runner_out)"
    else
      fail "$name: output differs from $(basename "$ref")"
    fi
  else
    echo "ok   $name (ran clean; no runner_out reference)"
  fi
  run_tool "$WORK/$name.dump.log" "$CVIMODEL" --dump-cmdbuf "$model" || continue
  [[ $RC -eq 0 ]] || fail "$name: cvimodel --dump-cmdbuf exit $RC"
done < <(find "$CONF_DIR" -maxdepth 2 \( -name '*_cv183x_int8.cvimodel' -o -name '*_cv183x_bf16.cvimodel' \) | sort)

# --- Malformed inputs -----------------------------------------------------------------------------
SEED_MODEL=$(find "$CONF_DIR" -maxdepth 2 -name 'm01_conv_relu_cv183x_int8.cvimodel' | head -1)
SEED_INPUT=$(dirname "$SEED_MODEL")/m01_conv_relu_in_f32.npz
# mutate.py SRC DST KIND SEED: writes a malformed copy of SRC. Kinds: truncate, flip, flip-md5,
# magic, random (seeded byte mutations of header + FlatBuffer, md5 fixed up so parsing is reached).
cat >"$WORK/mutate.py" <<'PY'
import hashlib
import random
import struct
import sys

src, dst, kind, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
data = bytearray(open(src, "rb").read())
rng = random.Random(seed)
body_size = struct.unpack_from("<I", data, 8)[0]
meta_end = min(len(data), 48 + body_size)


def fix_md5(buf: bytearray) -> None:
    buf[14:30] = hashlib.md5(bytes(buf[48:])).digest()


if kind == "truncate":
    data = data[: rng.randrange(1, len(data))]
elif kind in ("flip", "flip-md5"):
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(48, meta_end)] ^= 1 << rng.randrange(8)
    if kind == "flip-md5":
        fix_md5(data)
elif kind == "magic":
    data[0:8] = b"CviMode1"
elif kind == "random":
    for _ in range(rng.randint(1, 16)):
        op = rng.random()
        pos = rng.randrange(8, meta_end)
        if op < 0.5:
            data[pos] = rng.randrange(256)
        elif op < 0.8:
            struct.pack_into("<I", data, pos - pos % 4, rng.choice([0, 1, 0x7FFFFFFF, 0xFFFFFFFF,
                                                                   rng.getrandbits(32)]))
        else:
            data[pos] ^= 0xFF
    fix_md5(data)
open(dst, "wb").write(bytes(data))
PY

# check_malformed KIND SEED MUST_REJECT
NMAL=0
check_malformed() {
  local kind=$1 seed=$2 must_reject=$3 bad=$WORK/bad.cvimodel
  "$PYTHON" "$WORK/mutate.py" "$SEED_MODEL" "$bad" "$kind" "$seed" || { fail "mutate $kind"; return; }
  NMAL=$((NMAL + 1))
  local tool
  for tool in runner dump; do
    if [[ $tool == runner ]]; then
      run_tool "$WORK/mal.log" "$RUNNER" --input "$SEED_INPUT" --model "$bad" --output "$WORK/mal.npz" ||
        { cp "$bad" "$WORK/../tpuc-sanitize-$kind-$seed.cvimodel"; continue; }
    else
      run_tool "$WORK/mal.log" "$CVIMODEL" --dump-cmdbuf "$bad" ||
        { cp "$bad" "$WORK/../tpuc-sanitize-$kind-$seed.cvimodel"; continue; }
    fi
    if [[ $RC -ge 124 ]]; then
      fail "$kind/$seed ($tool): crashed or timed out (exit $RC)"
      cp "$bad" "$WORK/../tpuc-sanitize-$kind-$seed.cvimodel"
    elif [[ $RC -ne 0 && ! -s "$WORK/mal.log" ]]; then
      fail "$kind/$seed ($tool): exit $RC without a message"
    elif [[ $RC -eq 0 && $must_reject == 1 ]]; then
      fail "$kind/$seed ($tool): malformed file accepted"
    fi
  done
}

for s in 1 2 3 4 5; do check_malformed truncate "$s" 1; done
for s in 1 2 3 4 5; do check_malformed flip "$s" 1; done
for s in 1 2 3 4 5; do check_malformed flip-md5 "$s" 0; done
check_malformed magic 0 1
for ((s = 1; s <= MUTATIONS; s++)); do check_malformed random "$s" 0; done

echo "models: $NMODELS, malformed inputs: $NMAL (incl. $MUTATIONS random mutations), failures: $FAILS"
[[ $FAILS -eq 0 ]]
