//===- CycleModel.cpp - timing of TIU and TDMA descriptors ----------------===//
#include "CycleModel.h"

#include "Tiu.h"

#include "tpuc/runtime/Error.h"

#include <algorithm>
#include <cmath>

namespace tpuc::runtime {

namespace {

uint64_t ceilDiv(uint64_t a, uint64_t b) { return b ? (a + b - 1) / b : 0; }
uint64_t alignDown(uint64_t v, uint64_t a) { return v / a * a; }
uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

//===----------------------------------------------------------------------===//
// TIU (§8.2)
//===----------------------------------------------------------------------===//

uint64_t tensorArithCycles(const TiuFieldValues &f, double base) {
  using T = TiuField;
  bool in8 = f[T::opt_opd0_int8] != 0;
  bool r8 = f[T::opt_res0_int8] != 0;
  double lat = 0;
  if (!f[T::tens_lookup]) {
    switch (static_cast<ArithKind>(f[T::tsk_eu_typ])) {
    case ArithKind::Mul:
      lat = (in8 ? 2.5 : 4.5) + (r8 ? 3 : 0);
      break;
    case ArithKind::Mac:
      lat = in8 ? 9 : 11;
      break;
    case ArithKind::Add:
    case ArithKind::Sub:
      lat = in8 ? 5 : (f[T::opt_opd1_const] ? 6.5 : 7);
      break;
    case ArithKind::Shift:
      lat = 4;
      break;
    case ArithKind::Copy:
      lat = in8 ? 2 : 4;
      break;
    default: // max, min, and, or, xor, ge, ...
      lat = in8 ? 3 : 5;
      break;
    }
  }
  lat += r8 ? 0 : 1;
  double writeLat = f[T::res0_c_str] % 16 == 0 ? 1.0 : 30.0 / 16.0;
  if (f[T::tens_lookup])
    return static_cast<uint64_t>(base * (f[T::opd1_h] + 3));
  if (f[T::tens_mdsum])
    return static_cast<uint64_t>(base * 3);
  return static_cast<uint64_t>(base * lat * writeLat);
}

} // namespace

uint64_t tiuCycles(const TiuFieldValues &f, const ChipInfo &chip) {
  using T = TiuField;
  const double eu = chip.eusPerLane;
  const uint64_t lanes = chip.lanes;
  bool bf16 = f[T::opd_typ] != 0;
  double aEu = bf16 ? eu / 2 : eu;
  bool q = f[T::opt_chl_quan] != 0;
  uint64_t start = f[T::res0_addr] / chip.lmemPerLane;
  uint64_t rn = f[T::res0_n], rc = f[T::res0_c], rh = f[T::res0_h], rw = f[T::res0_w];
  uint64_t k = f[T::opd1_h] * f[T::opd1_w];
  double xs = static_cast<double>(f[T::conv_op_x_str]);
  double xi = static_cast<double>(f[T::conv_opd0_x_ins0]);
  uint64_t post = q ? 31 : 12;
  uint64_t biasLat = (f[T::tsk_opd_num] == 3 && !q) ? 2 : 0;
  uint64_t srs = bf16 ? 2 : (q ? 1 : 4);
  static constexpr uint64_t kPsLat[4] = {0, 4, 4, 8};
  uint64_t psLat = kPsLat[f[T::ps32_md] & 3];
  constexpr uint64_t kSync = 41, kCmdLat = 26;
  uint64_t laneRounds = ceilDiv(start + rc, lanes);
  uint64_t pixels = static_cast<uint64_t>(std::ceil(static_cast<double>(rh * rw) / aEu));

  switch (static_cast<TiuTask>(f[T::tsk_typ])) {
  case TiuTask::Conv: {
    uint64_t ic = f[T::opd0_c];
    uint64_t chpc = (f[T::double_conv] && !bf16) ? 2 : 1;
    double fetch = std::ceil(((eu - 1) * xs / (xi + 1) + 1) / eu) + 1;
    uint64_t bubble = fetch > ic ? static_cast<uint64_t>(k * (fetch - ic)) : 0;
    uint64_t loop = k * ceilDiv(ic, chpc) + bubble + biasLat + srs + psLat;
    if (q && !bf16)
      loop = std::max<uint64_t>(loop, 16);
    return kSync + rn * laneRounds * pixels * loop + post;
  }
  case TiuTask::DepthwisePool: {
    auto kind = static_cast<PoolKind>(f[T::tsk_eu_typ]);
    if (kind == PoolKind::Depthwise) {
      uint64_t dsrs = (!bf16 || (k == 1 && !q)) ? 3 : srs;
      double fw = static_cast<double>(std::min<uint64_t>(rw, 16));
      double oh1 = rw >= 16 ? 1.0 : 16.0 / static_cast<double>(rw ? rw : 1);
      double misc = ((fw - 1) * xs / (xi + 1) + 1) / 16 * oh1 + 15.0 / 16;
      if (k == 1)
        misc = 1;
      uint64_t loop = static_cast<uint64_t>(k * misc);
      if (q)
        loop = std::max<uint64_t>(loop, 16);
      return rn * laneRounds * pixels * (loop + biasLat + dsrs) + post;
    }
    double units = kind == PoolKind::Avg ? aEu : eu;
    double t = (units - 1) * xs / (xi + 1) + 1;
    double misc = t / units + (t >= units ? (units - 1) / units : (t - 1) / units);
    misc = std::max(misc, 1.0);
    if (rh * rw == 1)
      misc = 1;
    if (kind == PoolKind::Avg) {
      uint64_t loop = static_cast<uint64_t>(k * misc);
      if (q)
        loop = std::max<uint64_t>(loop, 16);
      return rn * laneRounds * pixels * (loop + srs) + post;
    }
    return static_cast<uint64_t>(static_cast<double>(rn * laneRounds * pixels) * (k * misc + 2));
  }
  case TiuTask::MatMul: {
    uint64_t add = f[T::opt_res_add] ? 2 : 0;
    uint64_t wUnits = static_cast<uint64_t>(std::ceil(static_cast<double>(rw) / aEu));
    return kSync + rn * ceilDiv(rc, lanes) * wUnits * (f[T::opd1_n] + biasLat + srs + psLat + add) +
           post;
  }
  case TiuTask::TensorArith: {
    double base = static_cast<double>(rn * laneRounds * pixels);
    return tensorArithCycles(f, base) + kCmdLat + post;
  }
  }
  return kSync + post;
}

//===----------------------------------------------------------------------===//
// TDMA (§8.3)
//===----------------------------------------------------------------------===//

namespace {

constexpr uint64_t kFourKMask = 0xFFFFF000ull;

uint64_t granuleBytes(uint64_t addr, uint64_t size) {
  uint64_t a = alignDown(addr, 16), e = a + size;
  uint64_t A = alignUp(a, 64), E = alignUp(e, 64);
  uint64_t count = (a != A ? 1 : 0) + (E > A ? (E - A) / 64 : 0);
  return 64 * count;
}

/// Full bursts of `mb` bytes from `addr` over `len` bytes plus a 16-aligned remainder.
uint64_t burstRun(uint64_t addr, uint64_t len, uint64_t mb) {
  uint64_t total = 0, full = len / mb;
  for (uint64_t k = 0; k < full; ++k)
    total += granuleBytes(k ? alignDown(addr + k * mb, 16) : addr, mb);
  uint64_t r = alignUp(len % mb, 16);
  if (r)
    total += granuleBytes(full ? alignDown(addr + full * mb, 16) : addr, r);
  return total;
}

uint64_t burstBytes(uint64_t addr, uint64_t size, uint64_t mb) {
  if (size == 0)
    return 0;
  if ((addr & kFourKMask) != ((addr + size) & kFourKMask)) {
    uint64_t b = alignUp(addr, 4096), total = 0;
    if (addr != b)
      total += burstRun(addr, b - addr, mb);
    uint64_t tail = addr + size - b;
    uint64_t full = tail / mb;
    for (uint64_t k = 0; k < full; ++k)
      total += granuleBytes(b + k * mb, mb);
    uint64_t r = alignUp(tail % mb, 16);
    if (r)
      total += granuleBytes(alignDown(b + full * mb, 16), r);
    return total;
  }
  return burstRun(addr, addr + size - alignDown(addr, 16), mb);
}

struct Side {
  uint64_t addr, n, c, h, w, ns, cs, hs;
  unsigned es;
};

/// DRAM bytes of walking one global side in its contiguity class.
uint64_t sideBytes(const Side &s, bool hcont, bool ccont, uint64_t mb) {
  uint64_t hlast = s.hs * (s.h ? s.h - 1 : 0) + s.w * s.es;
  uint64_t clast = s.cs * (s.c ? s.c - 1 : 0) + hlast;
  uint64_t total = 0;
  if (ccont) {
    for (uint64_t n = 0; n < s.n; ++n)
      total += burstBytes(s.addr + n * s.ns, clast, mb);
  } else if (hcont) {
    for (uint64_t n = 0; n < s.n; ++n)
      for (uint64_t c = 0; c < s.c; ++c)
        total += burstBytes(s.addr + n * s.ns + c * s.cs, hlast, mb);
  } else {
    for (uint64_t n = 0; n < s.n; ++n)
      for (uint64_t c = 0; c < s.c; ++c)
        for (uint64_t h = 0; h < s.h; ++h)
          total += burstBytes(s.addr + n * s.ns + c * s.cs + h * s.hs, s.w * s.es, mb);
  }
  return total;
}

uint64_t sramCycles(const TdmaFieldValues &f) {
  using D = TdmaField;
  uint64_t es = f[D::dst_fmt] == 2 ? 2 : 1;
  uint64_t units = f[D::src_n] * f[D::dst_c];
  uint64_t dh = f[D::dst_h], dw = f[D::dst_w], dhs = f[D::dst_h_stride];
  if (dhs == dw)
    return units * ceilDiv(dhs * (dh ? dh - 1 : 0) + dw * es, 16);
  return units * dh * ceilDiv(dw * es, 16);
}

} // namespace

TdmaCost tdmaCost(const TdmaFieldValues &f) {
  using D = TdmaField;
  TdmaCost cost;
  auto dir = static_cast<TdmaDir>(f[D::trans_dir]);
  bool matrix = f[D::sys_dtype] != 0;
  unsigned spec = static_cast<unsigned>(f[D::spec_func]);
  unsigned md = static_cast<unsigned>(f[D::transpose_md]);
  if (dir == TdmaDir::L2L) {
    auto run = [&](uint64_t c, uint64_t h, uint64_t w, uint64_t hs, uint64_t es) {
      uint64_t hlast = hs * (h ? h - 1 : 0) + w * es;
      return hs == w ? f[D::src_n] * c * alignUp(hlast, 16)
                     : f[D::src_n] * c * h * alignUp(w * es, 16);
    };
    uint64_t ses = f[D::src_fmt] == 2 ? 2 : 1, des = f[D::dst_fmt] == 2 ? 2 : 1;
    cost.dramBytes = std::max(run(f[D::src_c], f[D::src_h], f[D::src_w], f[D::src_h_stride], ses),
                              run(f[D::dst_c], f[D::dst_h], f[D::dst_w], f[D::dst_h_stride], des));
    return cost;
  }
  cost.sramUnits = sramCycles(f);
  if (dir == TdmaDir::G2L && spec == 4)
    return cost; // constant fill: nothing read from DRAM
  if (dir == TdmaDir::G2L || dir == TdmaDir::G2G) {
    if (f[D::trans_fmt]) {
      cost.dramBytes = burstBytes(f[D::src_base_addr], f[D::src_n_stride], 256);
      return cost;
    }
    Side s{f[D::src_base_addr], f[D::src_n],        f[D::src_c],
           f[D::src_h],         f[D::src_w],        f[D::src_n_stride],
           f[D::src_c_stride],  f[D::src_h_stride], f[D::src_fmt] == 2 ? 2u : 1u};
    if (matrix) {
      s.h = 1;
      s.hs = s.cs;
      s.n = 1;
    }
    bool transpose = matrix && spec == 1 && md == 0;
    if (spec == 1 && (md == 1 || md == 2)) {
      uint64_t oldC = s.c;
      std::swap(s.c, s.w);
      s.hs = oldC;
      s.cs = s.hs * s.h;
    }
    bool hcont = !transpose && static_cast<uint32_t>(s.hs - s.w) <= 16;
    bool ccont = hcont && static_cast<uint32_t>(s.cs - s.w * s.h) <= 16;
    cost.dramBytes = sideBytes(s, hcont, ccont, 256);
    return cost;
  }
  // L2G
  if (f[D::trans_fmt]) {
    cost.dramBytes = burstBytes(f[D::dst_base_addr], f[D::src_n_stride], 256);
    return cost;
  }
  bool cwTranspose = spec == 1 && md == 3;
  Side d{f[D::dst_base_addr], f[D::src_n],        f[D::dst_c],
         f[D::dst_h],         f[D::dst_w],        f[D::dst_n_stride],
         f[D::dst_c_stride],  f[D::dst_h_stride], f[D::dst_fmt] == 2 ? 2u : 1u};
  if (matrix) {
    d.h = 1;
    d.hs = d.cs;
    d.n = 1;
  }
  if (spec == 1 && md == 0)
    d.n = f[D::src_c];
  bool hcont = !cwTranspose && d.hs == d.w * d.es;
  bool ccont = hcont && d.cs == d.w * d.h * d.es;
  cost.dramBytes = sideBytes(d, hcont, ccont, cwTranspose ? 128 : 256);
  return cost;
}

uint64_t tdmaCycles(const TdmaFieldValues &f, const ChipInfo &chip) {
  TdmaCost c = tdmaCost(f);
  double dram = static_cast<double>(c.dramBytes) * chip.tpuClockMHz /
                (chip.dramClockMHz * chip.dramBytesPerCycle);
  double sram = static_cast<double>(c.sramUnits) / chip.eusPerLane;
  return static_cast<uint64_t>(std::ceil(std::max(dram, sram)));
}

const char *tdmaOpName(const TdmaFieldValues &f) {
  using D = TdmaField;
  auto dir = static_cast<TdmaDir>(f[D::trans_dir] & 3);
  static constexpr const char *kDir[4] = {"g2l", "l2g", "g2g", "l2l"};
  if (f[D::trans_fmt])
    return dir == TdmaDir::G2L   ? "g2l_general"
           : dir == TdmaDir::L2G ? "l2g_general"
                                 : "g2g_general";
  switch (f[D::spec_func]) {
  case 4:
    return dir == TdmaDir::G2L ? "fill_local" : "fill_global";
  case 1:
    if (f[D::sys_dtype])
      return "g2l_matrix_transpose";
    switch (f[D::transpose_md]) {
    case 0:
      return dir == TdmaDir::G2L ? "g2l_nc_transpose" : "l2g_nc_transpose";
    case 3:
      return "l2g_cw_transpose";
    default:
      return "g2l_chw_rotate";
    }
  default:
    break;
  }
  if (f[D::compress_en])
    return dir == TdmaDir::G2L ? (f[D::sys_dtype] ? "g2l_matrix_decompress" : "g2l_decompress")
                               : (f[D::sys_dtype] ? "l2g_matrix_compress" : "l2g_compress");
  if (f[D::sys_dtype])
    return dir == TdmaDir::G2L ? "g2l_matrix" : "l2g_matrix";
  return kDir[static_cast<unsigned>(dir)];
}

//===----------------------------------------------------------------------===//
// Two-engine timeline
//===----------------------------------------------------------------------===//

void CycleModel::addTiu(const TiuFieldValues &f, uint32_t index) {
  uint64_t cycles = tiuCycles(f, chip_);
  uint64_t start = std::max(tiuFree_, epoch_);
  if (uint32_t wait = static_cast<uint32_t>(f[TiuField::cmd_id_gdma])) {
    auto it = tdmaEnd_.find(wait);
    if (it != tdmaEnd_.end())
      start = std::max(start, it->second);
  }
  uint64_t end = start + cycles;
  tiuFree_ = end;
  tiuEnd_[static_cast<uint32_t>(f[TiuField::cmd_id_tpu])] = end;
  profile_.tiuBusyCycles += cycles;
  profile_.slices.push_back({DescriptorSlice::Engine::TIU, index,
                             static_cast<uint32_t>(f[TiuField::layer_info]), tiuOpName(f), start,
                             end});
}

void CycleModel::addTdma(const TdmaFieldValues &f, uint32_t index) {
  uint64_t cycles = tdmaCycles(f, chip_);
  uint64_t start = std::max(tdmaFree_, epoch_);
  if (uint32_t wait = static_cast<uint32_t>(f[TdmaField::wait_id_tpu])) {
    auto it = tiuEnd_.find(wait);
    if (it != tiuEnd_.end())
      start = std::max(start, it->second);
  }
  uint64_t end = start + cycles;
  tdmaFree_ = end;
  tdmaEnd_[static_cast<uint32_t>(f[TdmaField::cmd_id])] = end;
  profile_.tdmaBusyCycles += cycles;
  profile_.tdmaDramBytes += tdmaCost(f).dramBytes;
  profile_.slices.push_back({DescriptorSlice::Engine::TDMA, index,
                             static_cast<uint32_t>(f[TdmaField::layer_ID]), tdmaOpName(f), start,
                             end});
}

void CycleModel::addBarrier() {
  epoch_ = std::max({epoch_, tiuFree_, tdmaFree_});
  tiuEnd_.clear();
  tdmaEnd_.clear();
}

CmdbufProfile CycleModel::finish() {
  profile_.totalCycles = std::max({epoch_, tiuFree_, tdmaFree_});
  return std::move(profile_);
}

} // namespace tpuc::runtime
