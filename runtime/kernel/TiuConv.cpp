//===- TiuConv.cpp - convolution and depthwise convolution ----------------===//
//
// cv183x-isa.md §2.4 "Conv, per-tensor", "Conv, per-channel" and "Depthwise"; quantisation §5.1 and
// §5.2; partial sums §5.4.
//
//===----------------------------------------------------------------------===//
#include "Window.h"

namespace tpuc::kernel {

namespace {

bool is8(DType t) { return t == DType::Int8 || t == DType::Uint8; }

/// Quantisation operand (opd2) of conv and depthwise: nothing, an int16 bias, or per-channel
/// records.
struct Quant {
  const LocalTensor *bias = nullptr;
  const LocalTensor *params = nullptr;
  bool paramsHaveBias = false;
};

bool checkQuant(Context::Impl &impl, const char *op, const LocalTensor &bias,
                const LocalTensor &params, const LocalTensor &res, uint32_t oc, uint32_t rshift,
                bool &relu, PartialSum psum, Quant &q) {
  if (bias.valid() && params.valid())
    return impl.fail(op, "give either a per-tensor bias or per-channel parameters, not both");
  if (bias.valid()) {
    if (!impl.checkLocal(op, "bias", bias) || !impl.checkShortAddr(op, "bias", bias, res))
      return false;
    if (bias.dtype != DType::Int16 || !(bias.shape == Shape{1, oc, 1, 1}) || bias.stride.c != 1)
      return impl.fail(op, "bias must be the int16 tensor (1, " + std::to_string(oc) +
                               ", 1, 1) of allocConvBias");
    q.bias = &bias;
  }
  if (params.valid()) {
    if (!impl.checkLocal(op, "channel parameters", params) ||
        !impl.checkShortAddr(op, "channel parameters", params, res) ||
        !impl.checkAligned16(op, "channel parameters", params))
      return false;
    uint32_t rec = params.shape.w;
    if (!is8(params.dtype) || (rec != 9 && rec != 5) || params.shape.n != 1 ||
        params.shape.c != oc || params.shape.h != 1 || params.stride.c != rec)
      return impl.fail(op, "channel parameters must be the (1, " + std::to_string(oc) +
                               ", 1, 9 or 5) tensor of allocChannelParams");
    if (rshift != 0)
      return impl.fail(op, "per-channel quantisation takes its shifts from the records; "
                           "rshift must be 0");
    q.params = &params;
    q.paramsHaveBias = rec == 9;
  }
  if (rshift > 31)
    return impl.fail(op, "rshift " + std::to_string(rshift) + " is out of range (0..31)");
  if (psum == PartialSum::Write || psum == PartialSum::Accumulate) {
    if (q.bias || (q.params) || relu || rshift)
      return impl.fail(op, "a partial-sum write takes no bias, per-channel parameters, ReLU or "
                           "shift (they apply in the final pass)");
  }
  return true;
}

/// The result is signed exactly when an operand (ifmap, weight, bias) is; ReLU needs a signed
/// result (both are asserted by the vendor simulator).
bool checkResult(Context::Impl &impl, const char *op, const LocalTensor &ofmap, bool operandSigned,
                 bool relu, PartialSum psum) {
  if (psum != PartialSum::None && psum != PartialSum::Final)
    return true; // raw 32-bit partial sums
  if (isSigned(ofmap.dtype) != operandSigned)
    return impl.fail(op, std::string("the ofmap must be ") +
                             (operandSigned ? "signed (int8) because an operand is signed"
                                            : "unsigned (uint8) because every operand is"));
  if (relu && ofmap.dtype != DType::Int8)
    return impl.fail(op, "ReLU needs a signed 8-bit ofmap");
  return true;
}

void setQuant(TiuBuilder &b, const Quant &q, uint32_t oc) {
  if (q.bias) {
    b.set(TiuField::tsk_opd_num, 3).set(TiuField::opt_opd2_int8, 0);
    b.set(TiuField::opd2_addr, q.bias->addr & 0xFFFF);
    b.shape(kOpd2, {1, oc, 1, 1}).set(TiuField::short_opd2_str, 2);
    b.set(TiuField::opd2_b_str, q.bias->planeStride).set(TiuField::opt_opd2_sign, 1);
  } else if (q.params) {
    b.set(TiuField::opt_chl_quan, 1).set(TiuField::opt_right_shift, 0);
    b.set(TiuField::opd2_addr, q.params->addr & 0xFFFF);
    b.shape(kOpd2, {1, oc, 1, 1});
    b.set(TiuField::opt_opd2_int8, 1).set(TiuField::short_opd2_str, 2);
    b.set(TiuField::opd2_b_str, 0);
    b.set(TiuField::tsk_opd_num, q.paramsHaveBias ? 3 : 2);
    if (q.paramsHaveBias)
      b.set(TiuField::opt_opd2_sign, 1);
  } else {
    b.set(TiuField::tsk_opd_num, 2);
  }
}

/// Batch of the result: with partial sums the result tensor holds 4 byte planes of N batches.
bool resultBatch(Context::Impl &impl, const char *op, const LocalTensor &ofmap, uint32_t inN,
                 PartialSum psum, uint32_t &n) {
  if (psum == PartialSum::None) {
    n = ofmap.shape.n;
    if (n != inN)
      return impl.fail(op, "ofmap batch " + std::to_string(n) + " differs from ifmap batch " +
                               std::to_string(inN));
    return true;
  }
  if (ofmap.shape.n != 4 * inN || ofmap.dtype != DType::Int8)
    return impl.fail(op, "with partial sums the ofmap is the int8 buffer of allocPartialSum "
                         "(batch 4 x " +
                             std::to_string(inN) + ")");
  n = inN;
  return true;
}

} // namespace

void Context::conv(const ConvParams &p) {
  const char *op = "conv";
  Impl &m = *impl;
  if (!m.checkLocal(op, "ifmap", p.ifmap) || !m.checkLocal(op, "ofmap", p.ofmap) ||
      !m.checkLocal(op, "weight", p.weight))
    return;
  if (!is8(p.ifmap.dtype) || !is8(p.ofmap.dtype) || !is8(p.weight.dtype)) {
    m.fail(op, std::string("unsupported types (ifmap ") + dtypeName(p.ifmap.dtype) + ", weight " +
                   dtypeName(p.weight.dtype) + ", ofmap " + dtypeName(p.ofmap.dtype) +
                   "); int8/uint8 convolution only");
    return;
  }
  Window win{p.kh,        p.kw,      p.strideH,  p.strideW, p.dilationH, p.dilationW, p.padTop,
             p.padBottom, p.padLeft, p.padRight, p.insH,    p.insW,      p.insLastH,  p.insLastW};
  if (!win.check(m, op) || !m.checkTiuShape(op, "ifmap", p.ifmap.shape) ||
      !m.checkTiuShape(op, "ofmap", p.ofmap.shape))
    return;
  if (!m.checkAligned16(op, "ifmap", p.ifmap) || !m.checkAligned16(op, "ofmap", p.ofmap) ||
      !m.checkDefaultLayout(op, "ifmap", p.ifmap))
    return;
  if (p.ofmap.stride.n % m.chip.eusPerLane != 0) {
    m.fail(op, "ofmap n stride " + std::to_string(p.ofmap.stride.n) + " must be a multiple of 16");
    return;
  }
  uint32_t ic = p.ifmap.shape.c, oc = p.ofmap.shape.c, n = 0;
  if (!resultBatch(m, op, p.ofmap, p.ifmap.shape.n, p.psum, n))
    return;
  Shape out{n, oc, p.ofmap.shape.h, p.ofmap.shape.w};
  if (!win.checkOutput(m, op, p.ifmap.shape, out))
    return;
  uint64_t k = uint64_t{p.kh} * p.kw * ic;
  if (!(p.weight.shape == Shape{1, oc, 1, static_cast<uint32_t>(k)}) || p.weight.stride.c != k ||
      p.weight.stride.w != 1) {
    m.fail(op, "weight must be the (1, " + std::to_string(oc) + ", 1, " + std::to_string(k) +
                   ") tensor of allocConvWeight(ic=" + std::to_string(ic) +
                   ", oc=" + std::to_string(oc) + ", kh=" + std::to_string(p.kh) +
                   ", kw=" + std::to_string(p.kw) + ")");
    return;
  }
  if (!m.checkShortAddr(op, "weight", p.weight, p.ofmap))
    return;
  if (p.padValue < -128 || p.padValue > 255) {
    m.fail(op, "pad value " + std::to_string(p.padValue) + " is not an 8-bit value");
    return;
  }
  bool relu = p.relu;
  Quant q;
  if (!checkQuant(m, op, p.bias, p.channelParams, p.ofmap, oc, p.rshift, relu, p.psum, q))
    return;
  bool biasSigned = q.bias || q.paramsHaveBias;
  if (!checkResult(m, op, p.ofmap,
                   isSigned(p.ifmap.dtype) || isSigned(p.weight.dtype) || biasSigned, relu, p.psum))
    return;

  TiuBuilder b(m, op);
  b.set(TiuField::tsk_typ, 0);
  bool anySigned = isSigned(p.ifmap.dtype) || isSigned(p.weight.dtype) ||
                   (q.bias != nullptr && q.params == nullptr);
  b.set(TiuField::opt_shift_typ, anySigned ? 1 : 0);
  bool final = p.psum == PartialSum::None || p.psum == PartialSum::Final;
  b.set(TiuField::opt_right_shift, final ? p.rshift : 0);
  b.set(TiuField::opt_relu, relu ? 1 : 0);
  bool dbl = (p.ifmap.addr % 2 == 0) && ic % 2 == 0 && ic >= 4 && (p.weight.addr % 2 == 0);
  b.set(TiuField::double_conv, dbl ? 1 : 0);
  LocalTensor res = p.ofmap;
  res.shape = out;
  b.operand(kRes0, res, StrideMode::Explicit);
  b.set(TiuField::ps32_md, static_cast<uint64_t>(p.psum));
  if (p.psum != PartialSum::None)
    b.set(TiuField::res0_b_str, uint64_t{n} * p.ofmap.stride.n);
  b.operand(kOpd0, p.ifmap, StrideMode::Default);
  b.set(TiuField::opd0_ins_val, static_cast<uint8_t>(p.padValue));
  b.set(TiuField::opd1_addr, p.weight.addr & 0xFFFF).set(TiuField::short_opd1_str, 1);
  b.set(TiuField::opd1_n, ic).set(TiuField::opd1_c, oc);
  b.set(TiuField::opt_opd1_sign, isSigned(p.weight.dtype) ? 1 : 0);
  win.setFields(b);
  setQuant(b, q, oc);
  Footprint fo = m.footprint(p.ofmap);
  Footprint fq = q.bias ? m.footprint(*q.bias) : (q.params ? m.footprint(*q.params) : Footprint{});
  bool readsPsum = p.psum == PartialSum::Final || p.psum == PartialSum::Accumulate;
  b.emit({m.footprint(p.ifmap), m.footprint(p.weight), fq, readsPsum ? fo : Footprint{}}, {fo});
}

void Context::depthwise(const DepthwiseParams &p) {
  const char *op = "depthwise";
  Impl &m = *impl;
  if (!m.checkLocal(op, "ifmap", p.ifmap) || !m.checkLocal(op, "ofmap", p.ofmap) ||
      !m.checkLocal(op, "weight", p.weight))
    return;
  if (!is8(p.ifmap.dtype) || !is8(p.ofmap.dtype) || !is8(p.weight.dtype)) {
    m.fail(op, "int8/uint8 depthwise convolution only");
    return;
  }
  Window win{p.kh,        p.kw,      p.strideH,  p.strideW, p.dilationH, p.dilationW, p.padTop,
             p.padBottom, p.padLeft, p.padRight, p.insH,    p.insW,      p.insLastH,  p.insLastW};
  if (!win.check(m, op) || !m.checkTiuShape(op, "ifmap", p.ifmap.shape) ||
      !m.checkTiuShape(op, "ofmap", p.ofmap.shape))
    return;
  uint32_t c = p.ifmap.shape.c;
  if (p.ofmap.shape.c != c || p.ofmap.shape.n != p.ifmap.shape.n) {
    m.fail(op, "ofmap " + shapeStr(p.ofmap.shape) + " must keep the batch and channels of ifmap " +
                   shapeStr(p.ifmap.shape));
    return;
  }
  if (!win.checkOutput(m, op, p.ifmap.shape, p.ofmap.shape))
    return;
  if (!(p.weight.shape == Shape{1, c, p.kh, p.kw})) {
    m.fail(op,
           "weight shape " + shapeStr(p.weight.shape) + " must be " + shapeStr({1, c, p.kh, p.kw}));
    return;
  }
  if (!m.checkDefaultLayout(op, "weight", p.weight) ||
      !m.checkShortAddr(op, "weight", p.weight, p.ofmap))
    return;
  if (p.padValue < -128 || p.padValue > 255) {
    m.fail(op, "pad value " + std::to_string(p.padValue) + " is not an 8-bit value");
    return;
  }
  bool relu = p.relu;
  Quant q;
  if (!checkQuant(m, op, p.bias, p.channelParams, p.ofmap, c, p.rshift, relu, PartialSum::None, q))
    return;
  if (p.weight.dtype != DType::Int8) {
    m.fail(op, "depthwise weights are signed (int8)");
    return;
  }
  if (!checkResult(m, op, p.ofmap, true, relu, PartialSum::None))
    return;

  TiuBuilder b(m, op);
  b.set(TiuField::tsk_typ, 1).set(TiuField::tsk_eu_typ, 2).set(TiuField::opt_shift_typ, 1);
  b.set(TiuField::opt_right_shift, p.rshift).set(TiuField::opt_relu, relu ? 1 : 0);
  b.operand(kRes0, p.ofmap, StrideMode::Explicit);
  b.operand(kOpd0, p.ifmap, StrideMode::Explicit);
  b.set(TiuField::opd0_ins_val, static_cast<uint8_t>(p.padValue));
  b.set(TiuField::opd1_addr, p.weight.addr & 0xFFFF).set(TiuField::short_opd1_str, 0);
  b.shape(kOpd1, p.weight.shape).set(TiuField::opt_opd1_sign, 1);
  win.setFields(b);
  setQuant(b, q, c);
  if (q.bias)
    b.set(TiuField::opd2_b_str, q.bias->planeStride);
  Footprint fq = q.bias ? m.footprint(*q.bias) : (q.params ? m.footprint(*q.params) : Footprint{});
  b.emit({m.footprint(p.ifmap), m.footprint(p.weight), fq}, {m.footprint(p.ofmap)});
}

} // namespace tpuc::kernel
