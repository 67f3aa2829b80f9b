//===- CalibrationTable.cpp - calibration table text files ----------------===//
#include "passes/support/CalibrationTable.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <ctime>

namespace tpuc {

static llvm::Error lineError(llvm::StringRef path, unsigned line, const llvm::Twine &message) {
  return llvm::createStringError(path + ":" + llvm::Twine(line) + ": " + message);
}

/// Parses one number field; `what` names it in errors.
static llvm::Expected<double> parseNumber(llvm::StringRef field, llvm::StringRef what,
                                          llvm::StringRef path, unsigned line) {
  double value;
  if (!llvm::to_float(field, value))
    return lineError(path, line, what + " '" + field + "' is not a number");
  if (!std::isfinite(value))
    return lineError(path, line, what + " '" + field + "' is not finite");
  return value;
}

llvm::Expected<CalibrationTable> readCalibrationTable(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError("cannot read calibration table '" + path +
                                   "': " + buffer.getError().message());
  CalibrationTable table;
  table.path = path.str();
  llvm::SmallVector<llvm::StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n');
  for (auto [index, rawLine] : llvm::enumerate(lines)) {
    unsigned line = index + 1;
    llvm::StringRef text = rawLine.trim();
    if (text.empty() || text.starts_with("#"))
      continue;
    llvm::SmallVector<llvm::StringRef> split;
    llvm::SplitString(text, split, " \t\r");
    if (split.size() != 2 && split.size() != 4)
      return lineError(path, line,
                       "expected 'name threshold' or 'name threshold min max', got " +
                           llvm::Twine(split.size()) + " fields: '" + text + "'");
    llvm::StringRef name = split[0];
    CalibrationRow row;
    row.line = line;
    auto threshold = parseNumber(split[1], "threshold", path, line);
    if (!threshold)
      return threshold.takeError();
    row.threshold = *threshold;
    if (!(row.threshold > 0.0))
      return lineError(path, line, "threshold of '" + name + "' must be > 0, got " + split[1]);
    if (split.size() == 4) {
      auto min = parseNumber(split[2], "min", path, line);
      if (!min)
        return min.takeError();
      auto max = parseNumber(split[3], "max", path, line);
      if (!max)
        return max.takeError();
      if (*min > *max)
        return lineError(path, line,
                         "min " + split[2] + " > max " + split[3] + " for '" + name + "'");
      row.min = *min;
      row.max = *max;
    }
    auto [it, inserted] = table.rows.try_emplace(name, row);
    if (!inserted)
      return lineError(path, line,
                       "duplicate row for '" + name + "' (first at line " +
                           llvm::Twine(it->second.line) + ")");
  }
  return table;
}

void writeCalibrationTable(llvm::raw_ostream &os, llvm::StringRef source,
                           llvm::ArrayRef<CalibrationTableWriterRow> rows, int64_t histogramNumber,
                           int64_t sampleNumber) {
  char generated[32] = "unknown";
  std::time_t now = std::time(nullptr);
  if (std::tm *local = std::localtime(&now))
    std::strftime(generated, sizeof(generated), "%Y-%m-%d %H:%M:%S", local);
  os << "###\n";
  os << "# file: " << source << "\n";
  os << "# generated time: " << generated << "\n";
  os << "# histogram number: " << histogramNumber << "\n";
  os << "# sample number: " << sampleNumber << "\n";
  os << "###\n";
  os << "# op_name threshold min max\n";
  for (const CalibrationTableWriterRow &row : rows)
    os << row.name << ' ' << llvm::format("%.9g", row.threshold) << ' '
       << llvm::format("%.9g", row.min) << ' ' << llvm::format("%.9g", row.max) << '\n';
}

} // namespace tpuc
