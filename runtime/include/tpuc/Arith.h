//===- Arith.h - CV183x integer and bf16 arithmetic, bit-exact --*- C++ -*-===//
//
// Every arithmetic rule of the CV183x TPU data path, shared by the simulated engine and the
// compiler's INT8/BF16 interpreter. Header-only and dependency-free. References are to
// cv183x-isa.md; rules marked "probed" were established against the vendor's C-model simulator
// by tpuc's instruction-level conformance tests (test/runtime/test_instr_*.py).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace tpuc::arith {

//===----------------------------------------------------------------------===//
// Integer helpers
//===----------------------------------------------------------------------===//

/// Clamps to the range of a `bits`-wide signed or unsigned integer.
constexpr int64_t saturate(int64_t v, unsigned bits, bool isSigned) {
  int64_t lo = isSigned ? -(int64_t{1} << (bits - 1)) : 0;
  int64_t hi = isSigned ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1;
  return v < lo ? lo : (v > hi ? hi : v);
}
constexpr int32_t saturateInt8(int64_t v) { return static_cast<int32_t>(saturate(v, 8, true)); }
constexpr int32_t saturateUint8(int64_t v) { return static_cast<int32_t>(saturate(v, 8, false)); }
constexpr int32_t saturateInt16(int64_t v) { return static_cast<int32_t>(saturate(v, 16, true)); }
/// 8-bit result saturation: int8 if `isSigned`, else uint8.
constexpr int32_t saturate8(int64_t v, bool isSigned) {
  return static_cast<int32_t>(saturate(v, 8, isSigned));
}

/// Sign-extends the low `bits` bits of `v`.
constexpr int64_t signExtend(uint64_t v, unsigned bits) {
  uint64_t m = uint64_t{1} << (bits - 1);
  v &= (bits >= 64) ? ~uint64_t{0} : ((uint64_t{1} << bits) - 1);
  return static_cast<int64_t>((v ^ m) - m);
}

/// Rounding right shift, ties toward +infinity (§5.1): (x + 2^(r-1)) >> r, arithmetic; r = 0 is the
/// identity. This is the per-tensor requantisation shift of conv, mul, pooling and matmul.
constexpr int64_t roundingRightShift(int64_t x, unsigned r) {
  if (r == 0)
    return x;
  return (x + (int64_t{1} << (r - 1))) >> r;
}

/// Rounding right shift with ties away from zero (§5.2 step 3): sign(x) * ((|x| + 2^(r-1)) >> r).
constexpr int64_t roundingRightShiftAway(int64_t x, unsigned r) {
  if (r == 0)
    return x;
  int64_t half = int64_t{1} << (r - 1);
  return x >= 0 ? (x + half) >> r : -((-x + half) >> r);
}

/// Saturating rounding doubling high multiply (gemmlowp SRDHM, §5.2 step 2): the high 32 bits of
/// 2 * a * m with round-half-away, computed as (a * m + nudge) / 2^31 truncated toward zero.
constexpr int64_t srdhm(int64_t a, int64_t m) {
  if (a == INT32_MIN && m == INT32_MIN)
    return INT32_MAX;
  __int128 p = static_cast<__int128>(a) * m;
  __int128 nudge = p >= 0 ? (__int128{1} << 30) : (1 - (__int128{1} << 30));
  __int128 t = (p + nudge) / (__int128{1} << 31);
  return static_cast<int64_t>(t);
}

/// Per-tensor post-processing (opt_chl_quan = 0, §5.1): rounding shift, optional ReLU, saturation
/// to an 8-bit result.
constexpr int32_t requantPerTensor(int64_t acc, unsigned rshift, bool relu, bool signedOut) {
  int64_t y = roundingRightShift(acc, rshift);
  if (relu && y < 0)
    y = 0;
  return saturate8(y, signedOut);
}

/// Per-channel / 32-bit-multiplier post-processing ("QDM", §5.2): SRDHM by `multiplier`, rounding
/// shift with ties away from zero, optional ReLU, saturation to an 8-bit result. The 32-bit
/// multiplier field is used as a two's-complement int32 (probed with values >= 2^31); shifts above
/// 31 are outside the documented range.
constexpr int32_t requantQdm(int64_t acc, int64_t multiplier, unsigned rshift, bool relu,
                             bool signedOut) {
  int64_t y = roundingRightShiftAway(srdhm(acc, multiplier), rshift);
  if (relu && y < 0)
    y = 0;
  return saturate8(y, signedOut);
}

/// Per-channel parameter record of QDM convolution / depthwise (§5.2): 9 bytes per channel.
struct QdmChannelParams {
  int32_t bias;
  uint32_t multiplier;
  uint8_t rshift;
};
inline QdmChannelParams readQdmChannelParams(const uint8_t *p) {
  QdmChannelParams q;
  q.bias = static_cast<int32_t>(p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24);
  q.multiplier = p[4] | p[5] << 8 | p[6] << 16 | static_cast<uint32_t>(p[7]) << 24;
  q.rshift = p[8];
  return q;
}

/// Index into a 256-entry int8 lookup table (§5.3): the input byte taken as unsigned.
constexpr uint8_t lutIndexInt8(int32_t x) { return static_cast<uint8_t>(x); }

/// Index into a 256-entry bf16 lookup table (tsk_eu_typ 12, probed): the low byte of the input's
/// bf16 pattern (after a "move LUT index" TDMA copy, see bf16LutIndexPattern, both bytes hold
/// the exponent index).
constexpr uint8_t lutIndexBf16(uint16_t pattern) { return static_cast<uint8_t>(pattern); }

//===----------------------------------------------------------------------===//
// bf16
//===----------------------------------------------------------------------===//

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// bf16 pattern -> fp32 (exact).
inline float bf16ToFloat(uint16_t b) { return bitsToFloat(static_cast<uint32_t>(b) << 16); }

/// fp32 -> bf16 with round-to-nearest-even; NaN becomes the quiet NaN 0x7FC0.
inline uint16_t floatToBf16(float f) {
  uint32_t u = floatBits(f);
  if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu))
    return 0x7FC0;
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

/// fp32 -> bf16 by truncation (dropping the low 16 bits).
inline uint16_t floatToBf16Trunc(float f) { return static_cast<uint16_t>(floatBits(f) >> 16); }

/// bf16 operand as the TIU's bf16 data path reads it (probed): zero exponents (zeros and
/// denormals, either sign) read as +0, all-ones exponents (infinities and NaNs) read as NaN.
inline float bf16ToFloatTiu(uint16_t b) {
  uint16_t e = b & 0x7F80;
  if (e == 0)
    return 0.0f;
  if (e == 0x7F80)
    return bitsToFloat(0x7FC00000u);
  return bf16ToFloat(b);
}

/// Largest finite bf16 (0x7F7F), which the TIU writes for any NaN or infinite result.
inline constexpr uint16_t kBf16MaxFinite = 0x7F7F;

/// fp32 result -> bf16 as the TIU's bf16 data path writes it (probed): round to nearest even;
/// NaN or infinite results become +max finite (0x7F7F), results with a zero exponent become +0.
inline uint16_t floatToBf16Tiu(float f) {
  if (std::isnan(f))
    return kBf16MaxFinite;
  uint16_t r = floatToBf16(f);
  uint16_t e = r & 0x7F80;
  if (e == 0x7F80)
    return kBf16MaxFinite;
  if (e == 0)
    return 0;
  return r;
}

/// p + c rounded to fp32 toward zero, for p and c exact in fp64 (TwoSum keeps the exact error, so
/// a tiny c still moves the result off an exact value).
inline float addFp32TowardZero(double p, double c) {
  double s = p + c;
  double bp = s - p;
  double err = (p - (s - bp)) + (c - bp); // s + err == p + c exactly
  float f = static_cast<float>(s);
  if (std::isinf(f) || std::isnan(f) || f == 0.0f)
    return f == 0.0f ? static_cast<float>(s + err) : f;
  double over = (static_cast<double>(f) - s) - err; // f - (p + c)
  if ((f > 0 && over > 0) || (f < 0 && over < 0))
    f = std::nextafter(f, 0.0f);
  return f;
}

/// Product of two bf16 operands in the TIU's multipliers: exact in fp32 except that results below
/// the smallest normal fp32 flush to +0 (probed).
inline float mulFp32Ftz(float a, float b) {
  float p = a * b;
  return std::fabs(p) < 1.17549435e-38f ? 0.0f : p;
}

/// a + b in fp32 rounded toward zero: the accumulator of the TIU's bf16 data path (probed on
/// convolution, depthwise, pooling and matrix sums).
inline float addFp32Rz(float a, float b) {
  return addFp32TowardZero(static_cast<double>(a), static_cast<double>(b));
}

/// bf16 multiply-accumulate of the TIU (tsk_eu_typ 1, probed on ties): the product a * b
/// (mulFp32Ftz) plus the accumulator c (read with denormals kept), summed in fp32 rounding toward
/// zero, then written like every bf16 result (floatToBf16Tiu).
inline uint16_t bf16MacTiu(float a, float b, uint16_t acc) {
  if ((acc & 0x7F80) == 0x7F80 || std::isnan(a) || std::isnan(b))
    return kBf16MaxFinite;
  return floatToBf16Tiu(addFp32TowardZero(mulFp32Ftz(a, b), bf16ToFloat(acc)));
}

/// TDMA local-to-local "move LUT index" (mv_lut_idx, probed): for v >= 0 the byte
/// b = 63 + floor(log2(v)) (mod 256; 0 for v = 0, 63 for +inf) replicated into both bytes of the
/// bf16 pattern, so a bf16 lookup (indexed by the low byte) selects by binary exponent. Returns
/// false for negative or NaN inputs, which the data path does not accept.
inline bool bf16LutIndexPattern(uint16_t in, uint16_t &out) {
  float v = bf16ToFloat(in);
  if (std::isnan(v) || v < 0)
    return false;
  uint8_t b;
  if (v == 0)
    b = 0;
  else if (std::isinf(v))
    b = 63;
  else
    b = static_cast<uint8_t>(63 + static_cast<int>(std::floor(std::log2(v))));
  out = static_cast<uint16_t>(b << 8 | b);
  return true;
}

/// TDMA local-to-local "move LUT base" (mv_lut_base, probed): keeps sign and exponent,
/// i.e. sign(v) * 2^floor(log2|v|) for normal numbers.
constexpr uint16_t bf16ExponentBase(uint16_t in) { return in & 0xFF80; }

/// int8 / uint8 -> bf16 (exact: every 8-bit integer is representable).
inline uint16_t int8ToBf16(int32_t v) { return floatToBf16(static_cast<float>(v)); }

/// int8 / uint8 -> fp32 (exact).
inline float int8ToFloat(int32_t v) { return static_cast<float>(v); }

/// fp32 -> int8 of the CPU "quant" routine (§5.6) that feeds a model's fp32 input to the TPU:
/// saturate(round_half_away(x * scale)) with the product rounded to fp32; NaN gives 0.
inline int32_t quantizeFp32ToInt8(float x, float scale) {
  float scaled = std::round(x * scale);
  if (std::isnan(scaled))
    return 0;
  scaled = scaled < -1e9f ? -1e9f : (scaled > 1e9f ? 1e9f : scaled);
  return saturateInt8(static_cast<int64_t>(scaled));
}

/// int8 -> fp32 output cast of the TPU (the vendor's tpu.Cast int8 -> f32 at a model output,
/// checked bit-exact against the vendor's cvimodels): the TPU has no fp32 ALU, so the dequant step
/// `step` (threshold / 127) is rounded to bf16, the product q * step (exact in fp32: 8 x 8
/// significant bits) is rounded to bf16 again (nearest even), and widened to fp32.
inline float dequantInt8Bf16(int32_t q, float step) {
  float s = bf16ToFloat(floatToBf16(step));
  return bf16ToFloat(floatToBf16(static_cast<float>(q) * s));
}

/// Rounding of bf16 -> 8-bit conversions (TDMA int8_rnd_mode, §5.6).
enum class Bf16ToIntRound : uint8_t { NearestEven = 0, TowardZero = 1 };

/// bf16 -> int8/uint8 (TDMA format conversion, §5.6; probed over all 65536 patterns): round with
/// `mode`, then saturate. Quirks of the data path: magnitudes >= 2^64 (including infinities)
/// convert to 0, and a NaN saturates toward its sign bit (positive NaN -> max, negative -> min).
inline int32_t bf16ToInt8(uint16_t b, bool isSigned, Bf16ToIntRound mode) {
  float f = bf16ToFloat(b);
  int64_t lo = isSigned ? -128 : 0, hi = isSigned ? 127 : 255;
  if (std::isnan(f))
    return static_cast<int32_t>((b & 0x8000) ? lo : hi);
  if (std::fabs(f) >= 18446744073709551616.0f)
    return 0;
  float r = mode == Bf16ToIntRound::TowardZero ? std::trunc(f) : std::nearbyint(f);
  r = r < -1e9f ? -1e9f : (r > 1e9f ? 1e9f : r);
  return static_cast<int32_t>(saturate(static_cast<int64_t>(r), 8, isSigned));
}

} // namespace tpuc::arith
