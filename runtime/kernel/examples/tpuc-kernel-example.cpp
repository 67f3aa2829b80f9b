//===- tpuc-kernel-example.cpp - worked examples and API checks -----------===//
//
// Compiled with -fno-exceptions -fno-rtti, like the compiler passes and plugins that use the API.
//
//   tpuc-kernel-example leaky-relu COUNT POS_M POS_RSHIFT NEG_M NEG_RSHIFT IN_REGION IN_OFFSET
//                       OUT_REGION OUT_OFFSET -o CMDBUF [--serial]
//       writes the command buffer of examples/LeakyRelu.h for COUNT int8 values.
//   tpuc-kernel-example api-checks
//       runs checks of the Context API (error handling, allocation, views, layouts) and prints
//       one "ok NAME" or "FAIL NAME: why" line each; exit code 0 when all pass.
//
//===----------------------------------------------------------------------===//
#include "LeakyRelu.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace tpuc::kernel;

namespace {

int usage() {
  std::fprintf(stderr, "usage: tpuc-kernel-example leaky-relu COUNT POS_M POS_RSHIFT NEG_M "
                       "NEG_RSHIFT IN_REGION IN_OFFSET OUT_REGION OUT_OFFSET -o CMDBUF "
                       "[--serial]\n       tpuc-kernel-example api-checks\n");
  return 2;
}

bool parseNumber(const char *s, long long &out) {
  char *end = nullptr;
  out = std::strtoll(s, &end, 0);
  return *s && !*end;
}

int leakyRelu(int argc, char **argv) {
  std::vector<long long> nums;
  const char *outPath = nullptr;
  bool serial = false;
  for (int i = 2; i < argc; ++i) {
    long long v;
    if (!std::strcmp(argv[i], "-o") && i + 1 < argc)
      outPath = argv[++i];
    else if (!std::strcmp(argv[i], "--serial"))
      serial = true;
    else if (parseNumber(argv[i], v))
      nums.push_back(v);
    else
      return usage();
  }
  if (nums.size() != 9 || !outPath)
    return usage();
  Context ctx(tpuc::runtime::ChipInfo::cv183x(),
              serial ? SyncMode::Serial : SyncMode::Dependencies);
  examples::LeakyReluQuant q;
  q.posMultiplier = static_cast<int8_t>(nums[1]);
  q.posRshift = static_cast<uint8_t>(nums[2]);
  q.negMultiplier = static_cast<int8_t>(nums[3]);
  q.negRshift = static_cast<uint8_t>(nums[4]);
  GlobalAddr in{static_cast<uint8_t>(nums[5]), static_cast<uint64_t>(nums[6])};
  GlobalAddr out{static_cast<uint8_t>(nums[7]), static_cast<uint64_t>(nums[8])};
  if (!examples::emitLeakyRelu(ctx, in, out, static_cast<uint64_t>(nums[0]), q)) {
    std::fprintf(stderr, "error: %s\n", ctx.error().c_str());
    return 1;
  }
  std::vector<uint8_t> buf = ctx.cmdbuf();
  FILE *f = std::fopen(outPath, "wb");
  if (!f || std::fwrite(buf.data(), 1, buf.size(), f) != buf.size()) {
    std::fprintf(stderr, "error: cannot write %s\n", outPath);
    if (f)
      std::fclose(f);
    return 2;
  }
  std::fclose(f);
  CmdStats s = ctx.stats();
  std::printf("{\"tiu\": %u, \"tdma\": %u, \"sync_points\": %u}\n", s.tiuCommands, s.tdmaCommands,
              s.syncPoints);
  return 0;
}

//===----------------------------------------------------------------------===//
// API checks
//===----------------------------------------------------------------------===//

struct Checks {
  int failures = 0;
  void expect(bool cond, const char *name, const std::string &why) {
    if (cond) {
      std::printf("ok %s\n", name);
    } else {
      std::printf("FAIL %s: %s\n", name, why.c_str());
      ++failures;
    }
  }
};

bool contains(const std::string &s, const char *part) { return s.find(part) != std::string::npos; }

int apiChecks() {
  Checks c;
  {
    Context ctx;
    LocalTensor a = ctx.allocTensor({1, 32, 4, 16}, DType::Int8);
    LocalTensor b = ctx.allocTensor({1, 32, 4, 16}, DType::Int8);
    c.expect(a.valid() && b.valid() && a.addr == 0 && b.addr == 64 && ctx.lmemUsed() == 128,
             "alloc-first-fit",
             "addresses " + std::to_string(a.addr) + ", " + std::to_string(b.addr));
    ctx.free(a);
    LocalTensor d = ctx.allocTensor({1, 1, 1, 16}, DType::Int8);
    c.expect(d.addr == 0 && ctx.lmemPeak() == 128, "alloc-reuse-freed",
             "address " + std::to_string(d.addr));
    LocalTensor big = ctx.allocTensor({2, 70, 3, 5}, DType::Int8);
    LocalTensor s = ctx.channelSlice(big, 40, 20);
    c.expect(ctx.startLane(s) == 8 && ctx.laneOffset(s) == ctx.laneOffset(big) + 16,
             "channel-slice",
             "lane " + std::to_string(ctx.startLane(s)) + " offset " +
                 std::to_string(ctx.laneOffset(s)));
    Shape m = ctx.matrixShape(4, 700, DType::Int8), mb = ctx.matrixShape(4, 300, DType::Bf16);
    Shape small = ctx.matrixShape(4, 10, DType::Int8);
    c.expect(m.w == 32 && m.c == 22 && mb.w == 16 && mb.c == 19 && small.w == 10 && small.c == 1,
             "matrix-shape", "unexpected default matrix split");
    LocalTensor h = ctx.allocTensor({1, 40, 3, 3}, DType::Int16);
    c.expect(h.planeStride == 32 && ctx.laneFootprint(h) == 32 + 16 + 9, "int16-planes",
             "plane stride " + std::to_string(h.planeStride));
    uint32_t need = ctx.bytesPerLane({1, 40, 3, 3}, DType::Int16);
    c.expect(need == 64 && ctx.lmemLargestFree() == 32768 - (ctx.laneOffset(h) + need), "sizes",
             "bytesPerLane " + std::to_string(need));
    c.expect(ctx.ok() && ctx.error().empty(), "no-error", ctx.error());
  }
  {
    Context ctx;
    LocalTensor a = ctx.allocTensor({1, 32, 4, 16}, DType::Int8);
    ctx.mul(a, a, a);
    CmdStats before = ctx.stats();
    LocalTensor huge = ctx.allocTensor({1, 32, 200, 200}, DType::Int8);
    c.expect(!huge.valid() && !ctx.ok() && contains(ctx.error(), "local memory overflow"),
             "overflow-recorded", ctx.error());
    std::string first = ctx.error();
    ctx.mul(a, a, a, 99); // would be another error; the first one stays
    LocalTensor after = ctx.allocTensor({1, 1, 1, 1}, DType::Int8);
    c.expect(ctx.error() == first && !after.valid() &&
                 ctx.stats().tiuCommands == before.tiuCommands && ctx.cmdbuf().empty(),
             "calls-after-error-do-nothing", ctx.error());
  }
  {
    Context ctx(*tpuc::runtime::ChipInfo::lookup("cv182x"));
    c.expect(!ctx.ok() && contains(ctx.error(), "only cv183x"), "unsupported-chip", ctx.error());
  }
  {
    ChannelQuant r[2] = {{-2, 0x40000001u, 7}, {5, 0x7FFFFFFFu, 0}};
    uint8_t buf[18];
    packChannelParams(r, 2, true, buf);
    const uint8_t want[18] = {0xFE, 0xFF, 0xFF, 0xFF, 0x01, 0,    0,    0x40, 7,
                              5,    0,    0,    0,    0xFF, 0xFF, 0xFF, 0x7F, 0};
    c.expect(std::memcmp(buf, want, 18) == 0, "pack-channel-params", "byte layout differs");
  }
  {
    Context ctx;
    GlobalAddr g = GlobalAddr::fromGaddr((uint64_t{3} << 40) | 0x1234);
    c.expect(g.region == 3 && g.offset == 0x1234, "gaddr-region", "fromGaddr split");
    LocalTensor t = ctx.allocTensor({1, 32, 1, 16}, DType::Int8);
    ctx.load(t, GlobalTensor::dense(g, {1, 32, 1, 16}, DType::Int8));
    std::vector<uint8_t> buf = ctx.cmdbuf();
    // cmd_hdr: magic, len, engine 2 (TDMA); src_base_reg_sel in word 3 bits 18:16; the address
    // field of word 12 holds the low 32 bits of 0x1_0000_0000 + offset, word 13 bits 31:24 the
    // high byte.
    auto word = [&](size_t i) {
      size_t o = 8 + 4 * i;
      return uint32_t{buf[o]} | uint32_t{buf[o + 1]} << 8 | uint32_t{buf[o + 2]} << 16 |
             uint32_t{buf[o + 3]} << 24;
    };
    bool good = buf.size() == 72 && buf[0] == 0xA5 && buf[1] == 64 && buf[2] == 2 &&
                ((word(3) >> 16) & 7) == 3 && word(12) == 0x1234 && (word(13) >> 24) == 1;
    c.expect(good, "global-address-encoding", "descriptor fields differ");
  }
  return c.failures ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc >= 2 && !std::strcmp(argv[1], "leaky-relu"))
    return leakyRelu(argc, argv);
  if (argc == 2 && !std::strcmp(argv[1], "api-checks"))
    return apiChecks();
  return usage();
}
