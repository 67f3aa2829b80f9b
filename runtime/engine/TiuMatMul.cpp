//===- TiuMatMul.cpp - matrix multiplication (tsk_typ 2) ------------------===//
//
// cv183x-isa.md §2.4 "Matrix multiplication", §6 "Matrix layout". A matrix (rows, C, 1, W) keeps
// columns [c * W, c * W + W) of every row on lane c (relative to its start lane), row r at
// r * n_stride. res0 = left (opd0, rows x opd1_n) * right (opd1, opd1_n x res0_c * res0_w)
// + bias (opd2: 16-bit per-tensor in 2 byte planes, 32-bit for the multiplier ("qm") variant in
// 4 planes, one plane per opd2 n-stride), then post-processing; partial sums per §5.4.
//
//===----------------------------------------------------------------------===//
#include "TiuCommon.h"

#include <vector>

namespace tpuc::runtime {

namespace {

using T = TiuField;

/// A matrix operand: column k of row r lives in channel k / w at (r, k % w).
struct Matrix {
  LocalTensor t;
  uint32_t w;
  const uint8_t *at(uint32_t r, uint32_t k) const {
    return t.channel(k / w) + r * t.strides().n + (k % w) * t.strides().w;
  }
};

Matrix matrixOperand(const TiuOp &op, const TiuOperand &o, Shape4 s, unsigned es, unsigned planes,
                     int64_t planeStride) {
  op.require(s.h == 1, o.h, std::string("matrix ") + o.name + " with h != 1");
  op.require(s.w > 0, o.w, std::string("matrix ") + o.name + " with w = 0");
  return {op.tensor(o, s, es, planes, planeStride), s.w};
}

void matmulInt8(TiuOp &op) {
  validateSigns(op);
  Shape4 rs = op.shape(kRes0), ls = op.shape(kOpd0);
  uint32_t rows = rs.n, k = static_cast<uint32_t>(op[T::opd1_n]);
  uint32_t cols = rs.c * rs.w;
  op.require(ls.n == rows, T::opd0_n, "matmul: opd0_n must equal res0_n");
  op.require(uint64_t{ls.c} * ls.w >= k, T::opd1_n, "matmul: the left matrix has fewer columns");
  unsigned ps32 = static_cast<unsigned>(op[T::ps32_md]);
  bool resInt8 = op.flag(T::opt_res0_int8);
  bool chlQuan = op.flag(T::opt_chl_quan);
  bool hasBias = op[T::tsk_opd_num] == 3;
  bool resAdd = op.flag(T::opt_res_add);

  Matrix left = matrixOperand(op, kOpd0, ls, 1, 1, 0);
  Matrix right = matrixOperand(op, kOpd1, {k, rs.c, 1, rs.w}, 1, 1, 0);
  int64_t rbstr = ps32 ? op.ps32PlaneStride(rs, 1) : static_cast<int64_t>(op[T::res0_b_str]);
  unsigned resPlanes = (ps32 != 0) ? 4 : (resInt8 && !resAdd ? 1 : 2);
  Matrix res = matrixOperand(op, kRes0, rs, 1, resPlanes, rbstr);

  std::vector<int32_t> bias(cols, 0);
  if (hasBias) {
    Shape4 bs{1, rs.c, 1, rs.w};
    unsigned planes = chlQuan ? 4 : 2;
    Strides4 bst = op.strides(kOpd2, bs, 1);
    Matrix b{op.tensor(kOpd2, bs, bst, 1, planes, bst.n), rs.w};
    bool s = op.flag(T::opt_opd2_sign);
    for (uint32_t j = 0; j < cols; ++j)
      bias[j] = chlQuan ? load32(b.at(0, j), bst.n) : load16(b.at(0, j), bst.n, s);
  }

  bool lSigned = op.flag(T::opt_opd0_sign), rSigned = op.flag(T::opt_opd1_sign);
  // Right matrix as int32 rows for the inner loop.
  std::vector<int32_t> rmat(size_t{k} * cols);
  for (uint32_t kk = 0; kk < k; ++kk)
    for (uint32_t c = 0; c < rs.c; ++c) {
      const uint8_t *p = right.at(kk, c * rs.w);
      int64_t step = right.t.strides().w;
      for (uint32_t w = 0; w < rs.w; ++w)
        rmat[size_t{kk} * cols + c * rs.w + w] = load8(p + w * step, rSigned);
    }

  bool relu = op.flag(T::opt_relu), resSigned = op.flag(T::opt_res0_sign);
  unsigned rshift = static_cast<unsigned>(op[T::opt_right_shift]);
  unsigned lshift = static_cast<unsigned>(op[T::opt_left_shift]);
  int64_t multiplier = static_cast<int32_t>(op[T::quan_m]);
  std::vector<int32_t> acc(cols);
  for (uint32_t r = 0; r < rows; ++r) {
    std::fill(acc.begin(), acc.end(), 0);
    for (uint32_t kk = 0; kk < k; ++kk) {
      int32_t lv = load8(left.at(r, kk), lSigned);
      if (!lv)
        continue;
      const int32_t *rrow = rmat.data() + size_t{kk} * cols;
      for (uint32_t j = 0; j < cols; ++j)
        acc[j] += lv * rrow[j];
    }
    for (uint32_t j = 0; j < cols; ++j) {
      uint8_t *p = const_cast<uint8_t *>(res.at(r, j));
      int64_t a = acc[j];
      if (ps32 & 1)
        a += load32(p, rbstr);
      if (ps32 & 2) {
        store32(p, rbstr, static_cast<int32_t>(a));
        continue;
      }
      a += bias[j];
      if (resAdd)
        a += static_cast<int64_t>(load16(p, rbstr, true)) << lshift;
      int64_t y;
      if (chlQuan) {
        y = arith::requantQdm(a, multiplier, rshift, relu, resSigned);
      } else {
        y = arith::roundingRightShift(a, rshift);
        if (relu && y < 0)
          y = 0;
      }
      if (resInt8) {
        *p = static_cast<uint8_t>(arith::saturate8(y, resSigned));
      } else {
        store16(p, rbstr, static_cast<int32_t>(arith::saturate(y, 16, resSigned)));
      }
    }
  }
}

void matmulBf16(TiuOp &op) {
  Shape4 rs = op.shape(kRes0), ls = op.shape(kOpd0);
  uint32_t rows = rs.n, k = static_cast<uint32_t>(op[T::opd1_n]);
  uint32_t cols = rs.c * rs.w;
  op.require(ls.n == rows, T::opd0_n, "matmul: opd0_n must equal res0_n");
  op.require(uint64_t{ls.c} * ls.w >= k, T::opd1_n, "matmul: the left matrix has fewer columns");
  op.require(!op.flag(T::opt_chl_quan), T::opt_chl_quan, "per-channel quantisation in bf16");
  unsigned ps32 = static_cast<unsigned>(op[T::ps32_md]);
  bool hasBias = op[T::tsk_opd_num] == 3;
  bool resAdd = op.flag(T::opt_res_add);
  Matrix left = matrixOperand(op, kOpd0, ls, 2, 1, 0);
  Matrix right = matrixOperand(op, kOpd1, {k, rs.c, 1, rs.w}, 2, 1, 0);
  // Partial sums as for bf16 convolution: fp32 split into high/low halves one plane apart.
  int64_t planeStride = ps32 ? op.ps32PlaneStride(rs, 2) : 0;
  Matrix res = matrixOperand(op, kRes0, rs, 2, ps32 ? 2 : 1, planeStride);
  // fp32 bias: high half in plane 0, low half in plane 1 (one opd2 n-stride apart).
  std::vector<float> bias(cols, 0.0f);
  if (hasBias) {
    Shape4 bs{1, rs.c, 1, rs.w};
    Strides4 bst = op.strides(kOpd2, bs, 2);
    Matrix b{op.tensor(kOpd2, bs, bst, 2, 2, bst.n), rs.w};
    for (uint32_t j = 0; j < cols; ++j) {
      const uint8_t *p = b.at(0, j);
      bias[j] = arith::bitsToFloat(static_cast<uint32_t>(loadBf16(p)) << 16 | loadBf16(p + bst.n));
    }
  }
  std::vector<float> rmat(size_t{k} * cols);
  for (uint32_t kk = 0; kk < k; ++kk)
    for (uint32_t j = 0; j < cols; ++j)
      rmat[size_t{kk} * cols + j] = loadBf16Tiu(right.at(kk, j));
  bool relu = op.flag(T::opt_relu);
  std::vector<float> acc(cols);
  for (uint32_t r = 0; r < rows; ++r) {
    for (uint32_t j = 0; j < cols; ++j) {
      const uint8_t *p = res.at(r, j);
      acc[j] = (ps32 & 1) ? arith::bitsToFloat(static_cast<uint32_t>(loadBf16(p)) << 16 |
                                               loadBf16(p + planeStride))
                          : 0.0f;
    }
    // The left row is spread over lanes of opd0_w columns; the sum walks the first column of
    // every lane, then the second, ... (probed with fp32 round-toward-zero cancellation).
    for (uint32_t w = 0; w < ls.w; ++w)
      for (uint32_t lane = 0; lane < ls.c; ++lane) {
        uint32_t kk = lane * ls.w + w;
        if (kk >= k)
          continue;
        float lv = loadBf16Tiu(left.at(r, kk));
        const float *rrow = rmat.data() + size_t{kk} * cols;
        for (uint32_t j = 0; j < cols; ++j)
          acc[j] = arith::addFp32Rz(acc[j], arith::mulFp32Ftz(lv, rrow[j]));
      }
    for (uint32_t j = 0; j < cols; ++j) {
      uint8_t *p = const_cast<uint8_t *>(res.at(r, j));
      if (ps32 & 2) {
        uint32_t bits = arith::floatBits(acc[j]);
        storeBf16(p, static_cast<uint16_t>(bits >> 16));
        storeBf16(p + planeStride, static_cast<uint16_t>(bits));
        continue;
      }
      float v = arith::addFp32Rz(acc[j], bias[j]);
      if (resAdd)
        v = arith::addFp32Rz(v, loadBf16Tiu(p));
      uint16_t out = arith::floatToBf16Tiu(v);
      storeBf16(p, (relu && (out & 0x8000)) ? 0 : out);
    }
  }
}

} // namespace

void executeMatMul(TiuOp &op) {
  if (op.bf16()) {
    matmulBf16(op);
    return;
  }
  matmulInt8(op);
}

} // namespace tpuc::runtime
