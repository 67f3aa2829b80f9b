//===- LayerScript.cpp - `layer_<kind>` commands of kernel scripts ---------===//
//
// Emits one whole INT8 layer of tpuc/kernel/Layers.h from a kernel-script line. Operands are the
// names of `global` / `gmatrix` declarations; weight-like operands are REGION:OFFSET addresses;
// lists are comma-separated. The grammar is in docs/kernel-api.md ("Layer kernels").
//
//===----------------------------------------------------------------------===//
#include "LayerScript.h"

#include "tpuc/kernel/LayerGroup.h"
#include "tpuc/kernel/Layers.h"

#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace tpuc::kernel {

namespace {

using namespace layers;

struct Args {
  std::map<std::string, std::string> &opts;
  const LayerScriptLookup &lookup;
  const std::string &cmd;

  std::string take(const std::string &k) {
    auto it = opts.find(k);
    if (it == opts.end())
      throw std::runtime_error("'" + cmd + "' needs " + k + "=");
    std::string v = it->second;
    opts.erase(it);
    return v;
  }
  std::string takeOr(const std::string &k, const std::string &def) {
    return opts.count(k) ? take(k) : def;
  }
  static int64_t toInt(const std::string &s, const std::string &what) {
    char *end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 0);
    if (s.empty() || *end)
      throw std::runtime_error("bad integer '" + s + "' for " + what);
    return v;
  }
  int64_t i64(const std::string &k, int64_t def) { return opts.count(k) ? toInt(take(k), k) : def; }
  uint32_t u32(const std::string &k, uint32_t def) {
    int64_t v = i64(k, def);
    if (v < 0 || v > 0xFFFFFFFFLL)
      throw std::runtime_error(k + " is out of range");
    return static_cast<uint32_t>(v);
  }
  bool flag(const std::string &k, bool def) { return i64(k, def ? 1 : 0) != 0; }
  float f32(const std::string &k) {
    std::string s = take(k);
    char *end = nullptr;
    float v = std::strtof(s.c_str(), &end);
    if (s.empty() || *end)
      throw std::runtime_error("bad number '" + s + "' for " + k);
    return v;
  }
  std::vector<std::string> words(const std::string &s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ','))
      out.push_back(item);
    return out;
  }
  std::vector<int64_t> ints(const std::string &k) {
    std::vector<int64_t> out;
    if (!opts.count(k))
      return out;
    for (const std::string &w : words(take(k)))
      out.push_back(toInt(w, k));
    return out;
  }
  std::array<uint32_t, 4> quad(const std::string &k, std::array<uint32_t, 4> def) {
    if (!opts.count(k))
      return def;
    auto v = ints(k);
    if (v.size() != 4)
      throw std::runtime_error(k + " needs 4 comma-separated values");
    return {uint32_t(v[0]), uint32_t(v[1]), uint32_t(v[2]), uint32_t(v[3])};
  }
  GlobalAddr addr(const std::string &k) {
    std::string s = take(k);
    size_t colon = s.find(':');
    if (colon == std::string::npos)
      throw std::runtime_error(k + " must be REGION:OFFSET, got '" + s + "'");
    int64_t r = toInt(s.substr(0, colon), k), off = toInt(s.substr(colon + 1), k);
    if (r < 0 || r > 7 || off < 0)
      throw std::runtime_error(k + " address '" + s + "' is out of range");
    return {static_cast<uint8_t>(r), static_cast<uint64_t>(off)};
  }
  GlobalAddr addrOr(const std::string &k) { return opts.count(k) ? addr(k) : GlobalAddr{}; }
  GlobalTensor tensor(const std::string &k) { return lookup.tensor(take(k)); }
  GlobalMatrix matrix(const std::string &k) { return lookup.matrix(take(k)); }
  void base(LayerBase &b) {
    b.name = takeOr("name", cmd);
    b.layerId = u32("id", 0);
  }
  EmitOptions options() {
    EmitOptions o;
    o.lmemBudget = u32("budget", 0);
    o.doubleBuffer = flag("db", true);
    return o;
  }
};

/// Between `layer_group_begin` and `layer_group_end`, groupable layers are collected (their
/// `keep=1` option marks an output used after the group) instead of emitted.
struct GroupCollector {
  bool active = false;
  LayerGroup group;
  EmitOptions opts;
};
GroupCollector &collector() {
  static GroupCollector c;
  return c;
}

template <typename L, typename F>
void emitOrCollect(Context &ctx, Args &a, const L &l, const EmitOptions &o, F emit) {
  GroupCollector &c = collector();
  if (!c.active) {
    emit(ctx, l, o);
    return;
  }
  c.group.add(l, a.flag("keep", false));
}

} // namespace

bool runLayerCommand(Context &ctx, const std::string &cmd, std::map<std::string, std::string> &opts,
                     const LayerScriptLookup &lookup) {
  Args a{opts, lookup, cmd};
  std::string kind = cmd.substr(6); // after "layer_"
  if (kind == "group_begin") {
    GroupCollector &c = collector();
    if (c.active)
      throw std::runtime_error("layer_group_begin inside a group");
    c = GroupCollector{};
    c.active = true;
    c.group.name = a.takeOr("name", "group");
    c.opts = a.options();
    return true;
  }
  if (kind == "group_end") {
    GroupCollector &c = collector();
    if (!c.active || c.group.layers.empty())
      throw std::runtime_error("layer_group_end without a group of layers");
    c.active = false;
    emitLayerGroup(ctx, c.group, c.opts);
    return true;
  }
  if (collector().active && kind != "conv2d" && kind != "pool" && kind != "eltwise" &&
      kind != "lut" && kind != "leaky_relu")
    throw std::runtime_error("'" + cmd + "' cannot be a member of a layer group");
  if (kind == "conv2d") {
    Conv2dLayer l;
    a.base(l);
    l.input = a.tensor("input");
    l.output = a.tensor("output");
    l.filter = a.addr("filter");
    l.group = a.u32("group", 1);
    l.kh = a.u32("kh", 1), l.kw = a.u32("kw", 1);
    l.strideH = a.u32("sh", 1), l.strideW = a.u32("sw", 1);
    l.dilationH = a.u32("dh", 1), l.dilationW = a.u32("dw", 1);
    l.padTop = a.u32("pt", 0), l.padBottom = a.u32("pb", 0);
    l.padLeft = a.u32("pl", 0), l.padRight = a.u32("pr", 0);
    l.insH = a.u32("ih", 0), l.insW = a.u32("iw", 0);
    l.padValue = static_cast<int32_t>(a.i64("pad", 0));
    l.doRelu = a.flag("relu", false);
    l.perChannel = a.flag("per_channel", true);
    l.chanParam = a.addrOr("chan_param");
    l.chanParamHasBias = a.flag("chan_bias", true);
    l.hasBias = a.opts.count("bias") != 0;
    l.bias = a.addrOr("bias");
    l.rshift = a.u32("rshift", 0);
    EmitOptions o = a.options();
    emitOrCollect(ctx, a, l, o, emitConv2d);
  } else if (kind == "fc") {
    FullyConnectedLayer l;
    a.base(l);
    l.input = a.matrix("input");
    l.output = a.matrix("output");
    l.filter = a.addr("filter");
    l.filterTransposed = a.flag("transposed", false);
    l.hasBias = a.opts.count("bias") != 0;
    l.bias = a.addrOr("bias");
    l.qdm = a.flag("qdm", true);
    l.multiplier = static_cast<int32_t>(a.i64("m", 0));
    l.rshift = a.u32("rshift", 0);
    l.doRelu = a.flag("relu", false);
    EmitOptions o = a.options();
    emitFullyConnected(ctx, l, o);
  } else if (kind == "matmul") {
    MatMulLayer l;
    a.base(l);
    l.left = a.matrix("left");
    l.right = a.matrix("right");
    l.output = a.matrix("output");
    l.batch = a.u32("batch", 1);
    l.leftBatchStride = static_cast<uint64_t>(a.i64("lbs", 0));
    l.rightBatchStride = static_cast<uint64_t>(a.i64("rbs", 0));
    l.outputBatchStride = static_cast<uint64_t>(a.i64("obs", 0));
    l.multiplier = static_cast<int32_t>(a.i64("m", 0));
    l.rshift = a.u32("rshift", 0);
    l.doRelu = a.flag("relu", false);
    EmitOptions o = a.options();
    emitMatMul(ctx, l, o);
  } else if (kind == "pool") {
    Pool2dLayer l;
    a.base(l);
    std::string k = a.take("kind");
    if (k != "max" && k != "avg")
      throw std::runtime_error("pool kind is 'max' or 'avg'");
    l.kind = k == "max" ? PoolKind::Max : PoolKind::Avg;
    l.input = a.tensor("input");
    l.output = a.tensor("output");
    l.kh = a.u32("kh", 1), l.kw = a.u32("kw", 1);
    l.strideH = a.u32("sh", 1), l.strideW = a.u32("sw", 1);
    l.padTop = a.u32("pt", 0), l.padBottom = a.u32("pb", 0);
    l.padLeft = a.u32("pl", 0), l.padRight = a.u32("pr", 0);
    l.multiplier = a.u32("m", 1);
    l.rshift = a.u32("rshift", 0);
    l.doRelu = a.flag("relu", false);
    EmitOptions o = a.options();
    emitOrCollect(ctx, a, l, o, emitPool2d);
  } else if (kind == "eltwise") {
    EltwiseLayer l;
    a.base(l);
    std::string k = a.take("kind");
    if (k != "add" && k != "max" && k != "min")
      throw std::runtime_error("eltwise kind is 'add', 'max' or 'min'");
    l.kind = k == "add" ? EltwiseKind::Add : k == "max" ? EltwiseKind::Max : EltwiseKind::Min;
    for (const std::string &n : a.words(a.take("inputs")))
      l.inputs.push_back(lookup.tensor(n));
    l.output = a.tensor("output");
    for (int64_t m : a.ints("m"))
      l.multipliers.push_back(static_cast<int32_t>(m));
    l.rshift = a.u32("rshift", 0);
    l.doRelu = a.flag("relu", false);
    EmitOptions o = a.options();
    emitOrCollect(ctx, a, l, o, emitEltwise);
  } else if (kind == "eltwise_mul") {
    EltwiseMulLayer l;
    a.base(l);
    l.a = a.tensor("a");
    l.b = a.tensor("b");
    l.output = a.tensor("output");
    l.multiplier = static_cast<int32_t>(a.i64("m", 0));
    l.rshift = a.u32("rshift", 0);
    l.doRelu = a.flag("relu", false);
    EmitOptions o = a.options();
    emitEltwiseMul(ctx, l, o);
  } else if (kind == "lut") {
    LutLayer l;
    a.base(l);
    l.input = a.tensor("input");
    l.output = a.tensor("output");
    l.table = a.addr("table");
    EmitOptions o = a.options();
    emitOrCollect(ctx, a, l, o, emitLut);
  } else if (kind == "leaky_relu") {
    LeakyReluLayer l;
    a.base(l);
    l.input = a.tensor("input");
    l.output = a.tensor("output");
    l.mPos = static_cast<int32_t>(a.i64("mpos", 1));
    l.rPos = a.u32("rpos", 0);
    l.mNeg = static_cast<int32_t>(a.i64("mneg", 0));
    l.rNeg = a.u32("rneg", 0);
    EmitOptions o = a.options();
    emitOrCollect(ctx, a, l, o, emitLeakyRelu);
  } else if (kind == "prelu") {
    PReluLayer l;
    a.base(l);
    l.input = a.tensor("input");
    l.output = a.tensor("output");
    l.slope = a.addr("slope");
    l.mPos = static_cast<int32_t>(a.i64("mpos", 1));
    l.rPos = a.u32("rpos", 0);
    l.rNeg = a.u32("rneg", 0);
    EmitOptions o = a.options();
    emitPRelu(ctx, l, o);
  } else if (kind == "concat") {
    ConcatLayer l;
    a.base(l);
    for (const std::string &n : a.words(a.take("inputs")))
      l.inputs.push_back(lookup.tensor(n));
    l.output = a.tensor("output");
    l.axis = a.u32("axis", 1);
    for (int64_t m : a.ints("m"))
      l.multipliers.push_back(static_cast<int32_t>(m));
    for (int64_t r : a.ints("rshifts"))
      l.rshifts.push_back(static_cast<uint32_t>(r));
    l.doRelu = a.flag("relu", false);
    EmitOptions o = a.options();
    emitConcat(ctx, l, o);
  } else if (kind == "upsample") {
    UpsampleLayer l;
    a.base(l);
    l.input = a.tensor("input");
    l.output = a.tensor("output");
    l.scaleH = a.u32("sh", 2), l.scaleW = a.u32("sw", 2);
    EmitOptions o = a.options();
    emitUpsample(ctx, l, o);
  } else if (kind == "permute") {
    PermuteLayer l;
    a.base(l);
    l.input = a.tensor("input");
    l.output = a.tensor("output");
    l.order = a.quad("order", {0, 1, 2, 3});
    EmitOptions o = a.options();
    emitPermute(ctx, l, o);
  } else if (kind == "reshape") {
    ReshapeLayer l;
    a.base(l);
    l.input = a.tensor("input");
    l.output = a.tensor("output");
    EmitOptions o = a.options();
    emitReshape(ctx, l, o);
  } else if (kind == "slice") {
    SliceLayer l;
    a.base(l);
    l.input = a.tensor("input");
    l.output = a.tensor("output");
    l.offsets = a.quad("offsets", {0, 0, 0, 0});
    l.steps = a.quad("steps", {1, 1, 1, 1});
    EmitOptions o = a.options();
    emitSlice(ctx, l, o);
  } else if (kind == "pad") {
    PadLayer l;
    a.base(l);
    l.input = a.tensor("input");
    l.output = a.tensor("output");
    l.padsBegin = a.quad("begin", {0, 0, 0, 0});
    l.padsEnd = a.quad("end", {0, 0, 0, 0});
    l.constVal = static_cast<int32_t>(a.i64("value", 0));
    EmitOptions o = a.options();
    emitPad(ctx, l, o);
  } else if (kind == "dequant") {
    DequantLayer l;
    a.base(l);
    l.input = a.tensor("input");
    l.output = a.addr("output");
    l.threshold = a.f32("threshold");
    EmitOptions o = a.options();
    emitDequant(ctx, l, o);
  } else {
    return false;
  }
  return true;
}

} // namespace tpuc::kernel
