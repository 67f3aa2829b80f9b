//===- TiuConv.cpp - convolution and depthwise convolution ----------------===//
//
// cv183x-isa.md §2.4 "Conv, per-tensor", "Conv, per-channel" and "Depthwise"; quantisation §5.1 and
// §5.2; partial sums §5.4. The bf16 data path (opd_typ = 1) takes bf16 operands, an optional fp32
// bias stored as two bf16 planes (high halves, then low halves) and no quantisation.
//
//===----------------------------------------------------------------------===//
#include "Window.h"

namespace tpuc::kernel {

namespace {

bool is8(DType t) { return t == DType::Int8 || t == DType::Uint8; }

/// Operand types: all 8-bit, or all bf16.
bool checkTypes(Context::Impl &m, const char *op, const LocalTensor &ifmap,
                const LocalTensor &weight, const LocalTensor &ofmap, bool &bf16) {
  bf16 = ifmap.dtype == DType::Bf16;
  bool ok = bf16 ? weight.dtype == DType::Bf16 && ofmap.dtype == DType::Bf16
                 : is8(ifmap.dtype) && is8(weight.dtype) && is8(ofmap.dtype);
  if (!ok)
    return m.fail(op, std::string("unsupported types (ifmap ") + dtypeName(ifmap.dtype) +
                          ", weight " + dtypeName(weight.dtype) + ", ofmap " +
                          dtypeName(ofmap.dtype) + "); 8-bit or bf16 operands throughout");
  return true;
}

/// Quantisation operand (opd2): nothing, a bias (int16 for 8-bit data, fp32 as two bf16 planes
/// for bf16 data), or per-channel records.
struct Quant {
  const LocalTensor *bias = nullptr;
  const LocalTensor *params = nullptr;
  bool paramsHaveBias = false;
};

bool checkQuant(Context::Impl &impl, const char *op, bool bf16, const LocalTensor &bias,
                const LocalTensor &params, const LocalTensor &res, uint32_t oc, uint32_t rshift,
                bool relu, PartialSum psum, Quant &q) {
  if (bias.valid() && params.valid())
    return impl.fail(op, "give either a per-tensor bias or per-channel parameters, not both");
  uint32_t rounds = ceilDiv(oc, impl.lanes);
  if (bias.valid()) {
    if (!impl.checkLocal(op, "bias", bias) || !impl.checkShortAddr(op, "bias", bias, res))
      return false;
    bool good = bf16 ? bias.dtype == DType::Bf16 && bias.shape == Shape{2, oc, 1, 1} &&
                           bias.stride.c == 2 && bias.stride.n == 2 * rounds
                     : bias.dtype == DType::Int16 && bias.shape == Shape{1, oc, 1, 1} &&
                           bias.stride.c == 1 && bias.planeStride == rounds;
    if (!good)
      return impl.fail(op, std::string("bias must be the ") + (bf16 ? "bf16 (2, " : "int16 (1, ") +
                               std::to_string(oc) + ", 1, 1) tensor of allocConvBias");
    q.bias = &bias;
  }
  if (params.valid()) {
    if (bf16)
      return impl.fail(op, "bf16 convolution has no per-channel quantisation");
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
  if (rshift > 31 || (bf16 && rshift))
    return impl.fail(op, "rshift " + std::to_string(rshift) + " is out of range (" +
                             (bf16 ? "bf16 has none" : "0..31") + ")");
  if (psum != PartialSum::None && bf16)
    return impl.fail(op, "bf16 convolution has no partial-sum modes");
  if ((psum == PartialSum::Write || psum == PartialSum::Accumulate) &&
      (q.bias || q.params || relu || rshift))
    return impl.fail(op, "a partial-sum write takes no bias, per-channel parameters, ReLU or "
                         "shift (they apply in the final pass)");
  return true;
}

/// 8-bit results are signed exactly when an operand (ifmap, weight, bias) is; ReLU needs a signed
/// result (both are asserted by the vendor simulator). bf16 results are always signed.
bool checkResult(Context::Impl &impl, const char *op, const LocalTensor &ofmap, bool operandSigned,
                 bool relu, PartialSum psum) {
  if (ofmap.dtype == DType::Bf16 || (psum != PartialSum::None && psum != PartialSum::Final))
    return true;
  if (isSigned(ofmap.dtype) != operandSigned)
    return impl.fail(op, std::string("the ofmap must be ") +
                             (operandSigned ? "signed (int8) because an operand is signed"
                                            : "unsigned (uint8) because every operand is"));
  if (relu && ofmap.dtype != DType::Int8)
    return impl.fail(op, "ReLU needs a signed 8-bit ofmap");
  return true;
}

bool checkPadValue(Context::Impl &impl, const char *op, bool bf16, int32_t v) {
  if (bf16 && v != 0)
    return impl.fail(op, "bf16 padding is 0 (the pad value field is not a bf16 value here)");
  if (v < -128 || v > 255)
    return impl.fail(op, "pad value " + std::to_string(v) + " is not an 8-bit value");
  return true;
}

void setQuant(TiuBuilder &b, const Quant &q, uint32_t oc) {
  if (q.bias) {
    bool bf16 = q.bias->dtype == DType::Bf16;
    b.set(TiuField::tsk_opd_num, 3).set(TiuField::opt_opd2_int8, 0);
    b.set(TiuField::opd2_addr, q.bias->addr & 0xFFFF);
    b.shape(kOpd2, {1, oc, 1, 1}).set(TiuField::short_opd2_str, 2);
    b.set(TiuField::opd2_b_str, bf16 ? q.bias->stride.n : q.bias->planeStride);
    b.set(TiuField::opt_opd2_sign, 1);
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

Footprint quantFootprint(Context::Impl &m, const Quant &q) {
  if (q.bias)
    return m.footprint(*q.bias);
  return q.params ? m.footprint(*q.params) : Footprint{};
}

} // namespace

void Context::conv(const ConvParams &p) {
  const char *op = "conv";
  Impl &m = *impl;
  if (!m.checkLocal(op, "ifmap", p.ifmap) || !m.checkLocal(op, "ofmap", p.ofmap) ||
      !m.checkLocal(op, "weight", p.weight))
    return;
  bool bf16 = false;
  if (!checkTypes(m, op, p.ifmap, p.weight, p.ofmap, bf16))
    return;
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
  uint32_t es = localElemBytes(p.weight.dtype);
  uint64_t k = uint64_t{p.kh} * p.kw * ic;
  if (!(p.weight.shape == Shape{1, oc, 1, static_cast<uint32_t>(k)}) ||
      p.weight.stride.c != k * es || p.weight.stride.w != es) {
    m.fail(op, "weight must be the (1, " + std::to_string(oc) + ", 1, " + std::to_string(k) +
                   ") tensor of allocConvWeight(ic=" + std::to_string(ic) +
                   ", oc=" + std::to_string(oc) + ", kh=" + std::to_string(p.kh) +
                   ", kw=" + std::to_string(p.kw) + ")");
    return;
  }
  if (!m.checkShortAddr(op, "weight", p.weight, p.ofmap) || !checkPadValue(m, op, bf16, p.padValue))
    return;
  Quant q;
  if (!checkQuant(m, op, bf16, p.bias, p.channelParams, p.ofmap, oc, p.rshift, p.relu, p.psum, q))
    return;
  bool biasSigned = q.bias || q.paramsHaveBias;
  if (!checkResult(m, op, p.ofmap,
                   isSigned(p.ifmap.dtype) || isSigned(p.weight.dtype) || biasSigned, p.relu,
                   p.psum))
    return;

  TiuBuilder b(m, op);
  b.set(TiuField::tsk_typ, 0);
  bool anySigned = isSigned(p.ifmap.dtype) || isSigned(p.weight.dtype) ||
                   (q.bias != nullptr && q.params == nullptr);
  b.set(TiuField::opt_shift_typ, anySigned ? 1 : 0);
  bool final = p.psum == PartialSum::None || p.psum == PartialSum::Final;
  b.set(TiuField::opt_right_shift, final ? p.rshift : 0);
  b.set(TiuField::opt_relu, p.relu ? 1 : 0);
  bool dbl = !bf16 && (p.ifmap.addr % 2 == 0) && ic % 2 == 0 && ic >= 4 && (p.weight.addr % 2 == 0);
  b.set(TiuField::double_conv, dbl ? 1 : 0);
  if (bf16)
    b.set(TiuField::opd_typ, 1);
  LocalTensor res = p.ofmap;
  res.shape = out;
  b.operand(kRes0, res, StrideMode::Explicit);
  b.set(TiuField::ps32_md, static_cast<uint64_t>(p.psum));
  if (p.psum != PartialSum::None)
    b.set(TiuField::res0_b_str, uint64_t{n} * p.ofmap.stride.n);
  b.operand(kOpd0, p.ifmap, StrideMode::Default);
  b.set(TiuField::opd0_ins_val, bf16 ? 0 : static_cast<uint8_t>(p.padValue));
  b.set(TiuField::opd1_addr, p.weight.addr & 0xFFFF).set(TiuField::short_opd1_str, 1);
  b.set(TiuField::opd1_n, ic).set(TiuField::opd1_c, oc);
  b.set(TiuField::opt_opd1_sign, isSigned(p.weight.dtype) ? 1 : 0);
  win.setFields(b);
  setQuant(b, q, oc);
  Footprint fo = m.footprint(p.ofmap);
  bool readsPsum = p.psum == PartialSum::Final || p.psum == PartialSum::Accumulate;
  b.emit({m.footprint(p.ifmap), m.footprint(p.weight), quantFootprint(m, q),
          readsPsum ? fo : Footprint{}},
         {fo});
}

void Context::depthwise(const DepthwiseParams &p) {
  const char *op = "depthwise";
  Impl &m = *impl;
  if (!m.checkLocal(op, "ifmap", p.ifmap) || !m.checkLocal(op, "ofmap", p.ofmap) ||
      !m.checkLocal(op, "weight", p.weight))
    return;
  bool bf16 = false;
  if (!checkTypes(m, op, p.ifmap, p.weight, p.ofmap, bf16))
    return;
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
      !m.checkShortAddr(op, "weight", p.weight, p.ofmap) || !checkPadValue(m, op, bf16, p.padValue))
    return;
  Quant q;
  if (!checkQuant(m, op, bf16, p.bias, p.channelParams, p.ofmap, c, p.rshift, p.relu,
                  PartialSum::None, q))
    return;
  if (!bf16 && p.weight.dtype != DType::Int8) {
    m.fail(op, "depthwise weights are signed (int8)");
    return;
  }
  if (!checkResult(m, op, p.ofmap, true, p.relu, PartialSum::None))
    return;

  TiuBuilder b(m, op);
  b.set(TiuField::tsk_typ, 1).set(TiuField::tsk_eu_typ, 2).set(TiuField::opt_shift_typ, 1);
  b.set(TiuField::opt_right_shift, p.rshift).set(TiuField::opt_relu, p.relu ? 1 : 0);
  if (bf16)
    b.set(TiuField::opd_typ, 1);
  b.operand(kRes0, p.ofmap, StrideMode::Explicit);
  b.operand(kOpd0, p.ifmap, StrideMode::Explicit);
  b.set(TiuField::opd0_ins_val, bf16 ? 0 : static_cast<uint8_t>(p.padValue));
  b.set(TiuField::opd1_addr, p.weight.addr & 0xFFFF).set(TiuField::short_opd1_str, 0);
  b.shape(kOpd1, p.weight.shape).set(TiuField::opt_opd1_sign, 1);
  win.setFields(b);
  setQuant(b, q, c);
  b.emit({m.footprint(p.ifmap), m.footprint(p.weight), quantFootprint(m, q)},
         {m.footprint(p.ofmap)});
}

} // namespace tpuc::kernel
