//===- CustomOp.h - compiler side of a custom operator ----------*- C++ -*-===//
//
// A custom-op plugin (libCustomOpPlugin.so) implements each of its ops as a class derived from
// cvi::CustomOp and exports it with RegisterCustomOp:
//
//   class LeakyReluOp : public cvi::CustomOp {
//   public:
//     LeakyReluOp(cvi::OpParam &param) : cvi::CustomOp(param) {}
//     void interpretFp32(...) override;   // fp32 interpreter, calibration
//     void interpretInt8(...) override;   // INT8 interpreter (values are int8 held in floats)
//     void quantizeInt8() override;       // tpu-quant: int8 parameters from the thresholds
//     void codeGenInt8(void *ctx, ...) override;  // tpuc-translate: TPU instructions
//   };
//   RegisterCustomOp(leaky_relu, LeakyReluOp);   // exports CustomOpleaky_reluCreate
//
// The tpuc tools (tpuc-interpreter, tpuc-opt --tpu-quant, run_calibration, tpuc-translate) load
// the library with --custom-op-plugin and find an op by the factory symbol
// `CustomOp<operation_name>Create`. The op is constructed from the `param` dictionary of the
// tpu.custom_op, kept as the protected member `param`; quantizeInt8 may add entries to it (for
// example rshift and multiplier), which tpu-quant writes back into the op.
//
// Errors. Nothing thrown by a hook crosses the library boundary: the class registered with
// RegisterCustomOp is wrapped so that an exception escaping a hook (cvi::OpParam::get of a
// missing or mistyped parameter, std::bad_alloc, ...) is recorded as the op's error. A hook may
// also call reportError() and return. The tool reads the error after the call and reports it with
// the plugin path, the op name and the hook. A hook the class does not override records "not
// implemented". Nothing here aborts.
//
// codeGenInt8 receives the kernel emitter tpuc::kernel::Context as `void *ctx` (the vendor
// signature, where it was a cvk_context_t *); kernelContext(ctx) returns it:
//
//   void LeakyReluOp::codeGenInt8(void *ctx, ...) {
//     tpuc::kernel::Context &k = kernelContext(ctx);   // #include "tpuc/kernel/Context.h"
//     ...
//   }
//
// A plugin using the Context links the tpuc SDK library (CMake: find_package(tpuc CONFIG),
// target tpuc::sdk). The header does not need MLIR. Build plugins with RTTI (cvi::OpParam reads
// values with dynamic_cast, see OpParam.h) and exceptions (cvi::OpParam::get reports errors by
// throwing).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "cvi/OpParam.h"

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace tpuc::kernel {
class Context;
} // namespace tpuc::kernel

/// Version of the binary interface between a tool and a plugin (class layout, virtual functions,
/// factory). A plugin records the version it was built with; a tool refuses other versions.
#define CVI_CUSTOM_OP_ABI_VERSION 2

namespace cvi {

class CustomOp {
public:
  using TensorList = std::vector<std::shared_ptr<std::vector<float>>>;
  using ShapeList = std::vector<std::vector<int64_t>>;

  explicit CustomOp(OpParam &param) : param(param) {}
  virtual ~CustomOp() = default;
  CustomOp(const CustomOp &) = delete;
  CustomOp &operator=(const CustomOp &) = delete;

  //===--------------------------------------------------------------------===//
  // Hooks
  //===--------------------------------------------------------------------===//

  /// fp32 interpreter: computes `result_tensor` (already sized to the result) from the operands.
  virtual void interpretFp32(TensorList &operand_tensors, ShapeList &operand_shapes,
                             std::shared_ptr<std::vector<float>> &result_tensor,
                             std::vector<int64_t> &result_shape) {
    (void)operand_tensors, (void)operand_shapes, (void)result_tensor, (void)result_shape;
    notImplemented("interpretFp32");
  }

  /// INT8 interpreter: same as interpretFp32 on int8 values held in floats; must match the
  /// hardware bit for bit. `param` holds what quantizeInt8 stored.
  virtual void interpretInt8(TensorList &operand_tensors, ShapeList &operand_shapes,
                             std::shared_ptr<std::vector<float>> &result_tensor,
                             std::vector<int64_t> &result_shape) {
    (void)operand_tensors, (void)operand_shapes, (void)result_tensor, (void)result_shape;
    notImplemented("interpretInt8");
  }

  /// Quantization (tpu-quant, for ops with do_quant = true): computes the op's int8 parameters
  /// from getPrevOpThreshold() / getOpThreshold(), stores them in `param`, and declares the
  /// scheme with setOpQuantParamType() and setOpQuantPerchannel().
  virtual void quantizeInt8() { notImplemented("quantizeInt8"); }

  /// Code generation (tpuc-translate, TPU ops): emits the op's TPU instructions through
  /// kernelContext(ctx). Addresses are DDR offsets relative to the neuron buffer base
  /// (tpuc::kernel::GlobalAddr::fromGaddr splits them).
  virtual void codeGenInt8(void *ctx, ShapeList &operand_shapes,
                           std::vector<uint64_t> &operand_gaddrs,
                           std::vector<int64_t> &result_shape, uint64_t result_gaddr,
                           int layer_id) {
    (void)ctx, (void)operand_shapes, (void)operand_gaddrs, (void)result_shape;
    (void)result_gaddr, (void)layer_id;
    notImplemented("codeGenInt8");
  }

  //===--------------------------------------------------------------------===//
  // Tool side (called by the tpuc tools around the hooks; plugins do not need these)
  //===--------------------------------------------------------------------===//

  /// True when the last hook recorded an error.
  bool hasError() const { return failed_; }
  /// The error recorded by the last hook ("" when none).
  const std::string &errorMessage() const { return error_; }
  /// True when the recorded error is a hook the class does not override.
  bool errorIsNotImplemented() const { return notImplemented_; }
  void clearError() {
    failed_ = notImplemented_ = false;
    error_.clear();
  }
  /// Thresholds seen by quantizeInt8: this op's result and each operand's producer.
  void setQuantThresholds(float opThreshold, std::vector<float> prevThresholds) {
    opThreshold_ = opThreshold;
    prevThresholds_ = std::move(prevThresholds);
  }
  /// What quantizeInt8 declared ("" / false when it did not call the setters).
  const std::string &quantParamType() const { return quantParamType_; }
  bool quantPerchannel() const { return quantPerchannel_; }

  /// Records an exception that escaped a hook (used by the RegisterCustomOp wrapper).
  void recordException(const char *hook, const std::exception *error) noexcept {
    try {
      (void)hook;
      fail(error ? std::string("uncaught exception: ") + error->what()
                 : std::string("uncaught exception that is not a std::exception"));
    } catch (...) {
      failed_ = true;
    }
  }

  /// Names of the parameter types setOpQuantParamType accepts.
  static const std::vector<std::string> &quantParamTypes() {
    static const std::vector<std::string> types = {
        "NONE",     "THRESHOLD", "SCALE", "RSHIFT_ONLY", "RSHIFT_AND_M_I32", "RSHIFT_AND_M_I8",
        "LUT_INT8", "LUT_BF16"};
    return types;
  }

protected:
  OpParam &param;

  /// Threshold of this op's result (quant.threshold_max), in quantizeInt8.
  float getOpThreshold() { return opThreshold_; }
  /// Threshold of the result feeding operand `index` (its producer's threshold_max), in
  /// quantizeInt8. An index without an operand records an error and returns 0.
  float getPrevOpThreshold(int index = 0) {
    if (index < 0 || size_t(index) >= prevThresholds_.size()) {
      fail("getPrevOpThreshold(" + std::to_string(index) + "): the op has " +
           std::to_string(prevThresholds_.size()) + " operand threshold(s)");
      return 0.0f;
    }
    return prevThresholds_[size_t(index)];
  }
  /// Declares the quantization scheme (quant.param_type): one of quantParamTypes(); another
  /// name records an error.
  void setOpQuantParamType(const std::string &type) {
    for (const std::string &known : quantParamTypes())
      if (type == known) {
        quantParamType_ = type;
        return;
      }
    std::string list;
    for (const std::string &known : quantParamTypes())
      list += (list.empty() ? "" : ", ") + known;
    fail("setOpQuantParamType: unknown param type '" + type + "' (known: " + list + ")");
  }
  /// Declares per-channel (true) or per-tensor (false) quantization (quant.is_perchannel).
  void setOpQuantPerchannel(bool perchannel) { quantPerchannel_ = perchannel; }

  /// Records an error for the current hook; the hook should return right after. The first error
  /// of a hook is kept.
  void reportError(const std::string &message) { fail(message); }

  /// The kernel emitter handed to codeGenInt8.
  static tpuc::kernel::Context &kernelContext(void *ctx) {
    return *static_cast<tpuc::kernel::Context *>(ctx);
  }

private:
  void fail(const std::string &message) {
    if (failed_)
      return;
    failed_ = true;
    error_ = message;
  }
  void notImplemented(const char *hook) {
    fail(std::string(hook) + " is not implemented by the plugin (override cvi::CustomOp::" + hook +
         ")");
    notImplemented_ = true;
  }

  bool failed_ = false;
  bool notImplemented_ = false;
  std::string error_;
  float opThreshold_ = 0.0f;
  std::vector<float> prevThresholds_;
  std::string quantParamType_;
  bool quantPerchannel_ = false;
};

namespace detail {

/// What RegisterCustomOp instantiates: the plugin's class with every hook guarded, so that an
/// exception is recorded as the op's error inside the plugin instead of unwinding into the tool.
template <typename Op> class GuardedCustomOp final : public Op {
public:
  explicit GuardedCustomOp(OpParam &param) : Op(param) {}

  void interpretFp32(CustomOp::TensorList &operand_tensors, CustomOp::ShapeList &operand_shapes,
                     std::shared_ptr<std::vector<float>> &result_tensor,
                     std::vector<int64_t> &result_shape) override {
    try {
      Op::interpretFp32(operand_tensors, operand_shapes, result_tensor, result_shape);
    } catch (const std::exception &e) {
      this->recordException("interpretFp32", &e);
    } catch (...) {
      this->recordException("interpretFp32", nullptr);
    }
  }
  void interpretInt8(CustomOp::TensorList &operand_tensors, CustomOp::ShapeList &operand_shapes,
                     std::shared_ptr<std::vector<float>> &result_tensor,
                     std::vector<int64_t> &result_shape) override {
    try {
      Op::interpretInt8(operand_tensors, operand_shapes, result_tensor, result_shape);
    } catch (const std::exception &e) {
      this->recordException("interpretInt8", &e);
    } catch (...) {
      this->recordException("interpretInt8", nullptr);
    }
  }
  void quantizeInt8() override {
    try {
      Op::quantizeInt8();
    } catch (const std::exception &e) {
      this->recordException("quantizeInt8", &e);
    } catch (...) {
      this->recordException("quantizeInt8", nullptr);
    }
  }
  void codeGenInt8(void *ctx, CustomOp::ShapeList &operand_shapes,
                   std::vector<uint64_t> &operand_gaddrs, std::vector<int64_t> &result_shape,
                   uint64_t result_gaddr, int layer_id) override {
    try {
      Op::codeGenInt8(ctx, operand_shapes, operand_gaddrs, result_shape, result_gaddr, layer_id);
    } catch (const std::exception &e) {
      this->recordException("codeGenInt8", &e);
    } catch (...) {
      this->recordException("codeGenInt8", nullptr);
    }
  }
};

/// Runs a factory without letting an exception out: null and the message in `error` on failure.
template <typename Op> CustomOp *createCustomOp(OpParam &param, std::string &error) noexcept {
  try {
    return new GuardedCustomOp<Op>(param);
  } catch (const std::exception &e) {
    try {
      error = e.what();
    } catch (...) {
    }
  } catch (...) {
    try {
      error = "an exception that is not a std::exception";
    } catch (...) {
    }
  }
  return nullptr;
}

} // namespace detail
} // namespace cvi

/// Exports, for class X implementing the plugin op named N (the tpu.custom_op's operation_name):
///  - `cvi::CustomOp *CustomOp<N>Create(cvi::OpParam &)`, the factory (null when X's constructor
///    throws);
///  - `const char *CustomOp<N>CreateError()`, the message of the last failed construction;
///  - `int CustomOp<N>AbiVersion()`, the CVI_CUSTOM_OP_ABI_VERSION the plugin was built with.
/// Use once per op, at namespace scope.
#define RegisterCustomOp(N, X)                                                                     \
  static std::string &tpucCustomOp##N##ErrorSlot() {                                               \
    static thread_local std::string slot;                                                          \
    return slot;                                                                                   \
  }                                                                                                \
  extern "C" __attribute__((visibility("default"))) int CustomOp##N##AbiVersion() {                \
    return CVI_CUSTOM_OP_ABI_VERSION;                                                              \
  }                                                                                                \
  extern "C" __attribute__((visibility("default"))) const char *CustomOp##N##CreateError() {       \
    return tpucCustomOp##N##ErrorSlot().c_str();                                                   \
  }                                                                                                \
  extern "C" __attribute__((visibility("default"))) ::cvi::CustomOp *CustomOp##N##Create(          \
      ::cvi::OpParam &param) {                                                                     \
    return ::cvi::detail::createCustomOp<X>(param, tpucCustomOp##N##ErrorSlot());                  \
  }
