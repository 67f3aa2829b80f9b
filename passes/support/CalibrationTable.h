//===- CalibrationTable.h - calibration table text files --------*- C++ -*-===//
//
// The calibration table format of the vendor toolchain (written by run_calibration.py):
//
//   ###
//   # file: resnet18_fp32.mlir
//   # generated time: 2024-05-01 12:00:00
//   # histogram number: 2048
//   # sample number: 100
//   ###
//   # op_name threshold min max
//   input 2.64 -2.11787 2.64
//   conv1 11.5
//
// Lines starting with `#` and blank lines are ignored; a row is `name threshold min max` or
// `name threshold`.
//
//===----------------------------------------------------------------------===//
#ifndef TPUC_PASSES_SUPPORT_CALIBRATIONTABLE_H
#define TPUC_PASSES_SUPPORT_CALIBRATIONTABLE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>

namespace tpuc {

struct CalibrationRow {
  double threshold = 0.0;
  std::optional<double> min; ///< both set (4-field row) or both unset (2-field row)
  std::optional<double> max;
  unsigned line = 0;
};

struct CalibrationTable {
  std::string path;
  llvm::StringMap<CalibrationRow> rows;
};

/// Reads and checks a table. Errors are `path:line: message` for a malformed row (field count,
/// number syntax, non-finite value, threshold <= 0, min > max, duplicate name), or name the file
/// when it cannot be read.
llvm::Expected<CalibrationTable> readCalibrationTable(llvm::StringRef path);

struct CalibrationTableWriterRow {
  std::string name;
  double threshold;
  double min;
  double max;
};

/// Writes a table: the `###` header block (`source` as its file, the current time, the given
/// histogram and sample numbers), the column line and one 4-field row per entry.
void writeCalibrationTable(llvm::raw_ostream &os, llvm::StringRef source,
                           llvm::ArrayRef<CalibrationTableWriterRow> rows, int64_t histogramNumber,
                           int64_t sampleNumber);

} // namespace tpuc

#endif // TPUC_PASSES_SUPPORT_CALIBRATIONTABLE_H
