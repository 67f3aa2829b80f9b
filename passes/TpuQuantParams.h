//===- TpuQuantParams.h - INT8 quantization parameters ----------*- C++ -*-===//
//
// The arithmetic of --tpu-quant: turning real rescale factors into the integer (multiplier,
// rshift) pairs the CV183x applies (cv183x-isa.md §5), quantizing weights and generating int8
// lookup tables. docs/quantization.md states every formula.
//
//===----------------------------------------------------------------------===//
#ifndef TPUC_PASSES_TPUQUANTPARAMS_H
#define TPUC_PASSES_TPUQUANTPARAMS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace mlir {
class Operation;
} // namespace mlir

namespace tpuc::quant {

/// True for the layers --tpu-quant gives their input's threshold (docs/quantization.md
/// "pool_max_2d, relu, reshape, ..."): their int8 values are moved or compared as they are.
/// --import-calibration-table propagates threshold_overwrite through the same layers.
bool keepsInputThreshold(mlir::Operation *op);

/// A 32-bit QDM multiplier and its right shift (§5.2): x * scale ~=
/// roundingRightShiftAway(srdhm(x, multiplier), rshift).
struct QdmScale {
  int64_t multiplier; ///< in [2^30, 2^31), or 0 for a zero scale
  unsigned rshift;    ///< 0..63
};

/// The QDM pair for `scale` in [0, 1): multiplier / 2^(31 + rshift) ~= scale with the multiplier
/// normalized to [2^30, 2^31). None for scale >= 1 (the hardware cannot scale up) or negative.
std::optional<QdmScale> qdmScaleFor(double scale);

/// The rescale factor of a QDM layer as the vendor toolchain computes it, in float32
/// arithmetic: float(a * b) / float(127 * c). Its QDM multiplier (qdmScaleFor) is then exact.
double float32QdmFactor(double a, double b, double c);

/// An int8 multiplier and right shift (§5.1, §5.5): x * scale ~= roundingRightShift(x * m, r).
struct Int8Scale {
  int64_t multiplier; ///< in [-127, 127]
  unsigned rshift;    ///< 0..31
};

/// The pair with the largest rshift in [0, 31] such that |scale| * 2^rshift <= maxMultiplier;
/// none when |scale| > maxMultiplier.
std::optional<Int8Scale> int8ScaleFor(double scale, int64_t maxMultiplier = 127);

/// The largest rshift in [0, 31] with maxAbs * 2^rshift <= maxMultiplier (31 when maxAbs is 0),
/// or none when maxAbs > maxMultiplier: one shift shared by several multipliers.
std::optional<unsigned> commonRshiftFor(double maxAbs, int64_t maxMultiplier = 127);

/// round-half-away(x) clamped to [lo, hi].
int64_t roundClamped(double x, int64_t lo, int64_t hi);

/// A filter quantized per output channel (or per tensor with one channel).
struct QuantizedFilter {
  std::vector<int8_t> values;
  std::vector<double> scales; ///< int8 = round(w * scales[channel])
  std::vector<float> maxAbs;  ///< max |w| of each channel
};

/// Quantizes `values` to int8 with one scale per channel (127 / max |w| of the channel, 0 for an
/// all-zero channel, whose int8 values are all 0); `channelOf(i)` is the channel of element i.
QuantizedFilter quantizeFilterPerChannel(llvm::ArrayRef<float> values, int64_t channels,
                                         llvm::function_ref<int64_t(int64_t)> channelOf);

/// Round half to even of a float32 value (the vendor toolchain's ROUNDING_HALF_TO_EVEN).
int64_t roundHalfEven(float x);

/// The weight quantization of a QDM layer as the vendor toolchain does it, from the layer's
/// (multiplier, rshift) rather than from max |w|: factor = float(thrIn / thrOut) *
/// 2^(31 + rshift) / multiplier (thresholds as float32, the product in double), then
/// sat8(round_half_even(float(w) * float(factor))) in float32. 0 for a zero multiplier.
int8_t quantizeWeightQdm(float w, double thrIn, double thrOut, int64_t multiplier, unsigned rshift);

/// The int32 bias of a QDM layer, as the vendor toolchain computes it: factor = float(127 /
/// thrOut) * 2^(31 + rshift) / multiplier, then round_half_even(float(b) * float(factor)) in
/// float32, clamped to int32. 0 for a zero multiplier.
int32_t quantizeBiasQdm(float b, double thrOut, int64_t multiplier, unsigned rshift);

/// Quantizes `values` to int8 with the single scale `scale`.
std::vector<int8_t> quantizeWithScale(llvm::ArrayRef<float> values, double scale);

/// A 256-entry int8 table: entry i is sat8(round(f(int8(i) * thrIn / 127) * 127 / thrOut)),
/// i.e. indexed by the input byte read as unsigned (§5.3). Non-finite results saturate by sign
/// (NaN gives 0).
std::vector<int8_t> makeInt8Table(double thrIn, double thrOut,
                                  llvm::function_ref<double(double)> f);

/// The 9-byte per-channel record of §5.2: int32 bias, uint32 multiplier, u8 rshift, little-endian.
void appendQdmChannelRecord(std::vector<uint8_t> &out, int32_t bias, uint32_t multiplier,
                            uint8_t rshift);

} // namespace tpuc::quant

#endif // TPUC_PASSES_TPUQUANTPARAMS_H
