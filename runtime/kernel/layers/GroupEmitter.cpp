//===- GroupEmitter.cpp - layer groups sliced along H in local memory ------===//
//
// See tpuc/kernel/LayerGroup.h. Planning: the group's graph is built from the layers' DDR
// addresses; for a slice height R of the last layer's output, the row range every tensor needs
// in each slice is derived backwards (each window's halo, clamped at the image border, which
// becomes the slice's padding). A plan (buffer sets, weights resident or per slice, R) is checked
// by emitting it into a scratch Context of the same chip; the first plan that emits without error
// is emitted into the real Context. When no plan works, the longest prefix of the group that does
// is emitted and the rest planned again; a single layer falls back to its layer kernel.
//
//===----------------------------------------------------------------------===//
#include "tpuc/kernel/LayerGroup.h"

#include "LayerCommon.h"

#include <algorithm>

namespace tpuc::kernel::layers {

using namespace detail;

namespace {

enum class Kind : uint8_t { Conv, Pool, Elt, Leaky, Lut };

struct Node {
  const GroupLayer *L = nullptr;
  Kind kind = Kind::Conv;
  std::vector<int> ins; // tensor ids
  int out = -1;
};

struct TInfo {
  GlobalTensor g;
  int producer = -1; // node index, -1: loaded from DDR
  bool keep = false;
};

struct Graph {
  std::vector<Node> nodes;
  std::vector<TInfo> tensors;
};

const LayerBase &baseOf(const GroupLayer &l) {
  return *std::visit([](const auto &x) -> const LayerBase * { return &x; }, l);
}

bool sameAddr(const GlobalAddr &a, const GlobalAddr &b) {
  return a.region == b.region && a.offset == b.offset;
}

std::vector<GlobalTensor> inputsOf(const GroupLayer &l) {
  if (auto *c = std::get_if<Conv2dLayer>(&l))
    return {c->input};
  if (auto *p = std::get_if<Pool2dLayer>(&l))
    return {p->input};
  if (auto *e = std::get_if<EltwiseLayer>(&l))
    return e->inputs;
  if (auto *r = std::get_if<LeakyReluLayer>(&l))
    return {r->input};
  return {std::get_if<LutLayer>(&l)->input};
}

GlobalTensor outputOf(const GroupLayer &l) {
  return std::visit([](const auto &x) { return x.output; }, l);
}

/// Input channels a convolution (not depthwise) computes with: the double-rate convolution needs
/// an even count of at least 4, so fewer or odd input channels are padded with channels that
/// meet zero weights (as the convolution layer kernel does).
uint32_t paddedIc(const GroupLayer &l) {
  auto *c = std::get_if<Conv2dLayer>(&l);
  if (!c || c->group != 1)
    return 0;
  uint32_t ic = c->input.shape.c;
  return ic < 4 || ic % 2 ? std::max(4u, ic + ic % 2) : ic;
}

/// Builds the graph of layers [begin, end) with the keep flags of the whole group plus the
/// tensors read by layers at or after `end` (`all`).
bool buildGraph(const LayerGroup &grp, size_t begin, size_t end, Graph &g, std::string &why) {
  g = Graph{};
  for (size_t i = begin; i < end; ++i) {
    const GroupLayer &l = grp.layers[i];
    Node n;
    n.L = &l;
    n.kind = std::holds_alternative<Conv2dLayer>(l)      ? Kind::Conv
             : std::holds_alternative<Pool2dLayer>(l)    ? Kind::Pool
             : std::holds_alternative<EltwiseLayer>(l)   ? Kind::Elt
             : std::holds_alternative<LeakyReluLayer>(l) ? Kind::Leaky
                                                         : Kind::Lut;
    for (const GlobalTensor &in : inputsOf(l)) {
      int found = -1;
      for (int t = static_cast<int>(g.tensors.size()) - 1; t >= 0 && found < 0; --t)
        if (g.tensors[t].producer >= 0 && sameAddr(g.tensors[t].g.addr, in.addr))
          found = t;
      if (found < 0)
        for (int t = 0; t < static_cast<int>(g.tensors.size()) && found < 0; ++t)
          if (g.tensors[t].producer < 0 && sameAddr(g.tensors[t].g.addr, in.addr) &&
              g.tensors[t].g.shape == in.shape && g.tensors[t].g.stride == in.stride)
            found = t;
      if (found >= 0 && !(g.tensors[found].g.shape == in.shape)) {
        why =
            "an input of '" + baseOf(l).name + "' has another shape than the tensor at its address";
        return false;
      }
      if (found < 0) {
        g.tensors.push_back({in, -1, false});
        found = static_cast<int>(g.tensors.size()) - 1;
      }
      n.ins.push_back(found);
    }
    g.tensors.push_back({outputOf(l), static_cast<int>(g.nodes.size()), grp.keep[i]});
    n.out = static_cast<int>(g.tensors.size()) - 1;
    g.nodes.push_back(n);
  }
  // Outputs read by later layers of the whole group are kept too.
  for (size_t j = end; j < grp.layers.size(); ++j)
    for (const GlobalTensor &in : inputsOf(grp.layers[j]))
      for (TInfo &t : g.tensors)
        if (t.producer >= 0 && sameAddr(t.g.addr, in.addr))
          t.keep = true;
  g.tensors[g.nodes.back().out].keep = true;
  // Every layer but the last must feed a later layer of the group (the rows each slice computes
  // are derived from the last layer's rows).
  for (size_t k = 0; k + 1 < g.nodes.size(); ++k) {
    bool used = false;
    for (size_t m = k + 1; m < g.nodes.size() && !used; ++m)
      for (int t : g.nodes[m].ins)
        used = used || t == g.nodes[k].out;
    if (!used) {
      why = "'" + baseOf(*g.nodes[k].L).name + "' feeds no later layer of the group";
      return false;
    }
  }
  // A convolution with padded input channels reads channels past its input: the input must be
  // loaded from DDR into a buffer of the padded channel count and read by no other layer.
  for (const Node &n : g.nodes) {
    uint32_t icPad = paddedIc(*n.L);
    if (icPad == 0 || icPad == g.tensors[n.ins[0]].g.shape.c)
      continue;
    int t = n.ins[0];
    int readers = 0;
    for (const Node &m : g.nodes)
      readers += static_cast<int>(std::count(m.ins.begin(), m.ins.end(), t));
    if (g.tensors[t].producer >= 0 || readers != 1) {
      why = "'" + baseOf(*n.L).name + "' pads its input channels; its input must come from DDR";
      return false;
    }
  }
  const uint32_t n0 = g.tensors[0].g.shape.n;
  for (const TInfo &t : g.tensors) {
    if (t.g.dtype != DType::Int8 || t.g.shape.n != n0 || t.g.stride.w > 1) {
      why = "tensors of one batch size, int8 and contiguous rows are required";
      return false;
    }
  }
  return true;
}

/// Row ranges of one slice.
struct Range {
  int64_t lo = 0, hi = 0;
  bool empty() const { return hi <= lo; }
};

struct Window {
  uint32_t kh = 1, sh = 1, dh = 1, padTop = 0;
};

Window windowOf(const Node &n) {
  if (auto *c = std::get_if<Conv2dLayer>(n.L))
    return {c->kh, c->strideH, c->dilationH, c->padTop};
  if (auto *p = std::get_if<Pool2dLayer>(n.L))
    return {p->kh, p->strideH, 1, p->padTop};
  return {};
}

struct Slice {
  uint32_t n = 0;
  std::vector<Range> rows;   // per tensor
  std::vector<Range> stores; // per tensor: rows stored in this slice
};

/// Slices of `R` output rows of the last layer; false when some window sees no input row or a
/// kept tensor would not be stored completely.
bool makeSlices(const Graph &g, uint32_t R, std::vector<Slice> &slices) {
  slices.clear();
  const TInfo &last = g.tensors[g.nodes.back().out];
  const uint32_t N = last.g.shape.n, OH = last.g.shape.h;
  std::vector<int64_t> mark(g.tensors.size());
  for (uint32_t n = 0; n < N; ++n) {
    std::fill(mark.begin(), mark.end(), 0);
    for (uint32_t a = 0; a < OH; a += R) {
      Slice s;
      s.n = n;
      s.rows.assign(g.tensors.size(), Range{});
      s.stores.assign(g.tensors.size(), Range{});
      s.rows[g.nodes.back().out] = {a, std::min<int64_t>(OH, int64_t{a} + R)};
      for (int k = static_cast<int>(g.nodes.size()) - 1; k >= 0; --k) {
        const Node &nd = g.nodes[k];
        Range o = s.rows[nd.out];
        if (o.empty())
          continue;
        Window w = windowOf(nd);
        for (int t : nd.ins) {
          int64_t H = g.tensors[t].g.shape.h;
          int64_t r0 = o.lo * w.sh - w.padTop;
          int64_t r1 = (o.hi - 1) * w.sh - w.padTop + int64_t{w.dh} * (w.kh - 1) + 1;
          r0 = std::max<int64_t>(0, r0), r1 = std::min<int64_t>(H, r1);
          if (r1 <= r0)
            return false;
          Range &in = s.rows[t];
          in = in.empty() ? Range{r0, r1} : Range{std::min(in.lo, r0), std::max(in.hi, r1)};
        }
      }
      for (size_t t = 0; t < g.tensors.size(); ++t) {
        if (!g.tensors[t].keep || s.rows[t].empty())
          continue;
        if (s.rows[t].lo > mark[t])
          return false; // a gap in the stored rows
        if (s.rows[t].hi > mark[t]) {
          s.stores[t] = {mark[t], s.rows[t].hi};
          mark[t] = s.rows[t].hi;
        }
      }
      slices.push_back(std::move(s));
    }
    for (size_t t = 0; t < g.tensors.size(); ++t)
      if (g.tensors[t].keep && mark[t] != g.tensors[t].g.shape.h)
        return false;
  }
  return true;
}

/// Whether a tensor stored by the group may overwrite DDR bytes that a later slice still loads.
bool ddrOverlap(const Graph &g) {
  auto extent = [](const GlobalTensor &t) {
    uint64_t last = uint64_t{t.shape.n - 1} * t.stride.n + uint64_t{t.shape.c - 1} * t.stride.c +
                    uint64_t{t.shape.h - 1} * t.stride.h + t.shape.w;
    return std::pair<uint64_t, uint64_t>{t.addr.offset, t.addr.offset + last};
  };
  for (const TInfo &s : g.tensors) {
    if (!s.keep)
      continue;
    auto es = extent(s.g);
    for (const TInfo &l : g.tensors) {
      if (l.producer >= 0 || l.g.addr.region != s.g.addr.region)
        continue;
      auto el = extent(l.g);
      if (es.first < el.second && el.first < es.second)
        return true;
    }
  }
  return false;
}

struct Plan {
  uint32_t rows = 0;
  uint32_t bufs = 1;
  bool resident = true;
  /// > 0: convolutions (not depthwise) of more output channels run in tiles of this many output
  /// channels, each tile's weights loaded into one of two buffers while the other tile computes.
  uint32_t ocTile = 0;
};

bool groupable(const Node &n, std::string &why) {
  why = groupUnsupported(*n.L);
  return why.empty();
}

/// Emits the sliced group with `plan` into ctx. Returns ctx.ok() (and false with nothing emitted
/// for a plan that cannot be expressed).
bool emitPlan(Context &ctx, const Graph &g, const Plan &plan, uint32_t budget,
              uint32_t *sliceCount) {
  std::vector<Slice> slices;
  if (!makeSlices(g, plan.rows, slices))
    return false;
  if (slices.size() > 1 && ddrOverlap(g))
    return false;
  if (sliceCount)
    *sliceCount = static_cast<uint32_t>(slices.size());
  const uint32_t lanes = ctx.lanes();
  const size_t T = g.tensors.size();
  std::vector<uint32_t> maxRows(T, 0);
  for (const Slice &s : slices)
    for (size_t t = 0; t < T; ++t)
      if (!s.rows[t].empty())
        maxRows[t] =
            std::max<uint32_t>(maxRows[t], static_cast<uint32_t>(s.rows[t].hi - s.rows[t].lo));

  std::vector<LocalTensor> owned;
  auto alloc = [&](const Shape &s, DType dt) {
    AllocOptions o;
    LocalTensor t = ctx.allocTensor(s, dt, o);
    owned.push_back(t);
    return t;
  };
  auto freeAll = [&]() {
    for (auto it = owned.rbegin(); it != owned.rend(); ++it)
      if (it->valid() && ctx.ok())
        ctx.free(*it);
    owned.clear();
  };
  const uint32_t used0 = ctx.lmemUsed();
  auto overBudget = [&]() { return ctx.lmemUsed() - used0 > budget; };

  // Tensor buffers: Int16 for an add of several inputs (its low plane is the int8 result).
  const uint32_t B = plan.bufs;
  std::vector<std::array<LocalTensor, 2>> buf(T);
  std::vector<bool> wide(T, false);
  for (const Node &n : g.nodes)
    if (auto *e = std::get_if<EltwiseLayer>(n.L))
      wide[n.out] = e->kind == EltwiseKind::Add && e->inputs.size() > 1;
  std::vector<uint32_t> chans(T, 0); // padded channel counts of convolution inputs
  for (const Node &n : g.nodes)
    chans[n.ins[0]] = std::max(chans[n.ins[0]], paddedIc(*n.L));
  for (size_t t = 0; t < T; ++t) {
    if (maxRows[t] == 0)
      continue;
    const Shape &s = g.tensors[t].g.shape;
    uint32_t sets = (g.tensors[t].producer < 0 || g.tensors[t].keep) ? B : 1;
    uint32_t c = std::max(s.c, chans[t]);
    for (uint32_t b = 0; b < sets; ++b)
      buf[t][b] = alloc({1, c, maxRows[t], s.w}, wide[t] ? DType::Int16 : DType::Int8);
    if (sets == 1)
      buf[t][1] = buf[t][0];
  }
  // Weights, parameters, tables, temporaries.
  struct NodeBufs {
    LocalTensor w[2], p[2], table, tmp;
    uint32_t ocT = 0, tiles = 1; // output channels per weight tile, tile count
  };
  std::vector<NodeBufs> nb(g.nodes.size());
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node &n = g.nodes[k];
    if (auto *c = std::get_if<Conv2dLayer>(n.L)) {
      const Shape &in = c->input.shape, &out = c->output.shape;
      bool dw = c->group > 1;
      bool tiled = !dw && plan.ocTile > 0 && out.c > plan.ocTile;
      nb[k].ocT = tiled ? plan.ocTile : out.c;
      nb[k].tiles = ceilDiv(out.c, nb[k].ocT);
      for (uint32_t b = 0; b < (tiled ? 2u : 1u); ++b) {
        nb[k].w[b] =
            dw ? alloc({1, out.c, c->kh, c->kw}, DType::Int8)
               : ctx.allocConvWeight(std::max(in.c, paddedIc(*n.L)), nb[k].ocT, c->kh, c->kw);
        if (!dw)
          owned.push_back(nb[k].w[b]);
        if (c->perChannel)
          nb[k].p[b] = ctx.allocChannelParams(nb[k].ocT, c->chanParamHasBias);
        else if (c->hasBias)
          nb[k].p[b] = ctx.allocConvBias(nb[k].ocT);
        if (nb[k].p[b].valid())
          owned.push_back(nb[k].p[b]);
      }
      if (!tiled)
        nb[k].w[1] = nb[k].w[0], nb[k].p[1] = nb[k].p[0];
    } else if (std::holds_alternative<LutLayer>(*n.L)) {
      nb[k].table = ctx.allocLutTable();
      owned.push_back(nb[k].table);
    } else if (std::holds_alternative<LeakyReluLayer>(*n.L)) {
      const Shape &s = g.tensors[n.out].g.shape;
      nb[k].tmp = alloc({1, s.c, maxRows[n.out], s.w}, DType::Int8);
    }
  }
  if (!ctx.ok() || overBudget()) {
    freeAll();
    return false;
  }

  // Weights (output channels of tile j) of node k into buffer b; the lut table.
  auto loadTile = [&](size_t k, uint32_t j, uint32_t b) {
    const Node &n = g.nodes[k];
    ctx.setLayerId(baseOf(*n.L).layerId);
    if (auto *c = std::get_if<Conv2dLayer>(n.L)) {
      const Shape &in = c->input.shape, &out = c->output.shape;
      const uint32_t oc0 = j * nb[k].ocT, ocT = std::min(nb[k].ocT, out.c - oc0);
      const uint32_t kk = c->kh * c->kw, rounds = ceilDiv(ocT, lanes);
      if (c->group > 1) {
        Shape ws{1, out.c, c->kh, c->kw};
        ctx.load(view(ctx, nb[k].w[b], ws, DType::Int8),
                 GlobalTensor::dense(c->filter, ws, DType::Int8));
      } else {
        const uint32_t icW = std::max(in.c, paddedIc(*n.L));
        Shape ls{1, ocT, kk, in.c};
        LocalTensor w = view(ctx, nb[k].w[b], {1, ocT, 1, kk * icW}, DType::Int8, false);
        if (icW != in.c)
          ctx.fill(w, 0); // zero weights of the padding channels
        LocalTensor wl = ctx.reinterpret(w, ls, {w.stride.n, kk * icW, icW, 1}, DType::Int8);
        ctx.load(wl, GlobalTensor{c->filter + uint64_t{oc0} * kk * in.c,
                                  ls,
                                  {0, kk * in.c, in.c, 1},
                                  DType::Int8});
      }
      if (c->perChannel) {
        uint32_t rec = c->chanParamHasBias ? 9 : 5;
        Shape ps{1, ocT, 1, rec};
        LocalTensor p = ctx.reinterpret(nb[k].p[b], ps, {rec * rounds, rec, rec, 1}, DType::Uint8);
        ctx.load(p, GlobalTensor::dense(c->chanParam + uint64_t{oc0} * rec, ps, DType::Uint8));
      } else if (c->hasBias) {
        LocalTensor bt = nb[k].p[b];
        bt.shape = {1, ocT, 1, 1};
        bt.stride = {rounds, 1, 1, 1};
        bt.planeStride = rounds;
        ctx.load(bt, GlobalTensor::dense(c->bias + uint64_t{oc0} * 2, bt.shape, DType::Int16));
      }
    } else if (auto *l = std::get_if<LutLayer>(n.L)) {
      ctx.load(nb[k].table,
               GlobalTensor{l->table, {1, lanes, 16, 16}, {0, 0, 16, 1}, DType::Uint8});
    }
  };
  auto hasWeights = [&](size_t k) {
    return std::holds_alternative<Conv2dLayer>(*g.nodes[k].L) ||
           std::holds_alternative<LutLayer>(*g.nodes[k].L);
  };

  // The int8 view of rows [lo, hi) of tensor t in slice s (buffer set b). In each slice a buffer
  // holds the tensor's rows of the slice in the default EU-aligned layout of that row count (the
  // layout convolutions and pooling require); an Int16 buffer's low plane is its int8 value.
  auto rowsView = [&](size_t t, const Slice &s, uint32_t b, int64_t lo, int64_t hi,
                      uint32_t channels = 0) {
    const LocalTensor &full = buf[t][b];
    const Shape &gs = g.tensors[t].g.shape;
    const uint32_t c = channels ? channels : gs.c;
    Shape fs{1, c, static_cast<uint32_t>(s.rows[t].hi - s.rows[t].lo), gs.w};
    Shape vs{1, c, static_cast<uint32_t>(hi - lo), gs.w};
    uint32_t off = static_cast<uint32_t>((lo - s.rows[t].lo) * gs.w);
    LocalTensor base = full;
    if (wide[t]) {
      base.dtype = DType::Int8;
      base.planeStride = 0;
    }
    return ctx.reinterpret(base, vs, ctx.defaultStrides(fs, DType::Int8), DType::Int8, off);
  };
  auto bufSet = [&](size_t t, size_t si) {
    return (g.tensors[t].producer < 0 || g.tensors[t].keep) ? static_cast<uint32_t>(si % B) : 0u;
  };
  auto loadInputs = [&](size_t si) {
    const Slice &s = slices[si];
    for (size_t t = 0; t < T; ++t) {
      if (g.tensors[t].producer >= 0 || s.rows[t].empty())
        continue;
      // Loads belong to the first layer reading the tensor.
      for (const Node &n : g.nodes)
        if (std::find(n.ins.begin(), n.ins.end(), static_cast<int>(t)) != n.ins.end()) {
          ctx.setLayerId(baseOf(*n.L).layerId);
          break;
        }
      const Range &r = s.rows[t];
      LocalTensor v = rowsView(t, s, bufSet(t, si), r.lo, r.hi);
      ctx.load(v, subTensor(g.tensors[t].g, s.n, 0, static_cast<uint32_t>(r.lo), 0, v.shape));
    }
  };
  auto compute = [&](size_t si) {
    const Slice &s = slices[si];
    for (size_t k = 0; k < g.nodes.size() && ctx.ok(); ++k) {
      const Node &n = g.nodes[k];
      const Range o = s.rows[n.out];
      if (o.empty())
        continue;
      // Weights: loaded before the slices when resident (the first tile of a tiled convolution
      // too), else here.
      if (hasWeights(k) && !(plan.resident && (si == 0 || nb[k].tiles == 1)))
        loadTile(k, 0, 0);
      ctx.setLayerId(baseOf(*n.L).layerId);
      LocalTensor out = rowsView(n.out, s, bufSet(n.out, si), o.lo, o.hi);
      Window w = windowOf(n);
      // Input rows of a window layer and the slice's padding.
      // Rows [lo, hi) of the input the windows read, extended to the end of the slice's buffer
      // when that adds no output row (a view must end with the buffer to have the default layout
      // that convolutions and pooling require, e.g. a 1x1/2 projection next to a 3x3/2
      // convolution of the same input).
      int64_t ifmapLo = 0, ifmapHi = 0;
      auto inRows = [&](int t, uint32_t &pt, uint32_t &pb) {
        int64_t H = g.tensors[t].g.shape.h;
        int64_t dk = int64_t{w.dh} * (w.kh - 1) + 1;
        int64_t r0 = o.lo * w.sh - w.padTop;
        int64_t r1 = (o.hi - 1) * w.sh - w.padTop + dk;
        pt = static_cast<uint32_t>(std::max<int64_t>(0, -r0));
        pb = static_cast<uint32_t>(std::max<int64_t>(0, r1 - H));
        ifmapLo = std::max<int64_t>(0, r0), ifmapHi = std::min(H, r1);
        const Range &buffered = s.rows[t];
        if (pb == 0 && ifmapHi < buffered.hi &&
            (buffered.hi - ifmapLo + pt - dk) / w.sh + 1 == o.hi - o.lo)
          ifmapHi = buffered.hi;
        return rowsView(t, s, bufSet(t, si), ifmapLo, ifmapHi);
      };
      if (auto *c = std::get_if<Conv2dLayer>(n.L)) {
        uint32_t pt = 0, pb = 0;
        LocalTensor ifmap = inRows(n.ins[0], pt, pb);
        for (uint32_t j = 0; j < nb[k].tiles && ctx.ok(); ++j) {
          if (j + 1 < nb[k].tiles)
            loadTile(k, j + 1, (j + 1) % 2);
          ctx.setLayerId(baseOf(*n.L).layerId);
          const uint32_t b = j % 2, oc0 = j * nb[k].ocT;
          const uint32_t ocT = std::min(nb[k].ocT, out.shape.c - oc0);
          LocalTensor ofmap = nb[k].tiles == 1 ? out : ctx.channelSlice(out, oc0, ocT);
          const uint32_t rounds = ceilDiv(ocT, lanes);
          LocalTensor par, bia;
          if (c->perChannel) {
            uint32_t rec = c->chanParamHasBias ? 9 : 5;
            par = ctx.reinterpret(nb[k].p[b], {1, ocT, 1, rec}, {rec * rounds, rec, rec, 1},
                                  DType::Uint8);
          } else if (c->hasBias) {
            bia = nb[k].p[b];
            bia.shape = {1, ocT, 1, 1};
            bia.stride = {rounds, 1, 1, 1};
            bia.planeStride = rounds;
          }
          if (c->group > 1) {
            DepthwiseParams p;
            p.ofmap = ofmap, p.ifmap = ifmap;
            p.weight = view(ctx, nb[k].w[b], {1, ocT, c->kh, c->kw}, DType::Int8);
            p.bias = bia, p.channelParams = par;
            p.kh = c->kh, p.kw = c->kw, p.strideH = c->strideH, p.strideW = c->strideW;
            p.dilationH = c->dilationH, p.dilationW = c->dilationW;
            p.padTop = pt, p.padBottom = pb, p.padLeft = c->padLeft, p.padRight = c->padRight;
            p.padValue = c->padValue;
            p.rshift = c->perChannel ? 0 : c->rshift;
            p.relu = c->doRelu;
            ctx.depthwise(p);
          } else {
            ConvParams p;
            p.ofmap = ofmap, p.ifmap = ifmap;
            const uint32_t icW = std::max(c->input.shape.c, paddedIc(*n.L));
            if (icW != c->input.shape.c)
              p.ifmap = rowsView(n.ins[0], s, bufSet(n.ins[0], si), ifmapLo, ifmapHi, icW);
            p.weight = view(ctx, nb[k].w[b], {1, ocT, 1, c->kh * c->kw * icW}, DType::Int8, false);
            p.bias = bia, p.channelParams = par;
            p.kh = c->kh, p.kw = c->kw, p.strideH = c->strideH, p.strideW = c->strideW;
            p.dilationH = c->dilationH, p.dilationW = c->dilationW;
            p.padTop = pt, p.padBottom = pb, p.padLeft = c->padLeft, p.padRight = c->padRight;
            p.padValue = c->padValue;
            p.rshift = c->perChannel ? 0 : c->rshift;
            p.relu = c->doRelu;
            ctx.conv(p);
          }
        }
      } else if (auto *pl = std::get_if<Pool2dLayer>(n.L)) {
        PoolParams p;
        uint32_t pt = 0, pb = 0;
        p.ifmap = inRows(n.ins[0], pt, pb);
        p.ofmap = out;
        p.kh = pl->kh, p.kw = pl->kw, p.strideH = pl->strideH, p.strideW = pl->strideW;
        p.padTop = pt, p.padBottom = pb, p.padLeft = pl->padLeft, p.padRight = pl->padRight;
        if (pl->kind == PoolKind::Max) {
          ctx.maxPool(p);
        } else {
          p.padValue = 0;
          p.avgMultiplier = pl->multiplier;
          p.rshift = pl->rshift;
          ctx.avgPool(p);
        }
        if (pl->doRelu)
          ctx.max(out, out, Operand::scalar(0));
      } else if (auto *e = std::get_if<EltwiseLayer>(n.L)) {
        std::vector<LocalTensor> in;
        for (int t : n.ins)
          in.push_back(rowsView(t, s, bufSet(t, si), o.lo, o.hi));
        const size_t kn = in.size();
        if (e->kind == EltwiseKind::Add) {
          if (kn == 1) {
            ctx.mul(out, in[0], Operand::scalar(e->multipliers[0]), e->rshift, e->doRelu);
          } else {
            LocalTensor acc = out;
            acc.dtype = DType::Int16;
            acc.planeStride = buf[n.out][bufSet(n.out, si)].planeStride;
            ctx.mul(acc, in[0], Operand::scalar(e->multipliers[0]), 0);
            for (size_t i = 1; i + 1 < kn; ++i)
              ctx.mac(acc, in[i], Operand::scalar(e->multipliers[i]), 0, 0);
            ctx.mac(acc, in[kn - 1], Operand::scalar(e->multipliers[kn - 1]), 0, e->rshift,
                    e->doRelu, true);
          }
        } else {
          if (kn == 1)
            ctx.copyTiu(out, in[0]);
          for (size_t i = 1; i < kn; ++i) {
            const LocalTensor &a = i == 1 ? in[0] : out;
            if (e->kind == EltwiseKind::Max)
              ctx.max(out, a, in[i]);
            else
              ctx.min(out, a, in[i]);
          }
          if (e->doRelu)
            ctx.max(out, out, Operand::scalar(0));
        }
      } else if (auto *r = std::get_if<LeakyReluLayer>(n.L)) {
        LocalTensor in = rowsView(n.ins[0], s, bufSet(n.ins[0], si), o.lo, o.hi);
        LocalTensor pos = ctx.reinterpret(nb[k].tmp, out.shape, nb[k].tmp.stride, DType::Int8);
        ctx.max(pos, in, Operand::scalar(0));
        rescaleInt8(ctx, pos, r->mPos, r->rPos);
        ctx.min(out, in, Operand::scalar(0));
        ctx.mul(out, out, Operand::scalar(r->mNeg), r->rNeg);
        ctx.bitOr(out, pos, out);
      } else if (std::holds_alternative<LutLayer>(*n.L)) {
        LocalTensor in = rowsView(n.ins[0], s, bufSet(n.ins[0], si), o.lo, o.hi);
        ctx.lookup(out, in, nb[k].table);
      }
      // Store the new rows of a kept tensor.
      const Range st = s.stores[n.out];
      if (!st.empty()) {
        LocalTensor v = rowsView(n.out, s, bufSet(n.out, si), st.lo, st.hi);
        ctx.store(subTensor(g.tensors[n.out].g, s.n, 0, static_cast<uint32_t>(st.lo), 0, v.shape),
                  v);
      }
    }
  };

  // The first slice's inputs, then the weights in layer order: the transfers queue in order, so
  // the first layer starts as soon as its own operands are in and the later weights arrive while
  // it computes.
  if (!slices.empty())
    loadInputs(0);
  if (plan.resident)
    for (size_t k = 0; k < g.nodes.size(); ++k)
      if (hasWeights(k))
        loadTile(k, 0, 0);
  for (size_t si = 0; si < slices.size() && ctx.ok(); ++si) {
    if (B == 2) {
      if (si + 1 < slices.size())
        loadInputs(si + 1);
    } else if (si > 0) {
      loadInputs(si);
    }
    compute(si);
  }
  freeAll();
  return ctx.ok();
}

/// The plan to emit layers [begin, end) as one sliced group, or false.
bool findPlan(const Context &ctx, const LayerGroup &grp, size_t begin, size_t end, uint32_t budget,
              bool doubleBuffer, Graph &g, Plan &plan) {
  std::string why;
  if (!buildGraph(grp, begin, end, g, why))
    return false;
  for (const Node &n : g.nodes)
    if (!groupable(n, why))
      return false;
  (void)ctx;
  const uint32_t OH = g.tensors[g.nodes.back().out].g.shape.h;
  auto tryPlan = [&](const Plan &p) {
    Context scratch;
    return emitPlan(scratch, g, p, budget, nullptr);
  };
  // The largest slice height that works (binary search, checked by emission); fewer slices
  // mean less recomputation of the halo rows.
  auto largest = [&](uint32_t bufs, bool resident, uint32_t ocTile) {
    uint32_t lo = 0, hi = OH;
    while (lo < hi) {
      uint32_t mid = (lo + hi + 1) / 2;
      if (tryPlan({mid, bufs, resident, ocTile}))
        lo = mid;
      else
        hi = mid - 1;
    }
    // Not monotonic in rare cases (row ranges that see no input row): try small heights.
    for (uint32_t r = std::min<uint32_t>(OH, 8); lo == 0 && r >= 1; --r)
      if (tryPlan({r, bufs, resident, ocTile}))
        lo = r;
    return lo;
  };
  const uint32_t N = g.tensors[g.nodes.back().out].g.shape.n;
  for (bool resident : {true, false}) {
    // Whole weights first, then output-channel tiles of decreasing size; the plan with the
    // fewest slices wins (the earliest on ties).
    uint32_t r1 = 0, tile = 0;
    for (uint32_t t : {0u, 256u, 128u, 64u, 32u}) {
      uint32_t r = largest(1, resident, t);
      if (r > r1)
        r1 = r, tile = t;
      if (r1 == OH)
        break;
    }
    if (r1 == 0)
      continue;
    plan = {r1, 1, resident, tile};
    // Two buffer sets overlap the loads of the next slice (or image) with the computation; worth
    // it unless the slices must shrink much.
    bool several = N > 1 || r1 < OH;
    if (doubleBuffer && several) {
      uint32_t r2 = largest(2, resident, tile);
      if (r2 > 0 && uint64_t{r2} * 4 >= uint64_t{r1} * 3)
        plan = {r2, 2, resident, tile};
    }
    return true;
  }
  return false;
}

bool emitSingle(Context &ctx, const GroupLayer &l, const EmitOptions &opts) {
  if (auto *c = std::get_if<Conv2dLayer>(&l))
    return emitConv2d(ctx, *c, opts);
  if (auto *p = std::get_if<Pool2dLayer>(&l))
    return emitPool2d(ctx, *p, opts);
  if (auto *e = std::get_if<EltwiseLayer>(&l))
    return emitEltwise(ctx, *e, opts);
  if (auto *r = std::get_if<LeakyReluLayer>(&l))
    return emitLeakyRelu(ctx, *r, opts);
  return emitLut(ctx, *std::get_if<LutLayer>(&l), opts);
}

} // namespace

std::string groupUnsupported(const GroupLayer &layer) {
  const std::string name = "'" + baseOf(layer).name + "': ";
  if (auto *c = std::get_if<Conv2dLayer>(&layer)) {
    const Shape &in = c->input.shape, &out = c->output.shape;
    bool dw = c->group > 1 && c->group == in.c && c->group == out.c;
    if (c->group != 1 && !dw)
      return name + "grouped convolutions other than depthwise are emitted alone";
    if (c->insH || c->insW)
      return name + "convolutions with inserted zeros are emitted alone";
    if (c->input.dtype != DType::Int8 || c->output.dtype != DType::Int8 || c->kh == 0 ||
        c->strideH == 0 || c->dilationH == 0)
      return name + "invalid convolution";
    return "";
  }
  if (auto *e = std::get_if<EltwiseLayer>(&layer)) {
    if (e->inputs.empty() || e->multipliers.size() != e->inputs.size())
      return name + "eltwise without one multiplier per input";
    if (e->kind != EltwiseKind::Add)
      for (int32_t m : e->multipliers)
        if (m != 1 || e->rshift != 0)
          return name + "rescaled eltwise max/min is emitted alone";
    for (const GlobalTensor &t : e->inputs)
      if (!(t.shape == e->output.shape))
        return name + "eltwise inputs of another shape are emitted alone";
    return "";
  }
  if (auto *p = std::get_if<Pool2dLayer>(&layer))
    return p->kh == 0 || p->strideH == 0 ? name + "invalid pooling" : "";
  return "";
}

bool emitLayerGroup(Context &ctx, const LayerGroup &grp, const EmitOptions &opts,
                    GroupReport *report) {
  if (!ctx.ok())
    return false;
  GroupReport rep;
  if (grp.layers.size() != grp.keep.size()) {
    ctx.reportError("layer group '" + grp.name + "': one keep flag per layer is required");
    return false;
  }
  uint32_t budget = ctx.lmemLargestFree();
  if (opts.lmemBudget)
    budget = std::min(budget, opts.lmemBudget);
  const bool sliceable = ctx.lmemUsed() == 0;
  size_t begin = 0;
  while (begin < grp.layers.size() && ctx.ok()) {
    Graph g;
    Plan plan;
    size_t end = grp.layers.size();
    bool found = false;
    if (sliceable)
      for (; end > begin + 1; --end)
        if (findPlan(ctx, grp, begin, end, budget, opts.doubleBuffer, g, plan)) {
          found = true;
          break;
        }
    if (!found) {
      emitSingle(ctx, grp.layers[begin], opts);
      ++rep.singleLayers;
      begin += 1;
      continue;
    }
    uint32_t slices = 0;
    if (!emitPlan(ctx, g, plan, budget, &slices) && ctx.ok())
      ctx.reportError("layer group '" + grp.name + "': the plan checked for layers '" +
                      baseOf(grp.layers[begin]).name + "'..'" + baseOf(grp.layers[end - 1]).name +
                      "' could not be emitted");
    if (!ctx.ok())
      ctx.prefixError("layer group '" + grp.name + "': ");
    ++rep.parts;
    rep.slices += slices;
    rep.weightsResident = rep.weightsResident && plan.resident;
    begin = end;
  }
  if (report)
    *report = rep;
  return ctx.ok();
}

bool layerGroupFits(const LayerGroup &grp, const EmitOptions &opts) {
  Context scratch;
  Graph g;
  Plan plan;
  if (grp.layers.empty() || grp.layers.size() != grp.keep.size())
    return false;
  uint32_t budget = scratch.lmemLargestFree();
  if (opts.lmemBudget)
    budget = std::min(budget, opts.lmemBudget);
  return findPlan(scratch, grp, 0, grp.layers.size(), budget, opts.doubleBuffer, g, plan);
}

} // namespace tpuc::kernel::layers
