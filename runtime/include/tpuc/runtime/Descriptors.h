//===- Descriptors.h - CV183x TIU/TDMA descriptor field tables --*- C++ -*-===//
//
// The single source of truth for the layout of the two CV183x descriptor kinds:
//   * TIU  (compute engine): 112 bytes = 28 little-endian 32-bit words,
//   * TDMA (DMA engine):      64 bytes = 16 words,
// as they are stored in a cvimodel CMDBUF section (compiler order, before the loader's chunk
// reorder; cv183x-isa.md §1.2, §2.1, §3.1).
//
// Each field is {name, word, bit, width, reset} plus, for the few TDMA fields whose high part lives
// in another word, a second piece {hiWord, hiBit, hiWidth}. A piece may run past bit 31 into the
// next word (absolute bit = 32 * word + bit); the TIU map only has such contiguous pieces.
//
// The tables drive both decode (execution) and encode (the compiler's emitter):
//   TiuDesc d = TiuDesc::withResetValues();
//   d.set(TiuField::tsk_typ, 0);            // throws Error if the value does not fit the field
//   uint64_t c = d.get(TiuField::res0_c);
//   TiuFieldValues v = d.decode();          // every field at once, indexed by TiuField
//
// The field lists are X-macros so that tools (and the Python tests) can read them from this file.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/runtime/Error.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace tpuc::runtime {

// clang-format off
/// TIU descriptor fields: X(name, word, bit, width, reset). cv183x-isa.md §2.1.
#define TPUC_TIU_FIELDS(X)                                                                         \
  X(cmd_en, 0, 0, 1, 0)                                                                            \
  X(cmd_end, 0, 1, 1, 0)                                                                           \
  X(cmd_id_en, 0, 2, 1, 0)                                                                         \
  X(cmd_id_tpu, 0, 3, 16, 0)                                                                       \
  X(cmd_id_gdma, 0, 19, 16, 0)                                                                     \
  X(cmd_keep, 1, 3, 1, 0)                                                                          \
  X(cmd_intr_en, 1, 4, 1, 0)                                                                       \
  X(tsk_typ, 1, 5, 4, 0)                                                                           \
  X(tsk_eu_typ, 1, 9, 8, 0)                                                                        \
  X(tsk_opd_num, 1, 17, 2, 3)                                                                      \
  X(opt_right_shift, 1, 19, 5, 10)                                                                 \
  X(opt_left_shift, 1, 24, 5, 2)                                                                   \
  X(opt_shift_typ, 1, 29, 1, 1)                                                                    \
  X(opt_rshift_typ, 1, 30, 1, 1)                                                                   \
  X(opt_res_add, 1, 31, 1, 0)                                                                      \
  X(opt_relu, 2, 0, 1, 1)                                                                          \
  X(opt_left_tran, 2, 1, 1, 0)                                                                     \
  X(opt_chl_quan, 2, 2, 1, 0)                                                                      \
  X(tens_mdsum, 2, 3, 1, 0)                                                                        \
  X(tens_lookup, 2, 4, 1, 0)                                                                       \
  X(opt_res0_sign, 2, 5, 1, 0)                                                                     \
  X(opt_opd0_sign, 2, 6, 1, 0)                                                                     \
  X(opt_opd1_sign, 2, 7, 1, 1)                                                                     \
  X(opt_opd2_sign, 2, 8, 1, 1)                                                                     \
  X(opt_res0_int8, 2, 9, 1, 1)                                                                     \
  X(opt_opd0_int8, 2, 10, 1, 1)                                                                    \
  X(opt_opd1_int8, 2, 11, 1, 1)                                                                    \
  X(opt_opd2_int8, 2, 12, 1, 0)                                                                    \
  X(opt_opd0_const, 2, 13, 1, 0)                                                                   \
  X(opt_opd1_const, 2, 14, 1, 0)                                                                   \
  X(opt_opd2_const, 2, 15, 1, 0)                                                                   \
  X(short_nchwstr_same, 2, 16, 1, 0)                                                               \
  X(short_res0_str, 2, 17, 2, 0)                                                                   \
  X(short_opd0_str, 2, 19, 2, 0)                                                                   \
  X(short_opd1_str, 2, 21, 2, 0)                                                                   \
  X(short_opd2_str, 2, 23, 2, 0)                                                                   \
  X(conv_opd0_x_ins0, 2, 25, 4, 0)                                                                 \
  X(conv_opd0_y_ins0, 2, 29, 4, 0)                                                                 \
  X(conv_opd0_x_ins0_last, 3, 1, 4, 0)                                                             \
  X(conv_opd0_y_ins0_last, 3, 5, 4, 0)                                                             \
  X(conv_opd1_x_ins0, 3, 9, 4, 0)                                                                  \
  X(conv_opd1_y_ins0, 3, 13, 4, 0)                                                                 \
  X(opd0_ins_val, 3, 17, 8, 0)                                                                     \
  X(ps32_md, 3, 25, 2, 0)                                                                          \
  X(double_conv, 3, 27, 1, 0)                                                                      \
  X(rsvd0, 3, 28, 4, 0)                                                                            \
  X(res0_n, 4, 0, 12, 1)                                                                           \
  X(res0_c, 4, 12, 12, 1)                                                                          \
  X(res0_h, 4, 24, 12, 1)                                                                          \
  X(res0_w, 5, 4, 12, 16)                                                                          \
  X(res0_addr, 5, 16, 24, 0)                                                                       \
  X(opd0_addr, 6, 8, 24, 0)                                                                        \
  X(opd1_addr, 7, 0, 16, 0)                                                                        \
  X(rsvd1, 7, 16, 16, 0)                                                                           \
  X(opd2_addr, 8, 0, 16, 0)                                                                        \
  X(opd0_c, 8, 16, 12, 1)                                                                          \
  X(opd0_h, 8, 28, 12, 1)                                                                          \
  X(opd0_w, 9, 8, 12, 16)                                                                          \
  X(opd1_h, 9, 20, 12, 1)                                                                          \
  X(opd1_w, 10, 0, 12, 16)                                                                         \
  X(conv_opd0_up_pad, 10, 12, 4, 0)                                                                \
  X(conv_opd0_dn_pad, 10, 16, 4, 0)                                                                \
  X(conv_opd0_lf_pad, 10, 20, 4, 0)                                                                \
  X(conv_opd0_rt_pad, 10, 24, 4, 0)                                                                \
  X(conv_op_x_str, 10, 28, 4, 1)                                                                   \
  X(conv_op_y_str, 11, 0, 4, 1)                                                                    \
  X(opd0_ins_fp, 11, 4, 16, 0)                                                                     \
  X(rsvd2, 11, 20, 12, 0)                                                                          \
  X(opd0_n, 12, 0, 12, 1)                                                                          \
  X(opd1_n, 12, 12, 12, 1)                                                                         \
  X(opd1_c, 12, 24, 12, 1)                                                                         \
  X(opd2_n, 13, 4, 12, 1)                                                                          \
  X(opd2_c, 13, 16, 12, 1)                                                                         \
  X(opd2_h, 13, 28, 12, 1)                                                                         \
  X(opd2_w, 14, 8, 12, 16)                                                                         \
  X(quan_m, 14, 20, 32, 0)                                                                         \
  X(opd_typ, 15, 20, 1, 0)                                                                         \
  X(fp_round_typ, 15, 21, 3, 0)                                                                    \
  X(rsvd7, 15, 24, 4, 0)                                                                           \
  X(rsvd3, 15, 28, 4, 0)                                                                           \
  X(res0_n_str, 16, 0, 16, 16)                                                                     \
  X(res0_c_str, 16, 16, 16, 16)                                                                    \
  X(res0_h_str, 17, 0, 16, 0)                                                                      \
  X(res0_w_str, 17, 16, 16, 1)                                                                     \
  X(res0_b_str, 18, 0, 16, 16)                                                                     \
  X(opd0_n_str, 18, 16, 16, 16)                                                                    \
  X(opd0_c_str, 19, 0, 16, 16)                                                                     \
  X(rsvd4, 19, 16, 16, 0)                                                                          \
  X(opd0_h_str, 20, 0, 16, 0)                                                                      \
  X(opd0_w_str, 20, 16, 16, 1)                                                                     \
  X(opd0_b_str, 21, 0, 16, 16)                                                                     \
  X(opd1_n_str, 21, 16, 16, 16)                                                                    \
  X(opd1_c_str, 22, 0, 16, 16)                                                                     \
  X(opd1_h_str, 22, 16, 16, 0)                                                                     \
  X(opd1_w_str, 23, 0, 16, 1)                                                                      \
  X(rsvd5, 23, 16, 16, 0)                                                                          \
  X(opd1_b_str, 24, 0, 16, 16)                                                                     \
  X(opd2_n_str, 24, 16, 16, 16)                                                                    \
  X(opd2_c_str, 25, 0, 16, 16)                                                                     \
  X(opd2_h_str, 25, 16, 16, 0)                                                                     \
  X(opd2_w_str, 26, 0, 16, 1)                                                                      \
  X(opd2_b_str, 26, 16, 16, 16)                                                                    \
  X(layer_info, 27, 0, 28, 0)                                                                      \
  X(rsvd6, 27, 28, 4, 0)

/// TDMA descriptor fields: X(name, word, bit, width, hiWord, hiBit, hiWidth, reset); the hi piece
/// (hiWidth > 0) holds the value's upper bits. cv183x-isa.md §3.1.
#define TPUC_TDMA_FIELDS(X)                                                                        \
  X(vld, 0, 0, 1, 0, 0, 0, 0)                                                                      \
  X(compress_en, 0, 1, 1, 0, 0, 0, 0)                                                              \
  X(eod, 0, 2, 1, 0, 0, 0, 0)                                                                      \
  X(intp_en, 0, 3, 1, 0, 0, 0, 0)                                                                  \
  X(bar_en, 0, 4, 1, 0, 0, 0, 0)                                                                   \
  X(check_bf16_value, 0, 5, 1, 0, 0, 0, 0)                                                         \
  X(trans_dir, 0, 6, 2, 0, 0, 0, 0)                                                                \
  X(rsv00, 0, 8, 2, 0, 0, 0, 0)                                                                    \
  X(trans_fmt, 0, 10, 1, 0, 0, 0, 0)                                                               \
  X(transpose_md, 0, 11, 2, 0, 0, 0, 0)                                                            \
  X(rsv01, 0, 13, 2, 0, 0, 0, 0)                                                                   \
  X(outstanding_en, 0, 15, 1, 0, 0, 0, 0)                                                          \
  X(cmd_id, 0, 16, 16, 0, 0, 0, 0)                                                                 \
  X(spec_func, 1, 0, 3, 0, 0, 0, 0)                                                                \
  X(dst_fmt, 1, 3, 2, 0, 0, 0, 1)                                                                  \
  X(src_fmt, 1, 5, 2, 0, 0, 0, 1)                                                                  \
  X(cmprs_fmt, 1, 7, 1, 0, 0, 0, 0)                                                                \
  X(sys_dtype, 1, 8, 1, 0, 0, 0, 0)                                                                \
  X(rsv2_1, 1, 9, 4, 0, 0, 0, 0)                                                                   \
  X(int8_sign, 1, 13, 1, 0, 0, 0, 0)                                                               \
  X(compress_zero_guard, 1, 14, 1, 0, 0, 0, 0)                                                     \
  X(int8_rnd_mode, 1, 15, 1, 0, 0, 0, 0)                                                           \
  X(wait_id_tpu, 1, 16, 16, 0, 0, 0, 0)                                                            \
  X(wait_id_other_tdma, 2, 0, 16, 0, 0, 0, 0)                                                      \
  X(wait_id_sdma, 2, 16, 16, 0, 0, 0, 0)                                                           \
  X(const_val, 3, 0, 16, 0, 0, 0, 0)                                                               \
  X(src_base_reg_sel, 3, 16, 3, 0, 0, 0, 0)                                                        \
  X(mv_lut_idx, 3, 19, 1, 0, 0, 0, 0)                                                              \
  X(dst_base_reg_sel, 3, 20, 3, 0, 0, 0, 0)                                                        \
  X(mv_lut_base, 3, 23, 1, 0, 0, 0, 0)                                                             \
  X(rsv4_5, 3, 24, 8, 0, 0, 0, 0)                                                                  \
  X(dst_h_stride, 4, 0, 16, 0, 0, 0, 1)                                                            \
  X(dst_c_stride, 4, 16, 16, 14, 16, 16, 1)                                                        \
  X(dst_n_stride, 5, 0, 32, 0, 0, 0, 1)                                                            \
  X(src_h_stride, 6, 0, 16, 0, 0, 0, 1)                                                            \
  X(src_c_stride, 6, 16, 16, 14, 0, 16, 1)                                                         \
  X(src_n_stride, 7, 0, 32, 0, 0, 0, 1)                                                            \
  X(dst_c, 8, 0, 16, 0, 0, 0, 1)                                                                   \
  X(src_c, 8, 16, 16, 0, 0, 0, 1)                                                                  \
  X(dst_w, 9, 0, 16, 0, 0, 0, 1)                                                                   \
  X(dst_h, 9, 16, 16, 0, 0, 0, 1)                                                                  \
  X(src_w, 10, 0, 16, 0, 0, 0, 1)                                                                  \
  X(src_h, 10, 16, 16, 0, 0, 0, 1)                                                                 \
  X(dst_base_addr, 11, 0, 32, 13, 16, 8, 0)                                                        \
  X(src_base_addr, 12, 0, 32, 13, 24, 8, 0)                                                        \
  X(src_n, 13, 0, 16, 0, 0, 0, 1)                                                                  \
  X(compress_bias0, 15, 0, 8, 0, 0, 0, 0)                                                          \
  X(compress_bias1, 15, 8, 8, 0, 0, 0, 0)                                                          \
  X(layer_ID, 15, 16, 16, 0, 0, 0, 0)
// clang-format on

/// Position of one descriptor field. `bit + width` may exceed 32: the low piece then continues at
/// bit 0 of word + 1. A second piece (hiWidth > 0) holds the bits above `width`.
struct FieldSpec {
  std::string_view name;
  uint8_t word;
  uint8_t bit;
  uint8_t width;
  uint8_t hiWord;
  uint8_t hiBit;
  uint8_t hiWidth;
  uint64_t reset; ///< value cvikernel starts from before filling a descriptor
  constexpr unsigned totalWidth() const { return width + hiWidth; }
};

#define TPUC_FIELD_ENUM(name, ...) name,
enum class TiuField : uint8_t { TPUC_TIU_FIELDS(TPUC_FIELD_ENUM) kCount };
enum class TdmaField : uint8_t { TPUC_TDMA_FIELDS(TPUC_FIELD_ENUM) kCount };
#undef TPUC_FIELD_ENUM

inline constexpr size_t kNumTiuFields = static_cast<size_t>(TiuField::kCount);
inline constexpr size_t kNumTdmaFields = static_cast<size_t>(TdmaField::kCount);
inline constexpr size_t kTiuWords = 28;
inline constexpr size_t kTdmaWords = 16;
inline constexpr size_t kTiuBytes = kTiuWords * 4;
inline constexpr size_t kTdmaBytes = kTdmaWords * 4;

#define TPUC_TIU_SPEC(name, word, bit, width, reset)                                               \
  FieldSpec{#name, word, bit, width, 0, 0, 0, reset},
#define TPUC_TDMA_SPEC(name, word, bit, width, hw, hb, hwd, reset)                                 \
  FieldSpec{#name, word, bit, width, hw, hb, hwd, reset},
inline constexpr std::array<FieldSpec, kNumTiuFields> kTiuFieldTable{
    {TPUC_TIU_FIELDS(TPUC_TIU_SPEC)}};
inline constexpr std::array<FieldSpec, kNumTdmaFields> kTdmaFieldTable{
    {TPUC_TDMA_FIELDS(TPUC_TDMA_SPEC)}};
#undef TPUC_TIU_SPEC
#undef TPUC_TDMA_SPEC

namespace detail {

/// Reads `width` (<= 32) bits starting at absolute bit `pos` of `words`.
inline uint64_t readBits(const uint32_t *words, unsigned pos, unsigned width) {
  unsigned w = pos / 32, b = pos % 32;
  uint64_t window = words[w];
  if (b + width > 32)
    window |= static_cast<uint64_t>(words[w + 1]) << 32;
  return (window >> b) & ((uint64_t{1} << width) - 1);
}

inline void writeBits(uint32_t *words, unsigned pos, unsigned width, uint64_t value) {
  for (unsigned i = 0; i < width;) {
    unsigned w = (pos + i) / 32, b = (pos + i) % 32;
    unsigned n = std::min(32u - b, width - i);
    uint64_t mask = ((uint64_t{1} << n) - 1);
    words[w] = static_cast<uint32_t>((words[w] & ~(mask << b)) | (((value >> i) & mask) << b));
    i += n;
  }
}

constexpr bool checkTable(const FieldSpec *specs, size_t count, size_t words) {
  for (size_t i = 0; i < count; ++i) {
    const FieldSpec &s = specs[i];
    size_t end = size_t{s.word} * 32 + s.bit + s.width;
    size_t hiEnd = size_t{s.hiWord} * 32 + s.hiBit + s.hiWidth;
    if (s.width == 0 || s.width > 32 || s.hiWidth > 32 || end > words * 32)
      return false;
    if (s.hiWidth && hiEnd > words * 32)
      return false;
  }
  return true;
}

static_assert(checkTable(kTiuFieldTable.data(), kNumTiuFields, kTiuWords));
static_assert(checkTable(kTdmaFieldTable.data(), kNumTdmaFields, kTdmaWords));

} // namespace detail

/// Values of every field of one descriptor, indexed by the field enum.
template <typename FieldEnum, size_t N> struct FieldValues {
  std::array<uint64_t, N> v{};
  uint64_t operator[](FieldEnum f) const { return v[static_cast<size_t>(f)]; }
  uint64_t &operator[](FieldEnum f) { return v[static_cast<size_t>(f)]; }
};

/// One descriptor body as little-endian 32-bit words, with field access driven by `Table`.
template <typename FieldEnum, size_t Words, const auto &Table> class Descriptor {
public:
  static constexpr size_t kWords = Words;
  static constexpr size_t kFields = Table.size();
  using Values = FieldValues<FieldEnum, kFields>;

  std::array<uint32_t, Words> words{};

  static constexpr const FieldSpec &spec(FieldEnum f) { return Table[static_cast<size_t>(f)]; }
  static constexpr std::string_view name(FieldEnum f) { return spec(f).name; }

  /// Looks a field up by its name; returns false if there is none.
  static bool lookup(std::string_view name, FieldEnum &out) {
    for (size_t i = 0; i < Table.size(); ++i)
      if (Table[i].name == name) {
        out = static_cast<FieldEnum>(i);
        return true;
      }
    return false;
  }

  /// A descriptor with every field at its reset value (cv183x-isa.md §2.1 / §3.1 "Reset").
  static Descriptor withResetValues() {
    Descriptor d;
    for (size_t i = 0; i < Table.size(); ++i)
      d.set(static_cast<FieldEnum>(i), Table[i].reset);
    return d;
  }

  /// Reads a descriptor body from little-endian bytes (exactly Words * 4 of them).
  static Descriptor fromBytes(std::span<const uint8_t> bytes) {
    if (bytes.size() != Words * 4)
      throw Error("descriptor body has " + std::to_string(bytes.size()) + " bytes, expected " +
                  std::to_string(Words * 4));
    Descriptor d;
    for (size_t i = 0; i < Words; ++i)
      d.words[i] = static_cast<uint32_t>(bytes[4 * i]) |
                   static_cast<uint32_t>(bytes[4 * i + 1]) << 8 |
                   static_cast<uint32_t>(bytes[4 * i + 2]) << 16 |
                   static_cast<uint32_t>(bytes[4 * i + 3]) << 24;
    return d;
  }

  /// Writes the body as little-endian bytes into `out` (Words * 4 bytes).
  void toBytes(std::span<uint8_t> out) const {
    if (out.size() != Words * 4)
      throw Error("descriptor output buffer has the wrong size");
    for (size_t i = 0; i < Words; ++i)
      for (size_t b = 0; b < 4; ++b)
        out[4 * i + b] = static_cast<uint8_t>(words[i] >> (8 * b));
  }

  uint64_t get(FieldEnum f) const {
    const FieldSpec &s = spec(f);
    uint64_t v = detail::readBits(words.data(), s.word * 32u + s.bit, s.width);
    if (s.hiWidth)
      v |= detail::readBits(words.data(), s.hiWord * 32u + s.hiBit, s.hiWidth) << s.width;
    return v;
  }

  /// Sets a field; throws Error naming the field if `value` does not fit its width.
  void set(FieldEnum f, uint64_t value) {
    const FieldSpec &s = spec(f);
    unsigned total = s.totalWidth();
    if (total < 64 && (value >> total) != 0)
      throw Error("value " + std::to_string(value) + " does not fit descriptor field " +
                  std::string(s.name) + " (" + std::to_string(total) + " bits)");
    detail::writeBits(words.data(), s.word * 32u + s.bit, s.width, value);
    if (s.hiWidth)
      detail::writeBits(words.data(), s.hiWord * 32u + s.hiBit, s.hiWidth, value >> s.width);
  }

  /// Sets a signed value, stored as two's complement in the field's width (e.g. opd0_ins_val).
  void setSigned(FieldEnum f, int64_t value) {
    unsigned total = spec(f).totalWidth();
    int64_t lo = -(int64_t{1} << (total - 1)), hi = (int64_t{1} << total) - 1;
    if (value < lo || value > hi)
      throw Error("value " + std::to_string(value) + " does not fit descriptor field " +
                  std::string(spec(f).name) + " (" + std::to_string(total) + " bits)");
    set(f, static_cast<uint64_t>(value) & ((uint64_t{1} << total) - 1));
  }

  /// Every field value at once.
  Values decode() const {
    Values out;
    for (size_t i = 0; i < Table.size(); ++i)
      out.v[i] = get(static_cast<FieldEnum>(i));
    return out;
  }

  /// Builds a descriptor from a full set of values (throws if any does not fit).
  static Descriptor encode(const Values &values) {
    Descriptor d;
    for (size_t i = 0; i < Table.size(); ++i)
      d.set(static_cast<FieldEnum>(i), values.v[i]);
    return d;
  }
};

using TiuDesc = Descriptor<TiuField, kTiuWords, kTiuFieldTable>;
using TdmaDesc = Descriptor<TdmaField, kTdmaWords, kTdmaFieldTable>;
using TiuFieldValues = TiuDesc::Values;
using TdmaFieldValues = TdmaDesc::Values;

/// TIU task types (tsk_typ), cv183x-isa.md §2.2.
enum class TiuTask : uint8_t { Conv = 0, DepthwisePool = 1, MatMul = 2, TensorArith = 3 };
/// tsk_eu_typ values of TiuTask::DepthwisePool.
enum class PoolKind : uint8_t { Max = 0, Avg = 1, Depthwise = 2, Min = 3 };
/// tsk_eu_typ values of TiuTask::TensorArith.
enum class ArithKind : uint8_t {
  Mul = 0,
  Mac = 1,
  Add = 2,
  Sub = 3,
  Max = 4,
  Min = 5,
  Shift = 6,
  And = 7,
  Or = 8,
  Xor = 9,
  Copy = 10,
  Ge = 11,
  Lut = 12,
};
/// TDMA trans_dir values.
enum class TdmaDir : uint8_t { G2L = 0, L2G = 1, G2G = 2, L2L = 3 };

} // namespace tpuc::runtime
