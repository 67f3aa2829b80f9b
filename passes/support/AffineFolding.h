//===- AffineFolding.h - folding per-channel affine maps into weights -*- C++ -*-===//
//
// Batch normalization and tpu.scale are per-channel affine maps y = x * scale[c] + bias[c]; these
// helpers compute them from batch-norm statistics and fold them into convolution weights. All
// arithmetic is done in double and rounded to float once.
//
//===----------------------------------------------------------------------===//
#ifndef TPUC_PASSES_SUPPORT_AFFINEFOLDING_H
#define TPUC_PASSES_SUPPORT_AFFINEFOLDING_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace tpuc {

/// A per-channel affine map y = x * scale[c] + bias[c].
struct ChannelAffine {
  std::vector<float> scale;
  std::vector<float> bias;
};

/// The affine form of (x - mean) / sqrt(variance + epsilon) * gamma + beta. All inputs have one
/// element per channel; an error names the first channel with variance + epsilon <= 0.
llvm::Expected<ChannelAffine> batchNormToAffine(llvm::ArrayRef<float> mean,
                                                llvm::ArrayRef<float> variance,
                                                llvm::ArrayRef<float> gamma,
                                                llvm::ArrayRef<float> beta, double epsilon);

/// Folds `affine` applied after a layer with output channels along the filter's first dimension
/// (conv_2d's OIHW filter): filter[o, ...] *= scale[o], bias[o] = bias[o] * scale[o] + shift[o].
/// `bias` may be empty (no bias: zero); it is returned with one element per channel.
void foldAffineIntoFilter(std::vector<float> &filter, std::vector<float> &bias,
                          const ChannelAffine &affine);

} // namespace tpuc

#endif // TPUC_PASSES_SUPPORT_AFFINEFOLDING_H
