// UnPooling as a TPU custom op (the guide's second example, SegNet's Upsample with a pooling
// mask). Operands: the tensor to unpool x (N, C, PH, PW) and the input of the max pooling whose
// mask Caffe would use, src (N, C, H, W). The op recomputes Caffe's argmax (the first maximum of
// each pooling window in raster order) and writes x there; every other output element is 0.
//   param: kernel_h/w, stride_h/w, pad_h/w, ceil_mode (the pooling geometry), unpool_h/w (the
//   output size), scale.
// INT8: the argmax is taken on src's int8 codes; x's codes are rescaled from x's threshold to the
// output's (quantizeInt8 adds rshift and m_i8 when the two differ) and scattered.
#include "cvi/CustomOp.h"
#include "tpuc/Arith.h"
#include "tpuc/kernel/Context.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace cvi {

namespace {

struct Geometry {
  int kh, kw, sh, sw, ph, pw, outH, outW;
  bool ceil;
};

// Caffe's pooled size (PoolingLayer::Reshape).
int pooledSize(int size, int kernel, int stride, int pad, bool ceil) {
  int span = size + 2 * pad - kernel;
  int out = (ceil ? int(std::ceil(float(span) / float(stride))) : span / stride) + 1;
  if (pad > 0 && (out - 1) * stride >= size + pad)
    --out;
  return out;
}

} // namespace

class UnPoolingOp : public CustomOp {
public:
  UnPoolingOp(OpParam &param) : CustomOp(param) {}

  void interpretFp32(std::vector<std::shared_ptr<std::vector<float>>> &operand_tensors,
                     std::vector<std::vector<int64_t>> &operand_shapes,
                     std::shared_ptr<std::vector<float>> &result_tensor,
                     std::vector<int64_t> &result_shape) override {
    unpool(operand_tensors, operand_shapes, result_tensor, result_shape);
  }

  // The same on int8 codes (comparisons and copies are exact on them), x first rescaled as the
  // TIU does it: sat8(round(x * m >> rshift)).
  void interpretInt8(std::vector<std::shared_ptr<std::vector<float>>> &operand_tensors,
                     std::vector<std::vector<int64_t>> &operand_shapes,
                     std::shared_ptr<std::vector<float>> &result_tensor,
                     std::vector<int64_t> &result_shape) override {
    std::vector<std::shared_ptr<std::vector<float>>> operands = operand_tensors;
    if (param.has("m_i8")) {
      int m = param.get<int8_t>("m_i8"), rshift = param.get<int8_t>("rshift");
      auto scaled = std::make_shared<std::vector<float>>(*operand_tensors[0]);
      for (float &v : *scaled)
        v = float(
            tpuc::arith::saturateInt8(tpuc::arith::roundingRightShift(int64_t(v) * m, rshift)));
      operands[0] = scaled;
    }
    unpool(operands, operand_shapes, result_tensor, result_shape);
  }

  // x's codes go to the output unchanged when the thresholds agree (threshold_overwrite =
  // "backward" or "forward"); otherwise qscale = thr_x / thr_out becomes (rshift, m) as in the
  // guide's LeakyRelu: the smallest rshift with qscale * 2^(rshift+1) >= 127, m = qscale *
  // 2^rshift.
  void quantizeInt8() override {
    setOpQuantPerchannel(false);
    double thresholdX = getPrevOpThreshold(0), thresholdY = getOpThreshold();
    if (std::fabs(thresholdX - thresholdY) < 1e-5 * std::min(thresholdX, thresholdY)) {
      setOpQuantParamType("NONE");
      return;
    }
    double qscale = thresholdX / thresholdY;
    int rshift = 0;
    while (rshift < 31 && qscale * std::ldexp(1.0, rshift + 1) < 127.0)
      ++rshift;
    int m = int(qscale * std::ldexp(1.0, rshift));
    if (m < 1 || m > 127)
      return reportError("scale " + std::to_string(qscale) + " has no int8 multiplier");
    param.put<int8_t>("rshift", int8_t(rshift));
    param.put<int8_t>("m_i8", int8_t(m));
    setOpQuantParamType("RSHIFT_AND_M_I8");
  }

  // 2x2/2 windows tiling the pooling input exactly (SegNet's case): per tile of rows, load src and
  // x, the window maximum m of the four strided views a00, a01, a10, a11, then for each position
  // in raster order sel = (a == m) and not taken, out = x * sel (x or 0), taken |= sel; store.
  void codeGenInt8(void *ctx, std::vector<std::vector<int64_t>> &operand_shapes,
                   std::vector<uint64_t> &operand_gaddrs, std::vector<int64_t> &result_shape,
                   uint64_t result_gaddr, int layer_id) override {
    using namespace tpuc::kernel;
    Geometry g;
    if (!geometry(operand_shapes, result_shape, g))
      return;
    const std::vector<int64_t> &xs = operand_shapes[0], &ss = operand_shapes[1];
    const uint32_t n = uint32_t(ss[0]), c = uint32_t(ss[1]), h = uint32_t(ss[2]),
                   w = uint32_t(ss[3]), oh = uint32_t(xs[2]), ow = uint32_t(xs[3]);
    if (g.kh != 2 || g.kw != 2 || g.sh != 2 || g.sw != 2 || g.ph != 0 || g.pw != 0 || h != 2 * oh ||
        w != 2 * ow || g.outH != int(h) || g.outW != int(w))
      return reportError("codeGenInt8 handles 2x2/2 windows without padding that tile an even "
                         "input exactly, unpooled to the input's size; got kernel " +
                         std::to_string(g.kh) + "x" + std::to_string(g.kw) + ", stride " +
                         std::to_string(g.sh) + "x" + std::to_string(g.sw) + ", input " +
                         std::to_string(h) + "x" + std::to_string(w));
    Context &k = kernelContext(ctx);
    k.setLayerId(uint32_t(layer_id));
    const GlobalAddr xAddr = GlobalAddr::fromGaddr(operand_gaddrs[0]);
    const GlobalAddr srcAddr = GlobalAddr::fromGaddr(operand_gaddrs[1]);
    const GlobalAddr outAddr = GlobalAddr::fromGaddr(result_gaddr);

    // The largest row tile whose seven buffers fit in local memory.
    auto need = [&](uint32_t rows) {
      return 2 * k.bytesPerLane(Shape{1, c, 2 * rows, w}, DType::Int8) +
             5 * k.bytesPerLane(Shape{1, c, rows, ow}, DType::Int8);
    };
    uint32_t th = oh;
    while (th > 1 && need(th) > k.lmemLargestFree())
      th = (th + 1) / 2;
    const Shape full{1, c, 2 * th, w}, half{1, c, th, ow};
    LocalTensor src = k.allocTensor(full, DType::Int8), out = k.allocTensor(full, DType::Int8);
    LocalTensor x = k.allocTensor(half, DType::Int8), m = k.allocTensor(half, DType::Int8);
    LocalTensor sel = k.allocTensor(half, DType::Int8), taken = k.allocTensor(half, DType::Int8);
    LocalTensor tmp = k.allocTensor(half, DType::Int8);
    auto rowsOf = [&](const LocalTensor &t, uint32_t rows, uint32_t cols) {
      return k.reinterpret(t, Shape{1, c, rows, cols}, k.defaultStrides(t.shape, DType::Int8),
                           DType::Int8);
    };
    // Position (dy, dx) of every window of a (1, c, 2 rows, w) tile as a (1, c, rows, ow) view.
    auto at = [&](const LocalTensor &t, uint32_t rows, uint32_t dy, uint32_t dx) {
      Strides s = k.defaultStrides(t.shape, DType::Int8);
      return k.reinterpret(t, Shape{1, c, rows, ow}, Strides{s.n, s.c, 2 * s.h, 2 * s.w},
                           DType::Int8, dy * s.h + dx * s.w);
    };
    for (uint32_t b = 0; b < n && k.ok(); ++b)
      for (uint32_t r0 = 0; r0 < oh && k.ok(); r0 += th) {
        const uint32_t rows = std::min(th, oh - r0);
        const uint64_t planeOffset = uint64_t(b) * c * h * w + uint64_t(2 * r0) * w;
        GlobalTensor srcTile{srcAddr + planeOffset, Shape{1, c, 2 * rows, w},
                             Strides{c * h * w, h * w, w, 1}, DType::Int8};
        GlobalTensor outTile{outAddr + planeOffset, Shape{1, c, 2 * rows, w},
                             Strides{c * h * w, h * w, w, 1}, DType::Int8};
        GlobalTensor xTile{xAddr + (uint64_t(b) * c * oh * ow + uint64_t(r0) * ow),
                           Shape{1, c, rows, ow}, Strides{c * oh * ow, oh * ow, ow, 1},
                           DType::Int8};
        LocalTensor s = rowsOf(src, 2 * rows, w), o = rowsOf(out, 2 * rows, w);
        LocalTensor xv = rowsOf(x, rows, ow), mv = rowsOf(m, rows, ow);
        LocalTensor sv = rowsOf(sel, rows, ow), tv = rowsOf(taken, rows, ow);
        LocalTensor tmpv = rowsOf(tmp, rows, ow);
        k.load(s, srcTile);
        k.load(xv, xTile);
        if (param.has("m_i8")) // x rescaled to the output's threshold
          k.mul(xv, xv, Operand::scalar(param.get<int8_t>("m_i8")),
                uint32_t(param.get<int8_t>("rshift")));
        k.max(mv, at(src, rows, 0, 0), at(src, rows, 0, 1));
        k.max(mv, mv, at(src, rows, 1, 0));
        k.max(mv, mv, at(src, rows, 1, 1));
        const uint32_t order[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
        for (int p = 0; p < 4; ++p) {
          k.ge(sv, at(src, rows, order[p][0], order[p][1]), mv); // a == m (a <= m)
          if (p == 0) {
            k.copyTiu(tv, sv);
          } else {
            k.bitXor(tmpv, tv, Operand::scalar(1)); // not taken
            k.bitAnd(sv, sv, tmpv);
            if (p < 3)
              k.bitOr(tv, tv, sv);
          }
          k.mul(at(out, rows, order[p][0], order[p][1]), xv, sv); // x * (0 or 1)
        }
        k.store(outTile, o);
      }
    k.free(tmp);
    k.free(taken);
    k.free(sel);
    k.free(m);
    k.free(x);
    k.free(out);
    k.free(src);
  }

private:
  bool geometry(const std::vector<std::vector<int64_t>> &shapes,
                const std::vector<int64_t> &resultShape, Geometry &g) {
    if (shapes.size() != 2 || shapes[0].size() != 4 || shapes[1].size() != 4) {
      reportError("unpooling takes x (N, C, PH, PW) and the pooling input (N, C, H, W)");
      return false;
    }
    g = {param.get<int32_t>("kernel_h"),      param.get<int32_t>("kernel_w"),
         param.get<int32_t>("stride_h"),      param.get<int32_t>("stride_w"),
         param.get<int32_t>("pad_h"),         param.get<int32_t>("pad_w"),
         param.get<int32_t>("unpool_h"),      param.get<int32_t>("unpool_w"),
         param.get<int32_t>("ceil_mode") != 0};
    const std::vector<int64_t> &x = shapes[0], &s = shapes[1];
    int oh = pooledSize(int(s[2]), g.kh, g.sh, g.ph, g.ceil);
    int ow = pooledSize(int(s[3]), g.kw, g.sw, g.pw, g.ceil);
    if (x[0] != s[0] || x[1] != s[1] || x[2] != oh || x[3] != ow) {
      reportError("x must have the pooled shape of the pooling input (" + std::to_string(oh) + "x" +
                  std::to_string(ow) + ")");
      return false;
    }
    if (resultShape != std::vector<int64_t>{x[0], x[1], g.outH, g.outW} || g.outH < s[2] ||
        g.outW < s[3]) {
      reportError("the result must be (N, C, unpool_h, unpool_w), at least the pooling input");
      return false;
    }
    return true;
  }

  // top[argmax of window (ph, pw)] = x[ph, pw] per plane, as Caffe's Upsample does with the mask.
  void unpool(std::vector<std::shared_ptr<std::vector<float>>> &operands,
              std::vector<std::vector<int64_t>> &shapes, std::shared_ptr<std::vector<float>> &out,
              std::vector<int64_t> &resultShape) {
    Geometry g;
    if (!geometry(shapes, resultShape, g))
      return;
    const int64_t planes = shapes[1][0] * shapes[1][1], h = shapes[1][2], w = shapes[1][3];
    const int64_t oh = shapes[0][2], ow = shapes[0][3];
    const float *x = operands[0]->data(), *src = operands[1]->data();
    float *y = out->data();
    std::fill(out->begin(), out->end(), 0.0f);
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          int64_t hs = i * g.sh - g.ph, ws = j * g.sw - g.pw;
          int64_t he = std::min(hs + g.kh, h), we = std::min(ws + g.kw, w);
          hs = std::max<int64_t>(hs, 0);
          ws = std::max<int64_t>(ws, 0);
          int64_t best = -1;
          for (int64_t yy = hs; yy < he; ++yy)
            for (int64_t xx = ws; xx < we; ++xx)
              if (best < 0 || src[p * h * w + yy * w + xx] > src[p * h * w + best])
                best = yy * w + xx;
          if (best >= 0) // Caffe's mask index (in the input plane) used in the output plane
            y[p * g.outH * g.outW + best] = x[p * oh * ow + i * ow + j];
        }
  }
};

RegisterCustomOp(unpooling, UnPoolingOp);

} // namespace cvi
