//===- KernelScript.cpp - a line-oriented front end to tpuc::kernel::Context ----===//
#include "KernelScript.h"
#include "LayerScript.h"

#include <cstdlib>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace tpuc::kernel {

namespace {

struct ScriptError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int64_t parseInt(const std::string &s, const std::string &what) {
  char *end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 0);
  if (s.empty() || *end)
    throw ScriptError("bad integer '" + s + "' for " + what);
  return v;
}

uint32_t parseU32(const std::string &s, const std::string &what) {
  int64_t v = parseInt(s, what);
  if (v < 0 || v > 0xFFFFFFFFLL)
    throw ScriptError(what + " " + s + " is out of range");
  return static_cast<uint32_t>(v);
}

DType parseDType(const std::string &s) {
  if (s == "int8")
    return DType::Int8;
  if (s == "uint8")
    return DType::Uint8;
  if (s == "bf16")
    return DType::Bf16;
  if (s == "int16")
    return DType::Int16;
  throw ScriptError("unknown dtype '" + s + "' (int8, uint8, bf16, int16)");
}

std::vector<uint32_t> parseList(const std::string &s, size_t count, const std::string &what) {
  std::vector<uint32_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    out.push_back(parseU32(item, what));
  if (out.size() != count)
    throw ScriptError(what + " needs " + std::to_string(count) + " comma-separated values");
  return out;
}

PartialSum parsePsum(const std::string &s) {
  if (s == "none")
    return PartialSum::None;
  if (s == "final")
    return PartialSum::Final;
  if (s == "write")
    return PartialSum::Write;
  if (s == "acc")
    return PartialSum::Accumulate;
  throw ScriptError("unknown psum mode '" + s + "' (none, final, write, acc)");
}

Bf16Rounding parseRound(const std::string &s) {
  if (s == "even")
    return Bf16Rounding::NearestEven;
  if (s == "zero")
    return Bf16Rounding::TowardZero;
  throw ScriptError("unknown rounding '" + s + "' (even, zero)");
}

} // namespace

/// One tokenized line: positional words and key=value options (each option must be consumed).
struct ScriptLine {
  KernelScript &script;
  std::vector<std::string> pos;
  std::map<std::string, std::string> opts;

  ScriptLine(KernelScript &s, const std::string &text) : script(s) {
    std::stringstream ss(text);
    std::string tok;
    while (ss >> tok) {
      size_t eq = tok.find('=');
      if (eq != std::string::npos && eq > 0)
        opts[tok.substr(0, eq)] = tok.substr(eq + 1);
      else
        pos.push_back(tok);
    }
  }

  void arity(size_t n) const {
    if (pos.size() != n + 1)
      throw ScriptError("'" + pos[0] + "' takes " + std::to_string(n) + " arguments, got " +
                        std::to_string(pos.size() - 1));
  }
  const std::string &arg(size_t i) const { return pos.at(i + 1); }
  uint32_t u32(size_t i) const { return parseU32(arg(i), pos[0] + " argument"); }
  uint32_t optU32(const std::string &k, uint32_t def) {
    auto it = opts.find(k);
    if (it == opts.end())
      return def;
    uint32_t v = parseU32(it->second, k);
    opts.erase(it);
    return v;
  }
  int64_t optInt(const std::string &k, int64_t def) {
    auto it = opts.find(k);
    if (it == opts.end())
      return def;
    int64_t v = parseInt(it->second, k);
    opts.erase(it);
    return v;
  }
  std::string optStr(const std::string &k, const std::string &def) {
    auto it = opts.find(k);
    if (it == opts.end())
      return def;
    std::string v = it->second;
    opts.erase(it);
    return v;
  }
  bool has(const std::string &k) const { return opts.count(k) != 0; }
  void done() const {
    if (!opts.empty())
      throw ScriptError("unknown option '" + opts.begin()->first + "' for '" + pos[0] + "'");
  }

  template <typename T> const T &get(const std::string &name) const {
    auto it = script.objects.find(name);
    if (it == script.objects.end())
      throw ScriptError("unknown name '" + name + "'");
    if (const T *v = std::get_if<T>(&it->second))
      return *v;
    throw ScriptError("'" + name + "' has the wrong kind for '" + pos[0] + "'");
  }
  bool is(const std::string &name, size_t index) const {
    auto it = script.objects.find(name);
    return it != script.objects.end() && it->second.index() == index;
  }
  const LocalTensor &local(const std::string &name) const { return get<LocalTensor>(name); }
  LocalTensor optLocal(const std::string &k) {
    std::string n = optStr(k, "");
    return n.empty() ? LocalTensor{} : local(n);
  }
  Operand operand(const std::string &s) const {
    if (!s.empty() && s[0] == '#') {
      if (s.size() > 1 && s[1] == 'f')
        return Operand::scalarBf16(std::strtof(s.c_str() + 2, nullptr));
      return Operand::scalar(static_cast<int32_t>(parseInt(s.substr(1), "constant")));
    }
    return local(s);
  }
  void bind(const std::string &name, KernelScript::Object obj) { script.objects[name] = obj; }
};

bool KernelScript::run(const std::string &text, std::string &error) {
  // A line whose first word starts with '#' is a comment ('#' elsewhere marks constants).
  ScriptLine L(*this, text);
  if (L.pos.empty() || L.pos[0][0] == '#')
    return true;
  try {
    const std::string &cmd = L.pos[0];
    using Handler = std::function<void()>;
    auto winOf = [&](auto &p) {
      p.kh = L.optU32("kh", 1);
      p.kw = L.optU32("kw", 1);
      p.strideH = L.optU32("sh", 1);
      p.strideW = L.optU32("sw", 1);
      p.padTop = L.optU32("pt", 0);
      p.padBottom = L.optU32("pb", 0);
      p.padLeft = L.optU32("pl", 0);
      p.padRight = L.optU32("pr", 0);
      p.insH = L.optU32("ih", 0);
      p.insW = L.optU32("iw", 0);
      p.insLastH = L.optU32("ilh", 0);
      p.insLastW = L.optU32("ilw", 0);
      p.padValue = static_cast<int32_t>(L.optInt("pad", 0));
      p.rshift = L.optU32("rshift", 0);
    };
    auto convOf = [&](auto &p) {
      winOf(p);
      p.ofmap = L.local(L.optStr("ofmap", ""));
      p.ifmap = L.local(L.optStr("ifmap", ""));
      p.weight = L.local(L.optStr("weight", ""));
      p.bias = L.optLocal("bias");
      p.channelParams = L.optLocal("params");
      p.dilationH = L.optU32("dh", 1);
      p.dilationW = L.optU32("dw", 1);
      p.relu = L.optU32("relu", 0) != 0;
    };
    auto poolOf = [&](PoolParams &p) {
      winOf(p);
      p.ofmap = L.local(L.optStr("ofmap", ""));
      p.ifmap = L.local(L.optStr("ifmap", ""));
      p.avgMultiplier = L.optU32("mult", 1);
      p.avgScale = std::strtof(L.optStr("scale", "0").c_str(), nullptr);
    };
    auto elt3 = [&](auto fn) {
      return [&, fn] {
        L.arity(3);
        fn(L.local(L.arg(0)), L.local(L.arg(1)), L.operand(L.arg(2)));
      };
    };
    const std::map<std::string, Handler> handlers = {
        {"sync",
         [&] {
           L.arity(1);
           if (L.arg(0) != "auto" && L.arg(0) != "serial")
             throw ScriptError("sync is 'auto' or 'serial'");
           ctx.setSyncMode(L.arg(0) == "auto" ? SyncMode::Dependencies : SyncMode::Serial);
         }},
        {"layer",
         [&] {
           L.arity(1);
           ctx.setLayerId(L.u32(0));
         }},
        {"fence",
         [&] {
           L.arity(0);
           ctx.fence();
         }},
        {"alloc",
         [&] {
           L.arity(6);
           Shape s{L.u32(1), L.u32(2), L.u32(3), L.u32(4)};
           AllocOptions o;
           o.euAlign = L.optU32("eu", 1) != 0;
           o.bank = static_cast<int>(L.optInt("bank", -1));
           DType dt = parseDType(L.arg(5));
           if (L.has("strides")) {
             auto v = parseList(L.optStr("strides", ""), 4, "strides");
             L.bind(L.arg(0), ctx.allocTensor(s, dt, Strides{v[0], v[1], v[2], v[3]}, o));
           } else {
             L.bind(L.arg(0), ctx.allocTensor(s, dt, o));
           }
         }},
        {"matrix",
         [&] {
           L.arity(4);
           AllocOptions o;
           o.bank = static_cast<int>(L.optInt("bank", -1));
           L.bind(L.arg(0), ctx.allocMatrix(L.u32(1), L.u32(2), parseDType(L.arg(3)), o));
         }},
        {"conv_weight",
         [&] {
           L.arity(5);
           L.bind(L.arg(0), ctx.allocConvWeight(L.u32(1), L.u32(2), L.u32(3), L.u32(4),
                                                parseDType(L.optStr("dtype", "int8"))));
         }},
        {"dw_weight",
         [&] {
           L.arity(4);
           L.bind(L.arg(0), ctx.allocDepthwiseWeight(L.u32(1), L.u32(2), L.u32(3),
                                                     parseDType(L.optStr("dtype", "int8"))));
         }},
        {"conv_bias",
         [&] {
           L.arity(2);
           L.bind(L.arg(0), ctx.allocConvBias(L.u32(1), parseDType(L.optStr("dtype", "int8"))));
         }},
        {"chan_params",
         [&] {
           L.arity(3);
           L.bind(L.arg(0), ctx.allocChannelParams(L.u32(1), L.u32(2) != 0));
         }},
        {"lut_table",
         [&] {
           L.arity(1);
           L.bind(L.arg(0), ctx.allocLutTable());
         }},
        {"psum",
         [&] {
           L.arity(5);
           L.bind(L.arg(0), ctx.allocPartialSum({L.u32(1), L.u32(2), L.u32(3), L.u32(4)}));
         }},
        {"slice",
         [&] {
           L.arity(4);
           L.bind(L.arg(0), ctx.channelSlice(L.local(L.arg(1)), L.u32(2), L.u32(3)));
         }},
        {"view",
         [&] {
           L.arity(8);
           auto v = parseList(L.arg(7), 4, "strides");
           L.bind(L.arg(0),
                  ctx.reinterpret(L.local(L.arg(1)), {L.u32(2), L.u32(3), L.u32(4), L.u32(5)},
                                  {v[0], v[1], v[2], v[3]}, parseDType(L.arg(6)),
                                  L.optU32("offset", 0)));
         }},
        {"retype",
         [&] {
           L.arity(3);
           const LocalTensor &t = L.local(L.arg(1));
           L.bind(L.arg(0), ctx.reinterpret(t, t.shape, t.stride, parseDType(L.arg(2))));
         }},
        {"planes",
         [&] {
           L.arity(2);
           L.bind(L.arg(0), ctx.planes(L.local(L.arg(1))));
         }},
        {"mplanes",
         [&] {
           L.arity(2);
           L.bind(L.arg(0), ctx.matrixPlanes(L.get<LocalMatrix>(L.arg(1))));
         }},
        {"rows",
         [&] {
           L.arity(4);
           L.bind(L.arg(0), ctx.matrixRows(L.get<LocalMatrix>(L.arg(1)), L.u32(2), L.u32(3)));
         }},
        {"free",
         [&] {
           L.arity(1);
           if (L.is(L.arg(0), 1))
             ctx.free(L.get<LocalMatrix>(L.arg(0)));
           else
             ctx.free(L.local(L.arg(0)));
         }},
        {"global",
         [&] {
           L.arity(8);
           GlobalAddr a{static_cast<uint8_t>(L.u32(1)), L.u32(2)};
           GlobalTensor g = GlobalTensor::dense(a, {L.u32(3), L.u32(4), L.u32(5), L.u32(6)},
                                                parseDType(L.arg(7)));
           if (L.has("strides")) {
             auto v = parseList(L.optStr("strides", ""), 3, "strides");
             g.stride.n = v[0], g.stride.c = v[1], g.stride.h = v[2];
           }
           L.bind(L.arg(0), g);
         }},
        {"gmatrix",
         [&] {
           L.arity(6);
           GlobalAddr a{static_cast<uint8_t>(L.u32(1)), L.u32(2)};
           GlobalMatrix g = GlobalMatrix::dense(a, L.u32(3), L.u32(4), parseDType(L.arg(5)));
           g.rowStride = L.optU32("row_stride", g.rowStride);
           L.bind(L.arg(0), g);
         }},
        {"load",
         [&] {
           L.arity(2);
           ctx.load(L.local(L.arg(0)), L.get<GlobalTensor>(L.arg(1)),
                    parseRound(L.optStr("round", "even")));
         }},
        {"store",
         [&] {
           L.arity(2);
           ctx.store(L.get<GlobalTensor>(L.arg(0)), L.local(L.arg(1)),
                     parseRound(L.optStr("round", "even")));
         }},
        {"copy",
         [&] {
           L.arity(2);
           Bf16Rounding r = parseRound(L.optStr("round", "even"));
           if (L.is(L.arg(0), 2))
             ctx.copy(L.get<GlobalTensor>(L.arg(0)), L.get<GlobalTensor>(L.arg(1)));
           else
             ctx.copy(L.local(L.arg(0)), L.local(L.arg(1)), r);
         }},
        {"load_matrix",
         [&] {
           L.arity(2);
           ctx.loadMatrix(L.get<LocalMatrix>(L.arg(0)), L.get<GlobalMatrix>(L.arg(1)));
         }},
        {"load_matrix_t",
         [&] {
           L.arity(2);
           ctx.loadMatrixTransposed(L.get<LocalMatrix>(L.arg(0)), L.get<GlobalMatrix>(L.arg(1)));
         }},
        {"store_matrix",
         [&] {
           L.arity(2);
           ctx.storeMatrix(L.get<GlobalMatrix>(L.arg(0)), L.get<LocalMatrix>(L.arg(1)));
         }},
        {"load_nc",
         [&] {
           L.arity(2);
           ctx.loadTransposedNC(L.local(L.arg(0)), L.get<GlobalTensor>(L.arg(1)));
         }},
        {"store_nc",
         [&] {
           L.arity(2);
           ctx.storeTransposedNC(L.get<GlobalTensor>(L.arg(0)), L.local(L.arg(1)));
         }},
        {"store_cw",
         [&] {
           L.arity(2);
           ctx.storeTransposedCW(L.get<GlobalTensor>(L.arg(0)), L.local(L.arg(1)));
         }},
        {"load_hwc",
         [&] {
           L.arity(3);
           ctx.loadHwc(L.local(L.arg(0)), {static_cast<uint8_t>(L.u32(1)), L.u32(2)},
                       L.optU32("nstride", 0));
         }},
        {"fill",
         [&] {
           L.arity(2);
           int32_t v = static_cast<int32_t>(parseInt(L.arg(1), "fill value"));
           if (L.is(L.arg(0), 2))
             ctx.fill(L.get<GlobalTensor>(L.arg(0)), v);
           else
             ctx.fill(L.local(L.arg(0)), v);
         }},
        {"fill_bf16",
         [&] {
           L.arity(2);
           float v = std::strtof(L.arg(1).c_str(), nullptr);
           if (L.is(L.arg(0), 2))
             ctx.fillBf16(L.get<GlobalTensor>(L.arg(0)), v);
           else
             ctx.fillBf16(L.local(L.arg(0)), v);
         }},
        {"copy_bytes",
         [&] {
           L.arity(5);
           ctx.copyBytes({static_cast<uint8_t>(L.u32(0)), L.u32(1)},
                         {static_cast<uint8_t>(L.u32(2)), L.u32(3)}, L.u32(4));
         }},
        {"mul",
         [&] {
           L.arity(3);
           ctx.mul(L.local(L.arg(0)), L.local(L.arg(1)), L.operand(L.arg(2)), L.optU32("rshift", 0),
                   L.optU32("relu", 0) != 0);
         }},
        {"mul_qm",
         [&] {
           L.arity(3);
           ctx.mulQm(L.local(L.arg(0)), L.local(L.arg(1)), L.operand(L.arg(2)),
                     static_cast<int32_t>(L.optInt("m", 0)), L.optU32("rshift", 0),
                     L.optU32("relu", 0) != 0);
         }},
        {"mac",
         [&] {
           L.arity(3);
           ctx.mac(L.local(L.arg(0)), L.local(L.arg(1)), L.operand(L.arg(2)), L.optU32("lshift", 0),
                   L.optU32("rshift", 0), L.optU32("relu", 0) != 0, L.optU32("int8", 0) != 0);
         }},
        {"add",
         [&] {
           L.arity(3);
           ctx.add(L.local(L.arg(0)), L.local(L.arg(1)), L.operand(L.arg(2)), L.optU32("rshift", 0),
                   L.optU32("relu", 0) != 0);
         }},
        {"sub",
         [&] {
           L.arity(3);
           ctx.sub(L.local(L.arg(0)), L.local(L.arg(1)), L.local(L.arg(2)), L.optU32("rshift", 0),
                   L.optU32("relu", 0) != 0);
         }},
        {"max", elt3([&](auto &r, auto &a, auto b) { ctx.max(r, a, b); })},
        {"min", elt3([&](auto &r, auto &a, auto b) { ctx.min(r, a, b); })},
        {"and", elt3([&](auto &r, auto &a, auto b) { ctx.bitAnd(r, a, b); })},
        {"or", elt3([&](auto &r, auto &a, auto b) { ctx.bitOr(r, a, b); })},
        {"xor", elt3([&](auto &r, auto &a, auto b) { ctx.bitXor(r, a, b); })},
        {"ge", elt3([&](auto &r, auto &a, auto b) { ctx.ge(r, a, b); })},
        {"shift",
         [&] {
           L.arity(3);
           ctx.arithShift(L.local(L.arg(0)), L.local(L.arg(1)), L.local(L.arg(2)));
         }},
        {"copy_tiu",
         [&] {
           L.arity(2);
           ctx.copyTiu(L.local(L.arg(0)), L.local(L.arg(1)));
         }},
        {"lookup",
         [&] {
           L.arity(3);
           ctx.lookup(L.local(L.arg(0)), L.local(L.arg(1)), L.local(L.arg(2)));
         }},
        {"conv",
         [&] {
           L.arity(0);
           ConvParams p;
           convOf(p);
           p.psum = parsePsum(L.optStr("psum", "none"));
           L.done();
           ctx.conv(p);
         }},
        {"depthwise",
         [&] {
           L.arity(0);
           DepthwiseParams p;
           convOf(p);
           L.done();
           ctx.depthwise(p);
         }},
        {"max_pool",
         [&] {
           L.arity(0);
           PoolParams p;
           poolOf(p);
           L.done();
           ctx.maxPool(p);
         }},
        {"avg_pool",
         [&] {
           L.arity(0);
           PoolParams p;
           poolOf(p);
           L.done();
           ctx.avgPool(p);
         }},
        {"min_pool",
         [&] {
           L.arity(0);
           PoolParams p;
           poolOf(p);
           L.done();
           ctx.minPool(p);
         }},
        {"matmul",
         [&] {
           L.arity(0);
           MatMulParams p;
           p.res = L.get<LocalMatrix>(L.optStr("res", ""));
           p.left = L.get<LocalMatrix>(L.optStr("left", ""));
           p.right = L.get<LocalMatrix>(L.optStr("right", ""));
           std::string bias = L.optStr("bias", "");
           if (!bias.empty())
             p.bias = L.get<LocalMatrix>(bias);
           p.rshift = L.optU32("rshift", 0);
           p.lshift = L.optU32("lshift", 0);
           p.relu = L.optU32("relu", 0) != 0;
           p.addResult = L.optU32("add", 0) != 0;
           p.multiplier = static_cast<int32_t>(L.optInt("m", 0));
           p.psum = parsePsum(L.optStr("psum", "none"));
           L.done();
           ctx.matmul(p);
         }},
    };
    auto it = handlers.find(cmd);
    if (it != handlers.end()) {
      it->second();
    } else if (cmd.rfind("layer_", 0) == 0) {
      // Whole INT8 layers of tpuc/kernel/Layers.h (LayerScript.cpp).
      L.arity(0);
      LayerScriptLookup lookup{[&](const std::string &n) { return L.get<GlobalTensor>(n); },
                               [&](const std::string &n) { return L.get<GlobalMatrix>(n); }};
      if (!runLayerCommand(ctx, cmd, L.opts, lookup))
        throw ScriptError("unknown layer kind '" + cmd + "'");
    } else {
      throw ScriptError("unknown command '" + cmd + "'");
    }
    L.done();
  } catch (const std::exception &e) {
    error = e.what();
    return false;
  }
  return true;
}

std::map<std::string, uint32_t> KernelScript::localAddresses() const {
  std::map<std::string, uint32_t> out;
  for (const auto &[name, obj] : objects) {
    if (const auto *t = std::get_if<LocalTensor>(&obj))
      out[name] = t->addr;
    else if (const auto *m = std::get_if<LocalMatrix>(&obj))
      out[name] = m->t.addr;
  }
  return out;
}

} // namespace tpuc::kernel
