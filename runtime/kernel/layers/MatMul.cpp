//===- MatMul.cpp - INT8 fully_connected and matmul layer kernels ---------===//
//
// res (M x N) = left (M x K) x right (K x N) on the matrix unit, tiled over N (outer), M and K.
// The right operand (the fully_connected filter) of an N tile is loaded once for all M tiles when
// K is not split; a split K accumulates 32-bit partial sums (ps32 Write / Accumulate / Final) and
// reloads the right operand per M tile. A filter stored [N][K] is loaded transposed.
//
//===----------------------------------------------------------------------===//
#include "LayerCommon.h"

namespace tpuc::kernel::layers {

using namespace detail;

namespace {

struct MmSpec {
  GlobalMatrix left; ///< M x K
  GlobalMatrix right;
  bool rightTransposed = false; ///< right stored N x K
  GlobalMatrix output;          ///< M x N
  bool hasBias = false;
  GlobalAddr bias; ///< planes [biasRows][N]
  uint32_t biasRows = 4;
  int32_t multiplier = 0;
  uint32_t rshift = 0;
  bool relu = false;
};

uint32_t matLane(Context &ctx, uint32_t rows, uint32_t cols) {
  Shape s = ctx.matrixShape(rows, cols, DType::Int8);
  return rows * ceilDiv(s.c, ctx.lanes()) * align16(s.w);
}

LocalMatrix matView(Context &ctx, const LocalTensor &buf, uint32_t rows, uint32_t cols) {
  Shape s = ctx.matrixShape(rows, cols, DType::Int8);
  uint32_t cs = align16(s.w);
  LocalMatrix m;
  m.t = ctx.reinterpret(buf, s, {cs * ceilDiv(s.c, ctx.lanes()), cs, s.w, 1}, DType::Int8);
  m.rows = rows;
  m.cols = cols;
  return m;
}

GlobalMatrix subMatrix(const GlobalMatrix &g, uint32_t r0, uint32_t c0, uint32_t rows,
                       uint32_t cols) {
  GlobalMatrix m = g;
  m.addr = g.addr + (uint64_t{r0} * g.rowStride + c0);
  m.rows = rows;
  m.cols = cols;
  return m;
}

bool runMatMul(Scope &S, const MmSpec &sp) {
  Context &ctx = S.ctx;
  const uint32_t M = sp.left.rows, K = sp.left.cols, N = sp.output.cols;
  const uint32_t maxRows = 4064;
  struct Plan {
    uint32_t mT, kT, nT, B;
    bool split;
    double cost;
  } best{};
  bool found = false;
  auto lane = [&](uint32_t mT, uint32_t kT, uint32_t nT, uint32_t B, bool split) {
    uint32_t bias = sp.hasBias ? matLane(ctx, sp.biasRows, nT) : 0;
    return B * (matLane(ctx, mT, kT) + matLane(ctx, kT, nT) +
                matLane(ctx, mT * (split ? 4 : 1), nT) + bias);
  };
  for (uint32_t B : {2u, 1u}) {
    if (B == 2 && !S.options().doubleBuffer)
      continue;
    for (int split = 0; split < 2 && !found; ++split) {
      std::vector<uint32_t> kc;
      if (!split)
        kc.push_back(K);
      else
        for (uint32_t k = std::min(K - 1, maxRows) / 16 * 16; k >= 16; k = k / 2 / 16 * 16)
          kc.push_back(k);
      for (uint32_t kT : kc) {
        if (kT > maxRows)
          continue;
        for (uint32_t nT = N; nT > 0; nT = nT > 16 ? (nT / 2 + 15) / 16 * 16 : nT - 1) {
          if (nT == N || nT < N) {
            uint32_t lo = 0, hi = std::min(M, maxRows / (split ? 4 : 1));
            while (lo < hi) {
              uint32_t mid = (lo + hi + 1) / 2;
              if (lane(mid, kT, nT, B, split) <= S.budget())
                lo = mid;
              else
                hi = mid - 1;
            }
            if (lo > 0) {
              double numN = ceilDiv(N, nT), numM = ceilDiv(M, lo), numK = ceilDiv(K, kT);
              double cost = double(M) * K * numN + double(K) * N * (split ? numM : 1) +
                            double(M) * N + 4096.0 * numN * numM * numK;
              if (!found || cost < best.cost) {
                best = {lo, kT, nT, B, split != 0, cost};
                found = true;
              }
            }
          }
          if (nT == 1)
            break;
        }
      }
    }
    if (found)
      break;
  }
  if (!found)
    return S.fail("no tiling fits " + std::to_string(S.budget()) +
                  " bytes of local memory per lane");
  const uint32_t B = best.B;
  LocalTensor lBuf[2], rBuf[2], oBuf[2], bBuf[2];
  for (uint32_t b = 0; b < B; ++b) {
    lBuf[b] = S.allocMatrix(best.mT, best.kT, DType::Int8).t;
    rBuf[b] = S.allocMatrix(best.kT, best.nT, DType::Int8).t;
    oBuf[b] = S.allocMatrix(best.mT * (best.split ? 4 : 1), best.nT, DType::Int8).t;
    if (sp.hasBias)
      bBuf[b] = S.allocMatrix(sp.biasRows, best.nT, DType::Int8).t;
  }
  if (!ctx.ok())
    return false;
  struct Step {
    uint32_t m0, mT, k0, kT, n0, nT;
    bool loadRight, loadBias, store;
    uint32_t lb, rb, ob, bb;
    PartialSum psum;
  };
  std::vector<Step> steps;
  uint32_t lp = 0, rp = 0, op = 0, bp = 0;
  for (uint32_t n0 = 0; n0 < N; n0 += best.nT) {
    bool firstOfN = true;
    for (uint32_t m0 = 0; m0 < M; m0 += best.mT) {
      for (uint32_t k0 = 0; k0 < K; k0 += best.kT) {
        Step s{};
        s.m0 = m0, s.mT = std::min(best.mT, M - m0);
        s.k0 = k0, s.kT = std::min(best.kT, K - k0);
        s.n0 = n0, s.nT = std::min(best.nT, N - n0);
        s.loadRight = best.split || firstOfN;
        s.loadBias = sp.hasBias && firstOfN;
        if (!steps.empty()) {
          lp = (lp + 1) % B;
          if (s.loadRight)
            rp = (rp + 1) % B;
          if (s.loadBias)
            bp = (bp + 1) % B;
        }
        s.lb = lp, s.rb = rp, s.ob = op, s.bb = bp;
        bool first = k0 == 0, last = k0 + best.kT >= K;
        s.psum = (first && last) ? PartialSum::None
                 : first         ? PartialSum::Write
                 : last          ? PartialSum::Final
                                 : PartialSum::Accumulate;
        s.store = last;
        steps.push_back(s);
        firstOfN = false;
      }
      op = (op + 1) % B;
    }
  }
  auto loads = [&](const Step &s) {
    if (s.loadRight) {
      LocalMatrix r = matView(ctx, rBuf[s.rb], s.kT, s.nT);
      if (sp.rightTransposed)
        ctx.loadMatrixTransposed(r, subMatrix(sp.right, s.n0, s.k0, s.nT, s.kT));
      else
        ctx.loadMatrix(r, subMatrix(sp.right, s.k0, s.n0, s.kT, s.nT));
    }
    if (s.loadBias)
      ctx.loadMatrix(matView(ctx, bBuf[s.bb], sp.biasRows, s.nT),
                     GlobalMatrix{sp.bias + s.n0, sp.biasRows, s.nT, N, DType::Int8});
    ctx.loadMatrix(matView(ctx, lBuf[s.lb], s.mT, s.kT),
                   subMatrix(sp.left, s.m0, s.k0, s.mT, s.kT));
  };
  auto compute = [&](const Step &s) {
    MatMulParams p;
    p.left = matView(ctx, lBuf[s.lb], s.mT, s.kT);
    p.right = matView(ctx, rBuf[s.rb], s.kT, s.nT);
    p.res = matView(ctx, oBuf[s.ob], s.mT * (best.split ? 4 : 1), s.nT);
    bool quant = s.psum == PartialSum::None || s.psum == PartialSum::Final;
    if (quant && sp.hasBias)
      p.bias = matView(ctx, bBuf[s.bb], sp.biasRows, s.nT);
    p.multiplier = quant ? sp.multiplier : 0;
    p.rshift = quant ? sp.rshift : 0;
    p.relu = quant && sp.relu;
    p.psum = s.psum;
    ctx.matmul(p);
    if (s.store) {
      LocalMatrix res = matView(ctx, oBuf[s.ob], s.mT, s.nT);
      ctx.storeMatrix(subMatrix(sp.output, s.m0, s.n0, s.mT, s.nT), res);
    }
  };
  if (B == 2 && !steps.empty())
    loads(steps[0]);
  for (size_t i = 0; i < steps.size() && ctx.ok(); ++i) {
    if (B == 2) {
      if (i + 1 < steps.size())
        loads(steps[i + 1]);
    } else {
      loads(steps[i]);
    }
    compute(steps[i]);
  }
  return ctx.ok();
}

bool checkMatrix(Scope &S, const GlobalMatrix &m, const char *role) {
  if (m.dtype != DType::Int8)
    return S.fail(std::string(role) + " must be int8");
  if (m.rows == 0 || m.cols == 0)
    return S.fail(std::string(role) + " is empty");
  return true;
}

} // namespace

bool emitFullyConnected(Context &ctx, const FullyConnectedLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "fully_connected", L, opts);
  if (!S.entered())
    return false;
  if (!checkMatrix(S, L.input, "the input") || !checkMatrix(S, L.output, "the output"))
    return false;
  if (L.input.rows != L.output.rows)
    return S.fail("input has " + std::to_string(L.input.rows) + " rows, output " +
                  std::to_string(L.output.rows));
  if (L.rshift > 31)
    return S.fail("rshift " + std::to_string(L.rshift) + " is out of range (0..31)");
  if (L.qdm && L.multiplier == 0)
    return S.fail("the QDM multiplier is 0");
  MmSpec sp;
  sp.left = L.input;
  uint32_t K = L.input.cols, N = L.output.cols;
  sp.rightTransposed = !L.filterTransposed;
  sp.right = L.filterTransposed ? GlobalMatrix::dense(L.filter, K, N, DType::Int8)
                                : GlobalMatrix::dense(L.filter, N, K, DType::Int8);
  sp.output = L.output;
  sp.hasBias = L.hasBias;
  sp.bias = L.bias;
  sp.biasRows = L.qdm ? 4 : 2;
  sp.multiplier = L.qdm ? L.multiplier : 0;
  sp.rshift = L.rshift;
  sp.relu = L.doRelu;
  runMatMul(S, sp);
  return S.finish();
}

bool emitMatMul(Context &ctx, const MatMulLayer &L, const EmitOptions &opts) {
  Scope S(ctx, "matmul", L, opts);
  if (!S.entered())
    return false;
  if (!checkMatrix(S, L.left, "left") || !checkMatrix(S, L.right, "right") ||
      !checkMatrix(S, L.output, "the output"))
    return false;
  if (L.left.cols != L.right.rows || L.left.rows != L.output.rows || L.right.cols != L.output.cols)
    return S.fail("shapes " + std::to_string(L.left.rows) + "x" + std::to_string(L.left.cols) +
                  " x " + std::to_string(L.right.rows) + "x" + std::to_string(L.right.cols) +
                  " -> " + std::to_string(L.output.rows) + "x" + std::to_string(L.output.cols) +
                  " do not agree");
  if (L.multiplier == 0 || L.rshift > 31)
    return S.fail("bad QDM pair (multiplier " + std::to_string(L.multiplier) + ", rshift " +
                  std::to_string(L.rshift) + ")");
  for (uint32_t b = 0; b < L.batch && ctx.ok(); ++b) {
    MmSpec sp;
    sp.left = L.left;
    sp.left.addr = L.left.addr + b * L.leftBatchStride;
    sp.right = L.right;
    sp.right.addr = L.right.addr + b * L.rightBatchStride;
    sp.output = L.output;
    sp.output.addr = L.output.addr + b * L.outputBatchStride;
    sp.multiplier = L.multiplier;
    sp.rshift = L.rshift;
    sp.relu = L.doRelu;
    runMatMul(S, sp);
    S.freeAll();
  }
  return S.finish();
}

} // namespace tpuc::kernel::layers
