//===- Md5.h - MD5 digest (RFC 1321) ----------------------------*- C++ -*-===//
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace tpuc::runtime {

std::array<uint8_t, 16> md5(std::span<const uint8_t> data);
std::string toHex(std::span<const uint8_t> bytes);

} // namespace tpuc::runtime
