//===- Status.h - success or an error message -------------------*- C++ -*-===//
//
// The boundary between the MLIR-facing half of the interpreter (no exceptions) and its kernels
// (which throw): every entry point of the kernel half that the other half calls is noexcept and
// returns a Status.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <utility>

namespace tpuc::interpreter {

class [[nodiscard]] Status {
public:
  static Status success() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }

  bool failed() const { return failed_; }
  bool ok() const { return !failed_; }
  const std::string &message() const { return message_; }

private:
  Status() = default;
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}

  bool failed_ = false;
  std::string message_;
};

} // namespace tpuc::interpreter
