//===- Parallel.h - the kernels' worker threads -----------------*- C++ -*-===//
//
// Kernels split their outer loops (output channels, rows, matrix panels) over a small pool of
// worker threads. The pool size is the number of hardware threads, or TPUC_INTERPRETER_THREADS
// when set (1 runs everything on the calling thread).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <functional>

namespace tpuc::interpreter {

/// Number of threads parallelFor uses, the calling thread included.
int workerThreadCount();

/// Calls body(begin, end) on disjoint chunks covering [0, count), each of at least `grain`
/// iterations where possible, in parallel; returns when all are done. An exception thrown by a
/// chunk is rethrown here. Nested calls run serially.
void parallelFor(int64_t count, int64_t grain, const std::function<void(int64_t, int64_t)> &body);

} // namespace tpuc::interpreter
