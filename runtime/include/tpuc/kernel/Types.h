//===- Types.h - tensors and addresses of the CV183x kernel emitter --*- C++ -*-===//
//
// Value types handed to and returned by tpuc::kernel::Context: element types, NCHW shapes and byte
// strides, global addresses (memory region + offset) and tensor/matrix descriptors for global and
// local memory. Plain structs without behaviour that could fail; every check happens in Context.
//
// This header is free of exceptions and RTTI requirements so that it can be included from code
// compiled with -fno-exceptions -fno-rtti (MLIR passes, custom-op plugins).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace tpuc::kernel {

/// Element type of a tensor.
///  - Int8 / Uint8: one byte per element.
///  - Bf16: two bytes per element (little-endian bfloat16) in global and local memory.
///  - Int16: little-endian 16-bit integers in global memory; in local memory two byte planes of
///    identical layout, the low bytes at `addr` and the high bytes at `addr + planeStride`
///    (cv183x-isa.md §2.5).
enum class DType : uint8_t { Int8, Uint8, Bf16, Int16 };

/// Bytes per element of one plane in local memory (Int16 counts one byte per plane).
constexpr unsigned localElemBytes(DType t) { return t == DType::Bf16 ? 2 : 1; }
/// Bytes per element in global memory.
constexpr unsigned globalElemBytes(DType t) {
  return t == DType::Bf16 || t == DType::Int16 ? 2 : 1;
}
constexpr bool isSigned(DType t) { return t != DType::Uint8; }
const char *dtypeName(DType t);

/// NCHW shape.
struct Shape {
  uint32_t n = 1, c = 1, h = 1, w = 1;
  uint64_t count() const { return uint64_t{n} * c * h * w; }
  bool operator==(const Shape &o) const = default;
};

/// Byte strides of the four dimensions. TDMA transfers move W elements contiguously, so the W
/// stride of a tensor used by TDMA must equal its element size.
struct Strides {
  uint32_t n = 0, c = 0, h = 0, w = 0;
  bool operator==(const Strides &o) const = default;
};

/// A global-memory address: a memory region (cv183x-isa.md §1.4: 0 shared neuron, 1 weight,
/// 2 private neuron, 3..7 io buffers; the region selects the base register) and a byte offset in
/// it (below 2^40). The emitter writes 0x1_0000_0000 + offset into the descriptor and the region
/// into the base-register select.
struct GlobalAddr {
  uint8_t region = 0;
  uint64_t offset = 0;
  /// Splits a tpu-mlir style gaddr: region in bits 42:40, offset in bits 39:0.
  static GlobalAddr fromGaddr(uint64_t gaddr) {
    return {static_cast<uint8_t>((gaddr >> 40) & 7), gaddr & 0xFF'FFFF'FFFFULL};
  }
  GlobalAddr operator+(uint64_t delta) const { return {region, offset + delta}; }
};

/// A tensor in global memory. Strides are in bytes; W elements are contiguous.
struct GlobalTensor {
  GlobalAddr addr;
  Shape shape;
  Strides stride; ///< n, c, h byte strides; w is the element size
  DType dtype = DType::Int8;

  /// NCHW-contiguous tensor (cv183x-isa.md §6 global default strides).
  static GlobalTensor dense(GlobalAddr addr, Shape shape, DType dtype) {
    uint32_t es = globalElemBytes(dtype);
    return {addr,
            shape,
            {shape.c * shape.h * shape.w * es, shape.h * shape.w * es, shape.w * es, es},
            dtype};
  }
};

/// A row-major matrix in global memory.
struct GlobalMatrix {
  GlobalAddr addr;
  uint32_t rows = 0, cols = 0;
  uint32_t rowStride = 0; ///< bytes between rows (cols * element size when dense)
  DType dtype = DType::Int8;

  static GlobalMatrix dense(GlobalAddr addr, uint32_t rows, uint32_t cols, DType dtype) {
    return {addr, rows, cols, cols * globalElemBytes(dtype), dtype};
  }
};

inline constexpr uint32_t kInvalidLocalAddr = 0xFFFF'FFFFu;

/// A tensor in local memory. `addr` is lane-encoded: start lane * bytes-per-lane + per-lane offset.
/// Channel c lives on lane (startLane + c) mod lanes at per-lane offset
///   offset + ((startLane + c) div lanes) * stride.c + n * stride.n + h * stride.h + w * stride.w.
/// Handles returned after an error are invalid (addr == kInvalidLocalAddr).
struct LocalTensor {
  uint32_t addr = kInvalidLocalAddr;
  Shape shape;
  Strides stride;
  DType dtype = DType::Int8;
  uint32_t planeStride = 0; ///< Int16 only: bytes from the low-byte plane to the high-byte plane
  bool valid() const { return addr != kInvalidLocalAddr; }
};

/// A matrix in local memory (cv183x-isa.md §6): `rows` x `cols` stored as the tensor
/// (rows, C, 1, W), each lane holding W consecutive columns, C = ceil(cols / W).
struct LocalMatrix {
  LocalTensor t;
  uint32_t rows = 0, cols = 0;
  bool valid() const { return t.valid(); }
};

} // namespace tpuc::kernel
