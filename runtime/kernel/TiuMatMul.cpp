//===- TiuMatMul.cpp - matrix multiplication (tsk_typ 2) ------------------===//
//
// cv183x-isa.md §2.4 "Matrix multiplication", §6 matrix layout. Every operand uses stride mode 0,
// so each matrix must have the default layout: (rows, C, 1, W), c stride align16(W * es), n stride
// c * ceil(C / lanes). bf16 matrices select the bf16 data path.
//
//===----------------------------------------------------------------------===//
#include "Impl.h"

namespace tpuc::kernel {

namespace {

bool is8(DType t) { return t == DType::Int8 || t == DType::Uint8; }

bool checkMatrix(Context::Impl &m, const char *op, const char *role, const LocalMatrix &x) {
  if (!m.checkLocal(op, role, x.t) || !m.checkAligned16(op, role, x.t))
    return false;
  const Shape &s = x.t.shape;
  if (s.n != x.rows || s.h != 1 || uint64_t{s.c} * s.w < x.cols ||
      uint64_t{s.c - 1} * s.w >= x.cols)
    return m.fail(op, std::string(role) + " tensor " + shapeStr(s) + " does not hold a " +
                          std::to_string(x.rows) + " x " + std::to_string(x.cols) + " matrix");
  if (m.startLane(x.t) != 0)
    return m.fail(op, std::string(role) + " must start on lane 0");
  if (s.c > m.lanes)
    return m.fail(op, std::string(role) + " spreads over " + std::to_string(s.c) +
                          " lanes; at most " + std::to_string(m.lanes));
  uint32_t es = localElemBytes(x.t.dtype);
  uint32_t cs = alignUp(uint64_t{s.w} * es, m.chip.eusPerLane);
  Strides want{cs * ceilDiv(s.c, m.lanes), cs, s.w * es, es};
  if (!(x.t.stride == want))
    return m.fail(op, std::string(role) + " must have the default matrix layout (c stride " +
                          std::to_string(want.c) + ", n stride " + std::to_string(want.n) + ")");
  if (!m.checkTiuShape(op, role, s))
    return false;
  return true;
}

} // namespace

void Context::matmul(const MatMulParams &p) {
  const char *op = "matmul";
  Impl &m = *impl;
  if (!checkMatrix(m, op, "res", p.res) || !checkMatrix(m, op, "left", p.left) ||
      !checkMatrix(m, op, "right", p.right))
    return;
  bool psum = p.psum != PartialSum::None;
  bool wide = p.res.t.dtype == DType::Int16;
  bool bf16 = p.left.t.dtype == DType::Bf16;
  if (bf16) {
    if (p.right.t.dtype != DType::Bf16 || p.res.t.dtype != DType::Bf16) {
      m.fail(op, "bf16 matrix multiplication needs bf16 left, right and res");
      return;
    }
    if (psum || p.addResult || p.multiplier || p.rshift || p.lshift) {
      m.fail(op, "bf16 matrix multiplication has no shifts, multiplier, accumulation or partial "
                 "sums");
      return;
    }
  } else if (!is8(p.left.t.dtype) || !is8(p.right.t.dtype) || !(is8(p.res.t.dtype) || wide)) {
    m.fail(op, std::string("unsupported types (left ") + dtypeName(p.left.t.dtype) + ", right " +
                   dtypeName(p.right.t.dtype) + ", res " + dtypeName(p.res.t.dtype) +
                   "); 8-bit operands, 8-bit or int16 result");
    return;
  }
  uint32_t rows = psum ? p.res.rows / 4 : p.res.rows;
  if (psum && (p.res.rows % 4 != 0 || p.res.t.dtype != DType::Int8 || p.addResult)) {
    m.fail(op, "with partial sums res is an int8 matrix of 4 x M rows (the four byte planes)");
    return;
  }
  uint32_t k = p.left.cols, n = p.right.cols;
  if (p.right.rows != k || rows != p.left.rows || p.res.cols != n) {
    m.fail(op, "shapes do not chain: left " + std::to_string(p.left.rows) + " x " +
                   std::to_string(k) + ", right " + std::to_string(p.right.rows) + " x " +
                   std::to_string(n) + ", res " + std::to_string(rows) + " x " +
                   std::to_string(p.res.cols));
    return;
  }
  if (p.res.t.shape.w != p.right.t.shape.w || p.res.t.shape.c != p.right.t.shape.c) {
    m.fail(op, "res and right must split their columns alike (W " +
                   std::to_string(p.res.t.shape.w) + " vs " + std::to_string(p.right.t.shape.w) +
                   ")");
    return;
  }
  if (wide && p.res.t.planeStride != p.res.rows * p.res.t.stride.n) {
    m.fail(op, "an int16 result needs its high-byte rows right after the low-byte rows "
               "(allocMatrix with int16)");
    return;
  }
  if (p.addResult && !wide) {
    m.fail(op, "addResult accumulates into a 16-bit result; res must be int16");
    return;
  }
  if (p.multiplier != 0 && wide) {
    m.fail(op, "the multiplier pipeline produces 8-bit results");
    return;
  }
  if (p.rshift > 31 || p.lshift > 31) {
    m.fail(op, "shift out of range (0..31)");
    return;
  }
  bool hasBias = p.bias.valid();
  if (hasBias) {
    uint32_t planes = bf16 ? 2 : (p.multiplier ? 4 : 2);
    if (!checkMatrix(m, op, "bias", p.bias))
      return;
    if ((bf16 ? p.bias.t.dtype != DType::Bf16 : !is8(p.bias.t.dtype)) || p.bias.rows != planes ||
        p.bias.cols != n || p.bias.t.shape.w != p.res.t.shape.w) {
      m.fail(op, "bias must be a " + std::to_string(planes) + " x " + std::to_string(n) + " " +
                     (bf16 ? "bf16 matrix (high and low halves of fp32 biases)"
                           : std::string("8-bit matrix (byte planes of the ") +
                                 (p.multiplier ? "int32" : "int16") + " biases)") +
                     " split like res");
      return;
    }
    if (p.psum == PartialSum::Write || p.psum == PartialSum::Accumulate) {
      m.fail(op, "a partial-sum write takes no bias");
      return;
    }
  }
  if ((p.psum == PartialSum::Write || p.psum == PartialSum::Accumulate) && (p.relu || p.rshift)) {
    m.fail(op, "a partial-sum write takes no ReLU or shift");
    return;
  }
  for (auto [role, x] :
       {std::pair<const char *, const LocalMatrix *>{"right", &p.right}, {"bias", &p.bias}})
    if (x->valid() && !m.checkShortAddr(op, role, x->t, p.res.t))
      return;

  if (!bf16 && p.relu && p.res.t.dtype != DType::Int8) {
    m.fail(op, "ReLU needs a signed 8-bit result");
    return;
  }
  TiuBuilder b(m, op);
  b.set(TiuField::tsk_typ, 2).set(TiuField::tsk_opd_num, hasBias ? 3 : 2);
  if (bf16)
    b.set(TiuField::opd_typ, 1);
  bool anySigned = isSigned(p.left.t.dtype) || isSigned(p.right.t.dtype) || hasBias;
  b.set(TiuField::opt_shift_typ, anySigned ? 1 : 0);
  b.set(TiuField::opt_right_shift, p.rshift).set(TiuField::opt_left_shift, p.lshift);
  b.set(TiuField::opt_relu, p.relu ? 1 : 0).set(TiuField::opt_res_add, p.addResult ? 1 : 0);
  LocalTensor res = p.res.t;
  res.shape.n = rows;
  b.operand(kRes0, res, StrideMode::Default);
  b.operand(kOpd0, p.left.t, StrideMode::Default);
  b.operand(kOpd1, p.right.t, StrideMode::Default);
  b.set(TiuField::opd1_w, k - p.left.t.shape.w * (p.left.t.shape.c - 1));
  b.set(TiuField::short_opd2_str, 0).set(TiuField::opt_opd2_int8, 0);
  b.shape(kOpd2, {1, p.res.t.shape.c, 1, p.res.t.shape.w});
  if (hasBias) {
    b.set(TiuField::opd2_addr, p.bias.t.addr & 0xFFFF);
    b.set(TiuField::opt_opd2_sign, 1);
  }
  b.set(TiuField::ps32_md, static_cast<uint64_t>(p.psum));
  if (psum)
    b.set(TiuField::res0_b_str, uint64_t{rows} * p.res.t.stride.n);
  if (p.multiplier && (p.psum == PartialSum::None || p.psum == PartialSum::Final))
    b.set(TiuField::opt_chl_quan, 1).set(TiuField::quan_m, static_cast<uint32_t>(p.multiplier));
  Footprint fr = m.footprint(p.res.t);
  bool readsRes = p.addResult || p.psum == PartialSum::Final || p.psum == PartialSum::Accumulate;
  b.emit({m.footprint(p.left.t), m.footprint(p.right.t),
          hasBias ? m.footprint(p.bias.t) : Footprint{}, readsRes ? fr : Footprint{}},
         {fr});
}

} // namespace tpuc::kernel
