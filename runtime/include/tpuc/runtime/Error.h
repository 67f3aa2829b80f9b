//===- Error.h - tpuc runtime error type ------------------------*- C++ -*-===//
//
// Every failure of the runtime (malformed cvimodel, bad descriptor, address out of range,
// local-memory overflow, missing CPU function) is reported by throwing Error with a message naming
// what is wrong. Library code never aborts; the CLIs print the message and exit non-zero, Python
// sees RuntimeError.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <stdexcept>
#include <string>

namespace tpuc::runtime {

class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

} // namespace tpuc::runtime
