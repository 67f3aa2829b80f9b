// LeakyRelu as a TPU custom op: y = x for x >= 0, slope * x otherwise.
//   param: negative_slope (float). quantizeInt8 adds rshift_pos, m_i8_pos (only when the input
//   and output thresholds differ), rshift_neg, m_i8_neg (int8).
#include "LeakyReluOp.h"

#include "tpuc/Arith.h"
#include "tpuc/kernel/Context.h"

#include <algorithm>
#include <cmath>

namespace cvi {

void LeakyReluOp::interpretFp32(std::vector<std::shared_ptr<std::vector<float>>> &operand_tensors,
                                std::vector<std::vector<int64_t>> &operand_shapes,
                                std::shared_ptr<std::vector<float>> &result_tensor,
                                std::vector<int64_t> &result_shape) {
  float slope = param.get<float>("negative_slope");
  const std::vector<float> &x = *operand_tensors[0];
  std::vector<float> &y = *result_tensor;
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = x[i] >= 0 ? x[i] : slope * x[i];
}

// One side's (multiplier, rshift) as the int8 kernel applies it: y = sat8(round(x * m >> r)).
static int8_t scaleInt8(float x, int m, int rshift) {
  int64_t product = int64_t(x) * m;
  return int8_t(tpuc::arith::saturateInt8(tpuc::arith::roundingRightShift(product, rshift)));
}

void LeakyReluOp::interpretInt8(std::vector<std::shared_ptr<std::vector<float>>> &operand_tensors,
                                std::vector<std::vector<int64_t>> &operand_shapes,
                                std::shared_ptr<std::vector<float>> &result_tensor,
                                std::vector<int64_t> &result_shape) {
  // Without a positive scale the positive side is the identity (m = 1, rshift = 0).
  int posM = param.has("m_i8_pos") ? param.get<int8_t>("m_i8_pos") : 1;
  int posR = param.has("rshift_pos") ? param.get<int8_t>("rshift_pos") : 0;
  int negM = param.get<int8_t>("m_i8_neg");
  int negR = param.get<int8_t>("rshift_neg");
  const std::vector<float> &x = *operand_tensors[0];
  std::vector<float> &y = *result_tensor;
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = x[i] > 0 ? scaleInt8(x[i], posM, posR) : scaleInt8(x[i], negM, negR);
}

// The smallest rshift with qscale * 2^(rshift + 1) >= 127, and m = qscale * 2^rshift
// (truncated): m lies in [63, 127].
static bool findRshiftAndMultiplier(double qscale, int &rshift, int &multiplier) {
  for (rshift = 0; rshift < 32; ++rshift)
    if (qscale * std::ldexp(1.0, rshift + 1) >= 127.0)
      break;
  multiplier = int(qscale * std::ldexp(1.0, rshift));
  return rshift < 32 && multiplier <= 127;
}

void LeakyReluOp::quantizeInt8() {
  setOpQuantPerchannel(false);
  setOpQuantParamType("RSHIFT_AND_M_I8");
  float slope = param.get<float>("negative_slope");
  double thresholdX = getPrevOpThreshold(), thresholdY = getOpThreshold();
  double qscalePos = thresholdX / thresholdY;
  int rshift = 0, multiplier = 0;
  if (std::fabs(thresholdX - thresholdY) >= 1e-5 * std::min(thresholdX, thresholdY)) {
    if (!findRshiftAndMultiplier(qscalePos, rshift, multiplier))
      return reportError("positive scale " + std::to_string(qscalePos) + " exceeds 127");
    param.put<int8_t>("rshift_pos", int8_t(rshift));
    param.put<int8_t>("m_i8_pos", int8_t(multiplier));
  }
  double qscaleNeg = std::fabs(qscalePos * slope);
  if (!findRshiftAndMultiplier(qscaleNeg, rshift, multiplier))
    return reportError("negative scale " + std::to_string(qscaleNeg) + " exceeds 127");
  param.put<int8_t>("rshift_neg", int8_t(rshift));
  param.put<int8_t>("m_i8_neg", int8_t(multiplier));
}

// The flat tensor in tiles of (n, lanes, 1, EUs) int8 values (n up to 32) plus one (1, 1, 1,
// rest) tile: load, positive part max(x, 0) * m_pos >> r_pos, negative part min(x, 0) * m_neg >>
// r_neg, combine (one of the two is 0: bitwise or), store.
void LeakyReluOp::codeGenInt8(void *ctx, std::vector<std::vector<int64_t>> &operand_shapes,
                              std::vector<uint64_t> &operand_gaddrs,
                              std::vector<int64_t> &result_shape, uint64_t result_gaddr,
                              int layer_id) {
  using namespace tpuc::kernel;
  Context &k = kernelContext(ctx);
  int posM = param.has("m_i8_pos") ? param.get<int8_t>("m_i8_pos") : 1;
  int posR = param.has("rshift_pos") ? param.get<int8_t>("rshift_pos") : 0;
  int negM = param.get<int8_t>("m_i8_neg");
  int negR = param.get<int8_t>("rshift_neg");
  uint64_t count = 1;
  for (int64_t d : operand_shapes[0])
    count *= uint64_t(d);
  GlobalAddr in = GlobalAddr::fromGaddr(operand_gaddrs[0]);
  GlobalAddr out = GlobalAddr::fromGaddr(result_gaddr);
  k.setLayerId(uint32_t(layer_id));

  const uint32_t lanes = k.lanes(), eus = k.eusPerLane(), maxN = 32;
  const Shape full{maxN, lanes, 1, eus};
  LocalTensor x = k.allocTensor(full, DType::Int8);
  LocalTensor pos = k.allocTensor(full, DType::Int8);
  LocalTensor neg = k.allocTensor(full, DType::Int8);
  auto view = [&](const LocalTensor &t, const Shape &s) {
    return k.reinterpret(t, s, k.defaultStrides(s, DType::Int8), DType::Int8);
  };
  for (uint64_t done = 0; done < count && k.ok();) {
    uint64_t rest = count - done, row = uint64_t(lanes) * eus;
    Shape s = rest >= row ? Shape{uint32_t(std::min<uint64_t>(maxN, rest / row)), lanes, 1, eus}
                          : Shape{1, 1, 1, uint32_t(rest)};
    LocalTensor xs = view(x, s), ps = view(pos, s), ns = view(neg, s);
    k.load(xs, GlobalTensor::dense(in + done, s, DType::Int8));
    k.max(ps, xs, Operand::scalar(0));
    k.mul(ps, ps, Operand::scalar(posM), uint32_t(posR));
    k.min(ns, xs, Operand::scalar(0));
    k.mul(ns, ns, Operand::scalar(negM), uint32_t(negR));
    k.bitOr(ps, ps, ns);
    k.store(GlobalTensor::dense(out + done, s, DType::Int8), ps);
    done += s.count();
  }
  k.free(neg);
  k.free(pos);
  k.free(x);
}

RegisterCustomOp(leaky_relu, LeakyReluOp);

} // namespace cvi
