//===- Vlc.h - TDMA VLC weight compression format ---------------*- C++ -*-===//
//
// The block-parallel Golomb-Rice ("VLC") format of TDMA compressed transfers (compress_en):
//   * 16-byte header: bits 23:0 size of the block stream in bytes (16-aligned), bit 28 signedness,
//     bit 29 bf16, bits 39:32 bias0, bits 46:40 bias1, bit 47 zero guard; bits are LSB first;
//   * k-map: one byte per block (k in bits 7:5, 7 = stored raw; unary length - 16 in bits 4:0),
//     padded to a multiple of 16 bytes;
//   * block stream: per block of 16 symbols, k bit planes of 16 bits (bit i of plane j = bit j of
//     symbol i), for bf16 with zero guard and k > 0 a 4-bit zero count, then the unary field (one
//     terminating 1 per symbol after q zeros, symbol = q << k | remainder). Raw blocks are 128
//     bits.
// int8 data is one block per 16 bytes; signed int8 symbols are remapped by a two-sided circular
// shift (bias0 for positives, bias1 for negatives) and zig-zag. bf16 data is one block per 16
// values: the exponents form the coded block (centre shift around bias0, optional zero guard), the
// sign+mantissa bytes follow raw (skipped for zero exponents under zero guard).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tpuc::runtime::vlc {

struct Params {
  bool isSigned = false;
  bool isBf16 = false;
  uint8_t bias0 = 0;
  uint8_t bias1 = 0;
  bool zeroGuard = false;
};

/// Decodes `outBytes` bytes of data (int8 bytes, or bf16 values as little-endian byte pairs when
/// the header says bf16). Throws Error if the stream is malformed or runs past `in`.
std::vector<uint8_t> decode(std::span<const uint8_t> in, size_t outBytes);

/// Reads the header parameters of a stream.
Params readHeader(std::span<const uint8_t> in);

/// Encodes `data` (int8 bytes, or bf16 little-endian pairs for params.isBf16) in the same format,
/// choosing per block the smallest coding (ties to the smaller k; raw when over 128 bits).
std::vector<uint8_t> encode(std::span<const uint8_t> data, const Params &params);

/// Upper bound of the encoded size of `bytes` bytes of data.
size_t maxEncodedSize(size_t bytes, bool isBf16);

} // namespace tpuc::runtime::vlc
