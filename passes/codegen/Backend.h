//===- Backend.h - facts shared by the backend passes and codegen -*- C++ -*-===//
//
// The backend passes (tpu-lower, assign-weight-address, assign-neuron-address,
// divide-ops-to-func) and the cvimodel code generation must agree on which op runs where, which
// weights a kernel reads in which layout, and how tensors are named and sized. Those facts live
// here, in one place.
//
//===----------------------------------------------------------------------===//
#ifndef TPUC_PASSES_CODEGEN_BACKEND_H
#define TPUC_PASSES_CODEGEN_BACKEND_H

#include "dialect/TpuOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Operation.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace tpuc::backend {

/// Attribute names written by the backend passes.
inline constexpr llvm::StringLiteral kGaddrAttr = "gaddr";                 ///< i64 on tensor ops
inline constexpr llvm::StringLiteral kWeightAddrAttr = "tpu.weight_gaddr"; ///< i64 on load_weight
inline constexpr llvm::StringLiteral kTensorNameAttr = "tpu.tensor_name";  ///< on tpu.quant
inline constexpr llvm::StringLiteral kWeightNameAttr = "tpu.weight_map_name"; ///< load_weight
inline constexpr llvm::StringLiteral kChanParamAttr = "tpu.chan_param_gaddr"; ///< i64 on conv_2d
inline constexpr llvm::StringLiteral kWeightBinAttr = "tpu.weight_bin";       ///< module
inline constexpr llvm::StringLiteral kWeightSizeAttr = "tpu.weight_size";     ///< module
inline constexpr llvm::StringLiteral kSharedGmemAttr = "tpu.shared_gmem";     ///< module
inline constexpr llvm::StringLiteral kPrivateGmemAttr = "tpu.private_gmem";   ///< module
inline constexpr llvm::StringLiteral kRoutineAttr = "tpu.routine";            ///< "tpu" / "cpu"
inline constexpr llvm::StringLiteral kCpuFunctionAttr = "tpu.cpu_function";

/// Memory regions (bits 42:40 of a global address, cvimodel-format.md).
enum Region : uint8_t { Shared = 0, Weight = 1, Private = 2, Io0 = 3, IoLast = 7 };
inline int64_t makeGaddr(unsigned region, uint64_t offset) {
  return static_cast<int64_t>((uint64_t{region} << 40) | offset);
}
inline unsigned gaddrRegion(int64_t gaddr) { return unsigned((uint64_t(gaddr) >> 40) & 7); }
inline uint64_t gaddrOffset(int64_t gaddr) { return uint64_t(gaddr) & 0xFF'FFFF'FFFFULL; }

enum class Placement { None, Tpu, Cpu };

/// Where an op runs: None for ops that produce no tensor of their own (tpu.input, load_weight,
/// func.return), Cpu for the runtime's CPU functions (fp32 -> int8 input quantization, fp32
/// layers such as softmax, CPU custom ops), Tpu for everything with an INT8 layer kernel.
/// Returns std::nullopt (and fills `why`) for an op that has neither.
std::optional<Placement> placementOf(mlir::Operation *op, std::string *why = nullptr);

/// The runtime CPU function a Cpu op becomes ("quant", "softmax", a custom op's name).
std::string cpuFunctionName(mlir::Operation *op);

/// The tensor name of an op's result in the cvimodel / neuron map: the layer name, except that
/// the output dequantization of a returned value is `<producer>_f32` as in vendor models.
std::string tensorName(mlir::Operation *op);

/// A tensor's 4-D shape as the cvimodel stores it: leading dims folded so rank <= 4, then padded
/// with trailing 1s ([1, 10] -> [1, 10, 1, 1]). Fails for a rank > 4 whose leading dims are not 1.
std::optional<std::array<int64_t, 4>> shape4(mlir::ShapedType type);
/// Bytes of one element, 0 for an element type the backend does not handle.
unsigned elementBytes(mlir::Type elementType);
/// "int8", "fp32", "bf16", "int32", "uint8", "int16".
std::string dtypeName(mlir::Type elementType);

/// The layer name of an op (its `name` attribute), or its operation name.
std::string layerName(mlir::Operation *op);

/// The i64 attribute `name` of op, if present.
std::optional<int64_t> getI64(mlir::Operation *op, llvm::StringRef name);

/// Rewrites each tpu.argmax (of an int8 tensor or its dequantization) into a TPU max pooling
/// giving per-tile maxima and the CPU function `argmax_v3` (a tpu.custom_op with tpu = false),
/// as vendor models do (passes/codegen/ArgMaxLowering.cpp; run by --tpu-lower).
mlir::LogicalResult lowerArgMax(mlir::ModuleOp module);

} // namespace tpuc::backend

#endif // TPUC_PASSES_CODEGEN_BACKEND_H
