//===- Context.cpp - settings, layouts, allocation, views and output ------===//
#include "Impl.h"

#include "tpuc/Arith.h"

#include <algorithm>

namespace tpuc::kernel {

Operand Operand::scalarBf16(float f) {
  Operand o;
  o.isConst = true;
  o.isBf16Const = true;
  o.bf16 = arith::floatToBf16(f);
  return o;
}

void packFp32Bias(const float *bias, uint32_t count, uint16_t *out) {
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t bits = arith::floatBits(bias[i]);
    out[i] = static_cast<uint16_t>(bits >> 16);
    out[count + i] = static_cast<uint16_t>(bits);
  }
}

void packChannelParams(const ChannelQuant *records, uint32_t count, bool withBias, uint8_t *out) {
  for (uint32_t i = 0; i < count; ++i) {
    const ChannelQuant &r = records[i];
    auto put32 = [&](uint32_t v) {
      for (int b = 0; b < 4; ++b)
        *out++ = static_cast<uint8_t>(v >> (8 * b));
    };
    if (withBias)
      put32(static_cast<uint32_t>(r.bias));
    put32(r.multiplier);
    *out++ = r.rshift;
  }
}

Context::Context(const runtime::ChipInfo &chip, SyncMode sync)
    : impl(std::make_unique<Impl>(chip, sync)) {}
Context::~Context() = default;
Context::Context(Context &&) noexcept = default;
Context &Context::operator=(Context &&) noexcept = default;

unsigned Context::lanes() const { return impl->lanes; }
unsigned Context::eusPerLane() const { return impl->chip.eusPerLane; }
unsigned Context::lmemPerLane() const { return impl->laneBytes; }
unsigned Context::banks() const { return impl->chip.lmemBanks; }
unsigned Context::bankBytes() const { return impl->bankBytes; }
bool Context::ok() const { return impl->ok(); }
const std::string &Context::error() const { return impl->err; }
void Context::reportError(const std::string &message) {
  if (impl->ok())
    impl->err = message.empty() ? std::string("error") : message;
}
void Context::prefixError(const std::string &prefix) {
  if (!impl->ok())
    impl->err = prefix + impl->err;
}

void Context::setLayerId(uint32_t id) {
  if (id > 0xFFFF) {
    impl->fail("setLayerId", "layer id " + std::to_string(id) + " does not fit 16 bits");
    return;
  }
  impl->layerId = id;
}
void Context::setSyncMode(SyncMode mode) { impl->sync = mode; }
SyncMode Context::syncMode() const { return impl->sync; }
void Context::fence() { impl->queue.fence(); }

//===----------------------------------------------------------------------===//
// Layouts
//===----------------------------------------------------------------------===//

Strides Context::defaultStrides(const Shape &shape, DType dtype, bool euAlign,
                                unsigned startLane) const {
  return impl->defaultStrides(shape, dtype, euAlign, startLane);
}

Shape Context::matrixShape(uint32_t rows, uint32_t cols, DType dtype) const {
  uint32_t eu = dtype == DType::Bf16 ? impl->chip.eusPerLane / 2 : impl->chip.eusPerLane;
  uint32_t w = cols;
  if (cols >= eu)
    w = eu * ceilDiv(cols, uint64_t{eu} * impl->lanes);
  w = std::max<uint32_t>(w, 1);
  return {rows, ceilDiv(cols, w), 1, w};
}

uint32_t Context::bytesPerLane(const Shape &shape, DType dtype, bool euAlign) const {
  LocalTensor t;
  t.addr = 0;
  t.shape = shape;
  t.dtype = dtype;
  t.stride = impl->defaultStrides(shape, dtype, euAlign, 0);
  uint64_t plane = impl->laneExtent(t);
  if (dtype == DType::Int16) {
    t.planeStride = alignUp(plane, impl->chip.eusPerLane);
    plane = impl->laneExtent(t);
  }
  return static_cast<uint32_t>(
      std::min<uint64_t>(alignUp(plane, impl->chip.eusPerLane), 0xFFFFFFFFu));
}

unsigned Context::startLane(const LocalTensor &t) const { return impl->startLane(t); }
uint32_t Context::laneOffset(const LocalTensor &t) const { return impl->offset(t); }
uint32_t Context::laneFootprint(const LocalTensor &t) const {
  return static_cast<uint32_t>(std::min<uint64_t>(impl->laneExtent(t), 0xFFFFFFFFu));
}

//===----------------------------------------------------------------------===//
// Allocation
//===----------------------------------------------------------------------===//

namespace {

/// Places `t` (strides and dtype set, addr unset) and fills its address; Int16 tensors get a
/// second plane right after the first.
LocalTensor place(Context::Impl &impl, const char *op, LocalTensor t, const AllocOptions &opts) {
  if (!impl.ok())
    return {};
  const Shape &s = t.shape;
  if (s.n == 0 || s.c == 0 || s.h == 0 || s.w == 0) {
    impl.fail(op, "empty shape " + shapeStr(s));
    return {};
  }
  t.addr = 0;
  uint64_t plane = impl.laneExtent(t);
  if (t.dtype == DType::Int16) {
    t.planeStride = alignUp(plane, impl.chip.eusPerLane);
    plane = impl.laneExtent(t);
  }
  if (plane > impl.laneBytes) {
    impl.fail(op, "local memory overflow: " + std::string(dtypeName(t.dtype)) + " tensor " +
                      shapeStr(s) + " needs " + std::to_string(plane) +
                      " bytes per lane, more than the " + std::to_string(impl.laneBytes) +
                      " bytes of a lane");
    return {};
  }
  uint32_t offset = 0;
  std::string why;
  if (!impl.alloc.allocate(alignUp(plane, impl.chip.eusPerLane), impl.chip.eusPerLane, opts.bank,
                           offset, why)) {
    impl.fail(op, "local memory overflow: " + std::string(dtypeName(t.dtype)) + " tensor " +
                      shapeStr(s) + " " + why);
    return {};
  }
  t.addr = offset;
  return t;
}

} // namespace

LocalTensor Context::allocTensor(const Shape &shape, DType dtype, AllocOptions opts) {
  LocalTensor t;
  t.shape = shape;
  t.dtype = dtype;
  t.stride = impl->defaultStrides(shape, dtype, opts.euAlign, 0);
  return place(*impl, "allocTensor", t, opts);
}

LocalTensor Context::allocTensor(const Shape &shape, DType dtype, const Strides &strides,
                                 AllocOptions opts) {
  LocalTensor t;
  t.shape = shape;
  t.dtype = dtype;
  t.stride = strides;
  return place(*impl, "allocTensor", t, opts);
}

LocalMatrix Context::allocMatrix(uint32_t rows, uint32_t cols, DType dtype, AllocOptions opts) {
  if (rows == 0 || cols == 0) {
    impl->fail("allocMatrix",
               "empty matrix " + std::to_string(rows) + " x " + std::to_string(cols));
    return {};
  }
  LocalTensor t;
  t.shape = matrixShape(rows, cols, dtype);
  t.dtype = dtype;
  uint32_t es = localElemBytes(dtype);
  uint32_t cs = t.shape.w * es;
  if (opts.euAlign)
    cs = alignUp(cs, impl->chip.eusPerLane);
  t.stride = {cs * ceilDiv(t.shape.c, impl->lanes), cs, t.shape.w * es, es};
  if (dtype == DType::Int16) {
    // 16-bit matrix results: the high-byte rows follow the low-byte rows (§2.4 matmul).
    LocalTensor both = t;
    both.dtype = DType::Int8;
    both.shape.n = 2 * rows;
    both = place(*impl, "allocMatrix", both, opts);
    if (!both.valid())
      return {};
    t.addr = both.addr;
    t.planeStride = rows * t.stride.n;
    return {t, rows, cols};
  }
  t = place(*impl, "allocMatrix", t, opts);
  if (!t.valid())
    return {};
  return {t, rows, cols};
}

LocalTensor Context::allocConvWeight(uint32_t ic, uint32_t oc, uint32_t kh, uint32_t kw,
                                     DType dtype) {
  if (dtype == DType::Int16) {
    impl->fail("allocConvWeight", std::string("weights of type ") + dtypeName(dtype) +
                                      " are not supported (int8, uint8, bf16)");
    return {};
  }
  uint64_t k = uint64_t{kh} * kw * ic;
  if (k == 0 || oc == 0 || k > 0xFFFFFFu) {
    impl->fail("allocConvWeight", "bad kernel ic=" + std::to_string(ic) +
                                      " oc=" + std::to_string(oc) + " kh=" + std::to_string(kh) +
                                      " kw=" + std::to_string(kw));
    return {};
  }
  AllocOptions opts;
  opts.euAlign = false;
  return allocTensor({1, oc, 1, static_cast<uint32_t>(k)}, dtype, opts);
}

LocalTensor Context::allocDepthwiseWeight(uint32_t c, uint32_t kh, uint32_t kw, DType dtype) {
  return allocTensor({1, c, kh, kw}, dtype);
}

LocalTensor Context::allocConvBias(uint32_t oc, DType data) {
  if (oc == 0) {
    impl->fail("allocConvBias", "zero output channels");
    return {};
  }
  uint32_t rounds = ceilDiv(oc, impl->lanes);
  if (data == DType::Bf16) // fp32 as two bf16 rows: high halves, then low halves
    return allocTensor({2, oc, 1, 1}, DType::Bf16, Strides{2 * rounds, 2, 2, 2});
  LocalTensor t;
  t.shape = {1, oc, 1, 1};
  t.dtype = DType::Int8;
  t.stride = {rounds, 1, 1, 1};
  // Both planes in one block: low bytes at 0, high bytes at ceil(OC / lanes) (§2.3 mode 2).
  LocalTensor both = t;
  both.shape.n = 2;
  both = place(*impl, "allocConvBias", both, {});
  if (!both.valid())
    return {};
  t.addr = both.addr;
  t.dtype = DType::Int16;
  t.planeStride = rounds;
  return t;
}

LocalTensor Context::allocChannelParams(uint32_t oc, bool withBias) {
  uint32_t rec = withBias ? 9 : 5;
  return allocTensor({1, oc, 1, rec}, DType::Uint8,
                     Strides{rec * ceilDiv(oc, impl->lanes), rec, rec, 1});
}

LocalTensor Context::allocLutTable() { return allocTensor({1, impl->lanes, 16, 16}, DType::Uint8); }

LocalTensor Context::allocPartialSum(const Shape &ofmap) {
  return allocTensor({ofmap.n * 4, ofmap.c, ofmap.h, ofmap.w}, DType::Int8);
}

void Context::free(const LocalTensor &t) {
  if (!impl->ok())
    return;
  if (!t.valid() || t.addr >= impl->laneBytes || !impl->alloc.release(t.addr))
    impl->fail("free", "address " + std::to_string(t.addr) +
                           " is not the start of a live local-memory allocation");
}

uint32_t Context::lmemUsed() const { return impl->alloc.used(); }
uint32_t Context::lmemPeak() const { return impl->alloc.peak(); }
uint32_t Context::lmemLargestFree() const { return impl->alloc.largestFree(); }
unsigned Context::bankOf(const LocalTensor &t) const { return impl->offset(t) / impl->bankBytes; }

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

LocalTensor Context::channelSlice(const LocalTensor &t, uint32_t c0, uint32_t count) {
  if (!impl->checkLocal("channelSlice", "tensor", t))
    return {};
  if (count == 0 || uint64_t{c0} + count > t.shape.c) {
    impl->fail("channelSlice", "channels [" + std::to_string(c0) + ", " +
                                   std::to_string(uint64_t{c0} + count) + ") outside " +
                                   std::to_string(t.shape.c) + " channels");
    return {};
  }
  unsigned lane = impl->startLane(t) + c0;
  LocalTensor v = t;
  uint64_t off = impl->offset(t) + uint64_t{lane / impl->lanes} * t.stride.c;
  if (off >= impl->laneBytes) {
    impl->fail("channelSlice", "slice starts beyond the lane");
    return {};
  }
  v.addr = (lane % impl->lanes) * impl->laneBytes + static_cast<uint32_t>(off);
  v.shape.c = count;
  return v;
}

LocalTensor Context::reinterpret(const LocalTensor &t, const Shape &shape, const Strides &strides,
                                 DType dtype, uint32_t byteOffset) {
  if (!impl->checkLocal("reinterpret", "tensor", t))
    return {};
  LocalTensor v = t;
  v.shape = shape;
  v.stride = strides;
  v.dtype = dtype;
  if (byteOffset >= impl->laneExtent(t)) {
    impl->fail("reinterpret",
               "byte offset " + std::to_string(byteOffset) + " is beyond the tensor");
    return {};
  }
  v.addr += byteOffset;
  if (dtype != DType::Int16)
    v.planeStride = 0;
  else if (t.dtype != DType::Int16) {
    impl->fail("reinterpret", "an int16 view needs an int16 tensor (plane distance)");
    return {};
  }
  if (!impl->checkLocal("reinterpret", "view", v))
    return {};
  bool allLanes = t.shape.c >= impl->lanes;
  if ((!allLanes && shape.c > t.shape.c) ||
      byteOffset + impl->laneExtent(v) > impl->laneExtent(t)) {
    impl->fail("reinterpret",
               "view " + shapeStr(shape) + " reaches beyond tensor " + shapeStr(t.shape));
    return {};
  }
  return v;
}

LocalTensor Context::planes(const LocalTensor &t) {
  if (!impl->checkLocal("planes", "tensor", t))
    return {};
  if (t.dtype != DType::Int16 || t.shape.n != 1) {
    impl->fail("planes", "needs an int16 tensor with N = 1");
    return {};
  }
  LocalTensor v = t;
  v.dtype = DType::Int8;
  v.shape.n = 2;
  v.stride.n = t.planeStride;
  v.planeStride = 0;
  return v;
}

LocalMatrix Context::matrixPlanes(const LocalMatrix &m) {
  if (!impl->checkLocal("matrixPlanes", "matrix", m.t))
    return {};
  if (m.t.dtype != DType::Int16 || m.t.planeStride != m.rows * m.t.stride.n) {
    impl->fail("matrixPlanes", "needs an int16 matrix from allocMatrix");
    return {};
  }
  LocalMatrix v = m;
  v.t.dtype = DType::Int8;
  v.t.planeStride = 0;
  v.rows = 2 * m.rows;
  v.t.shape.n = v.rows;
  return v;
}

LocalMatrix Context::matrixRows(const LocalMatrix &m, uint32_t r0, uint32_t count) {
  if (!impl->checkLocal("matrixRows", "matrix", m.t))
    return {};
  if (count == 0 || uint64_t{r0} + count > m.rows) {
    impl->fail("matrixRows", "rows [" + std::to_string(r0) + ", " +
                                 std::to_string(uint64_t{r0} + count) + ") outside " +
                                 std::to_string(m.rows) + " rows");
    return {};
  }
  LocalMatrix v = m;
  v.t.addr += r0 * m.t.stride.n;
  v.t.shape.n = count;
  v.rows = count;
  return v;
}

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

std::vector<uint8_t> Context::cmdbuf() const {
  std::vector<uint8_t> out;
  if (!impl->ok())
    return out;
  for (const Command &c : impl->queue.commands()) {
    size_t len = c.words.size() * 4;
    out.push_back(impl->chip.cmdMagic);
    out.push_back(static_cast<uint8_t>(len));
    out.push_back(static_cast<uint8_t>(c.engine));
    out.push_back(0);            // flags
    out.insert(out.end(), 4, 0); // mask
    for (uint32_t w : c.words)
      for (int b = 0; b < 4; ++b)
        out.push_back(static_cast<uint8_t>(w >> (8 * b)));
  }
  return out;
}

CmdStats Context::stats() const { return impl->queue.stats(); }

} // namespace tpuc::kernel
