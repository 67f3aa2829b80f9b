//===- Npz.cpp - NumPy .npy / .npz files ----------------------------------===//

#include "tpuc/runtime/Npz.h"
#include "tpuc/runtime/Error.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <iterator>

namespace tpuc::runtime {
namespace {

uint16_t readU16(const uint8_t *p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t readU32(const uint8_t *p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t readU64(const uint8_t *p) { return uint64_t(readU32(p)) | uint64_t(readU32(p + 4)) << 32; }

void putU16(std::vector<uint8_t> &out, uint16_t v) {
  out.push_back(uint8_t(v));
  out.push_back(uint8_t(v >> 8));
}
void putU32(std::vector<uint8_t> &out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(uint8_t(v >> (8 * i)));
}

size_t descrElementSize(const std::string &descr, const std::string &what) {
  static const struct {
    const char *descr;
    size_t size;
  } known[] = {{"<f4", 4}, {"<f8", 8}, {"<f2", 2}, {"|i1", 1}, {"|u1", 1}, {"<i2", 2},
               {"<u2", 2}, {"<i4", 4}, {"<u4", 4}, {"<i8", 8}, {"<u8", 8}, {"|b1", 1}};
  for (const auto &k : known)
    if (descr == k.descr)
      return k.size;
  throw Error(what + ": unsupported array element type '" + descr + "'");
}

/// Value of `key` in the .npy header dictionary (a Python literal), as raw text.
std::string headerValue(const std::string &header, const std::string &key,
                        const std::string &what) {
  size_t pos = header.find("'" + key + "'");
  if (pos == std::string::npos)
    throw Error(what + ": .npy header has no '" + key + "'");
  pos = header.find(':', pos);
  if (pos == std::string::npos)
    throw Error(what + ": malformed .npy header");
  ++pos;
  while (pos < header.size() && header[pos] == ' ')
    ++pos;
  if (pos >= header.size())
    throw Error(what + ": malformed .npy header");
  size_t end;
  if (header[pos] == '\'') {
    end = header.find('\'', pos + 1);
    if (end == std::string::npos)
      throw Error(what + ": malformed .npy header");
    return header.substr(pos + 1, end - pos - 1);
  }
  if (header[pos] == '(') {
    end = header.find(')', pos);
    if (end == std::string::npos)
      throw Error(what + ": malformed .npy header");
    return header.substr(pos + 1, end - pos - 1);
  }
  end = header.find_first_of(",}", pos);
  if (end == std::string::npos)
    throw Error(what + ": malformed .npy header");
  return header.substr(pos, end - pos);
}

std::vector<uint8_t> inflateRaw(std::span<const uint8_t> in, size_t outSize,
                                const std::string &what) {
  std::vector<uint8_t> out(outSize);
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
    throw Error(what + ": cannot initialise zlib");
  zs.next_in = const_cast<Bytef *>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&zs, Z_FINISH);
  size_t produced = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || produced != outSize)
    throw Error(what + ": corrupt deflate data");
  return out;
}

} // namespace

size_t NpyArray::elementSize() const { return descrElementSize(descr, "array"); }

size_t NpyArray::count() const {
  size_t n = 1;
  for (int64_t d : shape)
    n *= static_cast<size_t>(d);
  return n;
}

NpyArray parseNpy(std::span<const uint8_t> bytes, const std::string &what) {
  static const uint8_t magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || std::memcmp(bytes.data(), magic, 6) != 0)
    throw Error(what + ": not a .npy array (bad magic)");
  uint8_t major = bytes[6];
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = readU16(bytes.data() + 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      throw Error(what + ": truncated .npy header");
    headerLen = readU32(bytes.data() + 8);
    headerStart = 12;
  } else {
    throw Error(what + ": unsupported .npy version " + std::to_string(major));
  }
  if (headerStart + headerLen > bytes.size())
    throw Error(what + ": truncated .npy header");
  std::string header(reinterpret_cast<const char *>(bytes.data() + headerStart), headerLen);

  NpyArray array;
  array.descr = headerValue(header, "descr", what);
  if (array.descr.size() == 3 && array.descr[0] == '=')
    array.descr[0] = '<';
  if (array.descr == "<i1" || array.descr == "<u1" || array.descr == "<b1")
    array.descr[0] = '|';
  size_t elemSize = descrElementSize(array.descr, what);
  std::string fortran = headerValue(header, "fortran_order", what);
  std::string shapeText = headerValue(header, "shape", what);
  size_t pos = 0;
  while (pos < shapeText.size()) {
    size_t end = shapeText.find(',', pos);
    std::string item =
        shapeText.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    size_t first = item.find_first_not_of(' ');
    if (first != std::string::npos) {
      char *endp = nullptr;
      long long dim = std::strtoll(item.c_str() + first, &endp, 10);
      if (endp == item.c_str() + first || dim < 0)
        throw Error(what + ": malformed shape '(" + shapeText + ")' in .npy header");
      array.shape.push_back(dim);
    }
    if (end == std::string::npos)
      break;
    pos = end + 1;
  }
  size_t count = array.count();
  if (fortran == "True") {
    size_t nonUnit = 0;
    for (int64_t d : array.shape)
      nonUnit += d > 1;
    if (nonUnit > 1)
      throw Error(what + ": Fortran-ordered arrays are not supported");
  } else if (fortran != "False") {
    throw Error(what + ": malformed fortran_order in .npy header");
  }
  size_t dataStart = headerStart + headerLen;
  if (bytes.size() - dataStart < count * elemSize)
    throw Error(what + ": truncated .npy data (" + std::to_string(bytes.size() - dataStart) +
                " bytes, shape needs " + std::to_string(count * elemSize) + ")");
  array.data.assign(bytes.begin() + dataStart, bytes.begin() + dataStart + count * elemSize);
  return array;
}

std::vector<uint8_t> serializeNpy(const NpyArray &array) {
  size_t elemSize = descrElementSize(array.descr, "array");
  if (array.data.size() != array.count() * elemSize)
    throw Error("array data size does not match its shape");
  std::string shapeText;
  for (size_t i = 0; i < array.shape.size(); ++i)
    shapeText += (i ? ", " : "") + std::to_string(array.shape[i]);
  if (array.shape.size() == 1)
    shapeText += ",";
  std::string header =
      "{'descr': '" + array.descr + "', 'fortran_order': False, 'shape': (" + shapeText + "), }";
  // Pad with spaces and a final newline so that the data starts at a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  putU16(out, static_cast<uint16_t>(header.size()));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), array.data.begin(), array.data.end());
  return out;
}

std::vector<NpzEntry> parseNpz(std::span<const uint8_t> bytes, const std::string &what) {
  const size_t n = bytes.size();
  const uint8_t *p = bytes.data();
  // End of central directory: search backwards (it may be followed by a comment).
  if (n < 22)
    throw Error(what + ": not a zip archive (too short)");
  size_t eocd = std::string::npos;
  for (size_t i = n - 22 + 1; i-- > 0 && n - i <= 22 + 65535;) {
    if (readU32(p + i) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos)
    throw Error(what + ": not a zip archive (no end of central directory)");
  uint64_t entries = readU16(p + eocd + 10);
  uint64_t cdOffset = readU32(p + eocd + 16);
  if ((entries == 0xFFFF || cdOffset == 0xFFFFFFFF) && eocd >= 20 &&
      readU32(p + eocd - 20) == 0x07064b50) {
    uint64_t z64 = readU64(p + eocd - 20 + 8);
    if (z64 > n - 56 || readU32(p + z64) != 0x06064b50)
      throw Error(what + ": corrupt zip64 end of central directory");
    entries = readU64(p + z64 + 32);
    cdOffset = readU64(p + z64 + 48);
  }
  std::vector<NpzEntry> result;
  uint64_t pos = cdOffset;
  for (uint64_t e = 0; e < entries; ++e) {
    if (pos > n || n - pos < 46 || readU32(p + pos) != 0x02014b50)
      throw Error(what + ": corrupt zip central directory");
    uint16_t method = readU16(p + pos + 10);
    uint64_t compSize = readU32(p + pos + 20);
    uint64_t size = readU32(p + pos + 24);
    uint16_t nameLen = readU16(p + pos + 28), extraLen = readU16(p + pos + 30),
             commentLen = readU16(p + pos + 32);
    uint64_t localOffset = readU32(p + pos + 42);
    if (n - pos - 46 < uint64_t(nameLen) + extraLen + commentLen)
      throw Error(what + ": corrupt zip central directory");
    std::string name(reinterpret_cast<const char *>(p + pos + 46), nameLen);
    // zip64 extended information: only the fields saturated in the fixed part are present.
    const uint8_t *extra = p + pos + 46 + nameLen;
    for (size_t x = 0; x + 4 <= extraLen;) {
      uint16_t id = readU16(extra + x), len = readU16(extra + x + 2);
      if (x + 4 + len > extraLen)
        break;
      if (id == 0x0001) {
        const uint8_t *f = extra + x + 4;
        size_t avail = len;
        auto take = [&](uint64_t &field) {
          if (field != 0xFFFFFFFF)
            return;
          if (avail < 8)
            throw Error(what + ": corrupt zip64 extra field");
          field = readU64(f);
          f += 8;
          avail -= 8;
        };
        take(size);
        take(compSize);
        take(localOffset);
      }
      x += 4 + len;
    }
    pos += 46 + uint64_t(nameLen) + extraLen + commentLen;

    if (localOffset > n || n - localOffset < 30 || readU32(p + localOffset) != 0x04034b50)
      throw Error(what + ": corrupt zip local header for '" + name + "'");
    uint64_t dataStart =
        localOffset + 30 + readU16(p + localOffset + 26) + readU16(p + localOffset + 28);
    if (dataStart > n || n - dataStart < compSize)
      throw Error(what + ": member '" + name + "' extends past the end of the archive");
    std::span<const uint8_t> stored(p + dataStart, compSize);
    std::vector<uint8_t> member;
    if (method == 0) {
      if (compSize != size)
        throw Error(what + ": stored member '" + name + "' has inconsistent sizes");
      member.assign(stored.begin(), stored.end());
    } else if (method == 8) {
      member = inflateRaw(stored, size, what + ": member '" + name + "'");
    } else {
      throw Error(what + ": member '" + name + "' uses unsupported zip compression method " +
                  std::to_string(method));
    }
    std::string arrayName = name;
    if (arrayName.size() > 4 && arrayName.substr(arrayName.size() - 4) == ".npy")
      arrayName.resize(arrayName.size() - 4);
    result.push_back({arrayName, parseNpy(member, what + ": member '" + name + "'")});
  }
  return result;
}

std::vector<uint8_t> serializeNpz(const std::vector<NpzEntry> &entries) {
  std::vector<uint8_t> out, central;
  for (const NpzEntry &entry : entries) {
    std::vector<uint8_t> member = serializeNpy(entry.array);
    std::string name = entry.name + ".npy";
    uint32_t crc =
        static_cast<uint32_t>(crc32(0L, member.data(), static_cast<uInt>(member.size())));
    if (member.size() >= 0xFFFFFFFFull || out.size() >= 0xFFFFFFFFull)
      throw Error("npz member '" + entry.name + "' is too large (zip64 writing is not supported)");
    uint32_t localOffset = static_cast<uint32_t>(out.size());
    auto commonFields = [&](std::vector<uint8_t> &v) {
      putU16(v, 20);   // version needed
      putU16(v, 0);    // flags
      putU16(v, 0);    // method: stored
      putU16(v, 0);    // time
      putU16(v, 0x21); // date 1980-01-01
      putU32(v, crc);
      putU32(v, static_cast<uint32_t>(member.size()));
      putU32(v, static_cast<uint32_t>(member.size()));
      putU16(v, static_cast<uint16_t>(name.size()));
      putU16(v, 0); // extra length
    };
    putU32(out, 0x04034b50);
    commonFields(out);
    out.insert(out.end(), name.begin(), name.end());
    out.insert(out.end(), member.begin(), member.end());

    putU32(central, 0x02014b50);
    putU16(central, 20); // version made by
    commonFields(central);
    putU16(central, 0); // comment length
    putU16(central, 0); // disk
    putU16(central, 0); // internal attributes
    putU32(central, 0); // external attributes
    putU32(central, localOffset);
    central.insert(central.end(), name.begin(), name.end());
  }
  uint32_t cdOffset = static_cast<uint32_t>(out.size());
  out.insert(out.end(), central.begin(), central.end());
  putU32(out, 0x06054b50);
  putU16(out, 0);
  putU16(out, 0);
  putU16(out, static_cast<uint16_t>(entries.size()));
  putU16(out, static_cast<uint16_t>(entries.size()));
  putU32(out, static_cast<uint32_t>(central.size()));
  putU32(out, cdOffset);
  putU16(out, 0);
  return out;
}

std::vector<uint8_t> readBinaryFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("cannot open '" + path + "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad())
    throw Error("cannot read '" + path + "'");
  return bytes;
}

void writeBinaryFile(const std::string &path, std::span<const uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    throw Error("cannot create '" + path + "'");
  out.write(reinterpret_cast<const char *>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out)
    throw Error("cannot write '" + path + "'");
}

std::vector<NpzEntry> readNpzFile(const std::string &path) {
  return parseNpz(readBinaryFile(path), path);
}

void writeNpzFile(const std::string &path, const std::vector<NpzEntry> &entries) {
  writeBinaryFile(path, serializeNpz(entries));
}

} // namespace tpuc::runtime
