//===- Vlc.cpp - TDMA VLC weight compression format -----------------------===//
#include "Vlc.h"

#include "tpuc/runtime/Error.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>

namespace tpuc::runtime::vlc {

namespace {
constexpr size_t kHeaderBytes = 16;
constexpr unsigned kMaxUnaryBits = 47;
constexpr int kMaxOrder = 5;
constexpr unsigned kRawBlockBits = 128;

size_t align16(size_t v) { return (v + 15) / 16 * 16; }

class BitReader {
public:
  BitReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  unsigned bit() {
    size_t byte = pos_ / 8;
    if (byte >= bytes_.size())
      throw Error("compressed data: block stream runs past the end of memory");
    unsigned b = (bytes_[byte] >> (pos_ % 8)) & 1;
    ++pos_;
    return b;
  }
  uint32_t bits(unsigned n) {
    uint32_t v = 0;
    for (unsigned i = 0; i < n; ++i)
      v |= bit() << i;
    return v;
  }

private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

class BitWriter {
public:
  explicit BitWriter(std::vector<uint8_t> &out) : out_(out) {}
  void bits(uint32_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i, ++pos_) {
      if (pos_ / 8 >= out_.size())
        out_.push_back(0);
      out_[pos_ / 8] |= static_cast<uint8_t>(((v >> i) & 1) << (pos_ % 8));
    }
  }
  size_t bitPos() const { return pos_; }

private:
  std::vector<uint8_t> &out_;
  size_t pos_ = 0;
};

// Zig-zag of a signed byte: 0, -1, 1, -2, 2 ... -> 0, 1, 2, 3, 4 ...
uint8_t zigzag(int8_t v) { return static_cast<uint8_t>(v < 0 ? -2 * v - 1 : 2 * v); }
int8_t unzigzag(uint8_t u) {
  int mag = (u + 1) >> 1;
  return static_cast<int8_t>((u & 1) ? -mag : mag);
}

int8_t circularShift(int8_t v, uint8_t bias0, uint8_t bias1) {
  if (v == 0)
    return 0;
  bool neg = v < 0;
  int mag = std::abs(static_cast<int>(v)) - (neg ? bias1 : bias0);
  if (mag <= 0)
    mag += 127 + neg;
  return static_cast<int8_t>(neg ? -mag : mag);
}
int8_t inverseCircularShift(int8_t v, uint8_t bias0, uint8_t bias1) {
  if (v == 0)
    return 0;
  bool neg = v < 0;
  int mag = std::abs(static_cast<int>(v)) + (neg ? bias1 : bias0);
  int wrapped = mag - (127 + neg);
  uint8_t m = static_cast<uint8_t>(wrapped <= 0 ? mag : wrapped);
  return static_cast<int8_t>(neg ? -m : m);
}

uint8_t centreShift(uint8_t v, uint8_t bias, bool zg) {
  if (v == 0 && zg)
    return 0;
  uint8_t range = bias <= 128 ? bias : 255 - bias;
  int8_t d = static_cast<int8_t>(static_cast<uint8_t>(v - bias));
  if (bias <= 128)
    return v >= (range << 1) ? v : static_cast<uint8_t>(zigzag(d) + zg);
  return v < bias - range ? static_cast<uint8_t>(range + bias - v + zg)
                          : static_cast<uint8_t>(zigzag(d) + zg);
}
uint8_t inverseCentreShift(uint8_t v, uint8_t bias, bool zg) {
  if (v == 0 && zg)
    return 0;
  uint8_t u = static_cast<uint8_t>(v - zg);
  uint8_t range = bias <= 128 ? bias : 255 - bias;
  if (bias <= 128)
    return v >= (range << 1) ? v : static_cast<uint8_t>(unzigzag(u) + bias);
  return u > (range << 1) ? static_cast<uint8_t>(range + bias - v + zg)
                          : static_cast<uint8_t>(unzigzag(u) + bias);
}

using Block = std::array<uint8_t, 16>;

Block decodeBlock(BitReader &br, uint8_t kinfo, bool zvc) {
  Block sym{};
  int k = kinfo >> 5;
  if (k == 7) {
    for (auto &s : sym)
      s = static_cast<uint8_t>(br.bits(8));
    return sym;
  }
  if (k > kMaxOrder)
    throw Error("compressed data: block order " + std::to_string(k) + " is out of range");
  unsigned unaryLen = (kinfo & 0x1F) + 16;
  if (unaryLen > kMaxUnaryBits)
    throw Error("compressed data: unary field of " + std::to_string(unaryLen) + " bits");
  for (int j = 0; j < k; ++j)
    for (int i = 0; i < 16; ++i)
      sym[i] |= static_cast<uint8_t>(br.bit() << j);
  if (zvc && k > 0)
    br.bits(4);
  unsigned q = 0, count = 0;
  for (unsigned b = 0; b < unaryLen; ++b) {
    if (br.bit()) {
      if (count < 16)
        sym[count] = static_cast<uint8_t>(sym[count] + (q << k));
      ++count;
      q = 0;
    } else {
      ++q;
    }
  }
  if (count != 16)
    throw Error("compressed data: block has " + std::to_string(count) + " symbols, expected 16");
  return sym;
}

int chooseOrder(const Block &sym, bool zvc, unsigned &bitsOut) {
  int bestK = 0;
  unsigned best = ~0u;
  for (int k = 0; k <= kMaxOrder; ++k) {
    unsigned unary = 0;
    for (uint8_t s : sym)
      unary += (s >> k) + 1;
    unsigned size = unary <= kMaxUnaryBits ? 16u * k + unary + ((zvc && k > 0) ? 4 : 0) : 255u;
    if (size < best) {
      best = size;
      bestK = k;
    }
  }
  bitsOut = best;
  return best > kRawBlockBits ? -1 : bestK;
}

uint8_t encodeBlock(BitWriter &bw, const Block &sym, bool zvc) {
  unsigned size;
  int k = chooseOrder(sym, zvc, size);
  if (k < 0) {
    for (uint8_t s : sym)
      bw.bits(s, 8);
    return 0xE0;
  }
  for (int j = 0; j < k; ++j)
    for (int i = 0; i < 16; ++i)
      bw.bits((sym[i] >> j) & 1, 1);
  if (zvc && k > 0) {
    unsigned zeros = 0;
    for (uint8_t s : sym)
      zeros += s == 0;
    bw.bits(zeros, 4);
  }
  unsigned unary = 0;
  for (uint8_t s : sym) {
    unsigned q = s >> k;
    bw.bits(0, q);
    bw.bits(1, 1);
    unary += q + 1;
  }
  return static_cast<uint8_t>((k << 5) + ((unary - 16) & 0x1F));
}
} // namespace

Params readHeader(std::span<const uint8_t> in) {
  if (in.size() < kHeaderBytes)
    throw Error("compressed data: header runs past the end of memory");
  Params p;
  p.isSigned = (in[3] >> 4) & 1;
  p.isBf16 = (in[3] >> 5) & 1;
  p.bias0 = in[4];
  p.bias1 = in[5] & 0x7F;
  p.zeroGuard = (in[5] >> 7) & 1;
  return p;
}

size_t maxEncodedSize(size_t bytes, bool isBf16) {
  size_t blocks = isBf16 ? (bytes + 31) / 32 : (bytes + 15) / 16;
  return kHeaderBytes + align16(blocks) + blocks * (isBf16 ? 32 : 16) + 16;
}

std::vector<uint8_t> decode(std::span<const uint8_t> in, size_t outBytes) {
  Params p = readHeader(in);
  size_t blockBytes = p.isBf16 ? 32 : 16;
  size_t blocks = (outBytes + blockBytes - 1) / blockBytes;
  size_t kmapBytes = align16(blocks);
  if (in.size() < kHeaderBytes + kmapBytes)
    throw Error("compressed data: k-map runs past the end of memory");
  std::span<const uint8_t> kmap = in.subspan(kHeaderBytes, kmapBytes);
  BitReader br(in.subspan(kHeaderBytes + kmapBytes));
  std::vector<uint8_t> out(outBytes);
  for (size_t b = 0; b < blocks; ++b) {
    Block sym = decodeBlock(br, kmap[b], p.isBf16 && p.zeroGuard);
    size_t first = b * blockBytes;
    if (!p.isBf16) {
      for (size_t i = 0; i < 16 && first + i < outBytes; ++i) {
        uint8_t v = sym[i];
        if (p.isSigned)
          v = static_cast<uint8_t>(inverseCircularShift(unzigzag(v), p.bias0, p.bias1));
        out[first + i] = v;
      }
      continue;
    }
    size_t values = std::min<size_t>(16, (outBytes - first + 1) / 2);
    for (size_t i = 0; i < values; ++i) {
      uint8_t exp = inverseCentreShift(sym[i], p.bias0, p.zeroGuard);
      uint8_t frac = 0;
      if (!p.zeroGuard || exp != 0)
        frac = static_cast<uint8_t>(br.bits(8));
      uint16_t v = static_cast<uint16_t>((frac >> 7) << 15 | exp << 7 | (frac & 0x7F));
      out[first + 2 * i] = static_cast<uint8_t>(v);
      if (first + 2 * i + 1 < outBytes)
        out[first + 2 * i + 1] = static_cast<uint8_t>(v >> 8);
    }
  }
  return out;
}

std::vector<uint8_t> encode(std::span<const uint8_t> data, const Params &p) {
  size_t blockBytes = p.isBf16 ? 32 : 16;
  size_t blocks = (data.size() + blockBytes - 1) / blockBytes;
  size_t kmapBytes = align16(blocks);
  std::vector<uint8_t> kmap(kmapBytes, 0), stream;
  BitWriter bw(stream);
  for (size_t b = 0; b < blocks; ++b) {
    size_t first = b * blockBytes;
    Block sym{};
    if (!p.isBf16) {
      for (size_t i = 0; i < 16; ++i) {
        uint8_t v = first + i < data.size() ? data[first + i] : 0;
        sym[i] = p.isSigned ? zigzag(circularShift(static_cast<int8_t>(v), p.bias0, p.bias1)) : v;
      }
      kmap[b] = encodeBlock(bw, sym, false);
      continue;
    }
    Block exps{}, fracs{};
    for (size_t i = 0; i < 16; ++i) {
      uint16_t v = 0;
      if (first + 2 * i + 1 < data.size())
        v = static_cast<uint16_t>(data[first + 2 * i] | data[first + 2 * i + 1] << 8);
      exps[i] = static_cast<uint8_t>((v >> 7) & 0xFF);
      fracs[i] = static_cast<uint8_t>(((v >> 15) << 7) | (v & 0x7F));
      sym[i] = centreShift(exps[i], p.bias0, p.zeroGuard);
    }
    kmap[b] = encodeBlock(bw, sym, p.zeroGuard);
    for (size_t i = 0; i < 16; ++i)
      if (!p.zeroGuard || exps[i] != 0)
        bw.bits(fracs[i], 8);
  }
  size_t streamBytes = align16((bw.bitPos() + 7) / 8);
  stream.resize(streamBytes, 0);
  std::vector<uint8_t> out(kHeaderBytes + kmap.size() + stream.size(), 0);
  out[0] = static_cast<uint8_t>(streamBytes);
  out[1] = static_cast<uint8_t>(streamBytes >> 8);
  out[2] = static_cast<uint8_t>(streamBytes >> 16);
  out[3] = static_cast<uint8_t>((p.isSigned ? 0x10 : 0) | (p.isBf16 ? 0x20 : 0));
  out[4] = p.bias0;
  out[5] = static_cast<uint8_t>((p.bias1 & 0x7F) | (p.zeroGuard ? 0x80 : 0));
  std::copy(kmap.begin(), kmap.end(), out.begin() + kHeaderBytes);
  std::copy(stream.begin(), stream.end(), out.begin() + kHeaderBytes + kmap.size());
  return out;
}

} // namespace tpuc::runtime::vlc
