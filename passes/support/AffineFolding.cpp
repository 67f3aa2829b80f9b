//===- AffineFolding.cpp - folding per-channel affine maps into weights ---===//
#include "passes/support/AffineFolding.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

namespace tpuc {

llvm::Expected<ChannelAffine> batchNormToAffine(llvm::ArrayRef<float> mean,
                                                llvm::ArrayRef<float> variance,
                                                llvm::ArrayRef<float> gamma,
                                                llvm::ArrayRef<float> beta, double epsilon) {
  size_t channels = mean.size();
  if (variance.size() != channels || gamma.size() != channels || beta.size() != channels)
    return llvm::createStringError("mean, variance, scale and bias must have one element per "
                                   "channel");
  ChannelAffine affine{std::vector<float>(channels), std::vector<float>(channels)};
  for (size_t c = 0; c < channels; ++c) {
    double denominator = static_cast<double>(variance[c]) + epsilon;
    if (!(denominator > 0.0)) {
      std::string message;
      llvm::raw_string_ostream(message)
          << "channel " << c << " has variance + epsilon = " << llvm::format("%g", denominator)
          << " (must be > 0)";
      return llvm::createStringError(message);
    }
    double scale = gamma[c] / std::sqrt(denominator);
    affine.scale[c] = static_cast<float>(scale);
    affine.bias[c] = static_cast<float>(beta[c] - mean[c] * scale);
  }
  return affine;
}

void foldAffineIntoFilter(std::vector<float> &filter, std::vector<float> &bias,
                          const ChannelAffine &affine) {
  size_t channels = affine.scale.size();
  size_t perChannel = channels ? filter.size() / channels : 0;
  for (size_t o = 0; o < channels; ++o) {
    double scale = affine.scale[o];
    for (size_t i = o * perChannel; i < (o + 1) * perChannel; ++i)
      filter[i] = static_cast<float>(filter[i] * scale);
  }
  if (bias.empty())
    bias.assign(channels, 0.0f);
  for (size_t o = 0; o < channels; ++o)
    bias[o] = static_cast<float>(bias[o] * static_cast<double>(affine.scale[o]) + affine.bias[o]);
}

} // namespace tpuc
