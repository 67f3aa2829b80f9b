//===- WeightFile.cpp - npz weight files for the passes -------------------===//
//
// The npz reader/writer of the runtime reports errors by throwing; this file is the only one of
// the passes compiled with exceptions and turns them into llvm::Error.
//
//===----------------------------------------------------------------------===//
#include "passes/support/WeightFile.h"

#include "tpuc/runtime/Npz.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>

using namespace tpuc;
using llvm::StringRef;

namespace {

using Entries = std::vector<runtime::NpzEntry>;

/// What is known of an npz file while it keeps its modification time and size on disk: whether
/// this process wrote it, and its parsed contents unless evicted.
struct CachedFile {
  llvm::sys::TimePoint<> modified;
  uint64_t size = 0;
  std::shared_ptr<Entries> entries; ///< null once evicted
  bool writtenHere = false;
  uint64_t lastUse = 0;
};

/// Parsed contents are kept for this many files (the most recently used): a pipeline works on
/// one input and one output at a time, and weights can be large.
constexpr size_t kFilesWithContents = 2;

std::mutex cacheMutex;
uint64_t useCounter = 0;

llvm::StringMap<CachedFile> &cache() {
  static llvm::StringMap<CachedFile> files;
  return files;
}

std::string cacheKey(StringRef path) {
  llvm::SmallString<256> absolute(path);
  llvm::sys::fs::make_absolute(absolute);
  llvm::sys::path::remove_dots(absolute, /*remove_dot_dot=*/true);
  return std::string(absolute);
}

llvm::Error fileError(StringRef path, const llvm::Twine &message) {
  return llvm::createStringError("weight file '" + path + "': " + message);
}

/// The cache slot of `path` if it is up to date with the file on disk.
CachedFile *findCurrent(StringRef path) {
  llvm::sys::fs::file_status status;
  if (llvm::sys::fs::status(path, status))
    return nullptr;
  auto it = cache().find(cacheKey(path));
  if (it == cache().end() || it->second.modified != status.getLastModificationTime() ||
      it->second.size != status.getSize())
    return nullptr;
  return &it->second;
}

/// Drops the parsed contents of all but the kFilesWithContents most recently used files.
void evictContents() {
  std::vector<CachedFile *> loaded;
  for (auto &slot : cache())
    if (slot.second.entries)
      loaded.push_back(&slot.second);
  if (loaded.size() <= kFilesWithContents)
    return;
  std::sort(loaded.begin(), loaded.end(),
            [](const CachedFile *a, const CachedFile *b) { return a->lastUse > b->lastUse; });
  for (size_t i = kFilesWithContents; i < loaded.size(); ++i)
    loaded[i]->entries.reset();
}

/// Parses `path` (or returns its cached contents). Caller holds cacheMutex.
llvm::Expected<CachedFile *> loadLocked(StringRef path) {
  CachedFile *current = findCurrent(path);
  if (current && current->entries) {
    current->lastUse = ++useCounter;
    return current;
  }
  bool writtenHere = current && current->writtenHere;
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status))
    return fileError(path, "cannot read: " + ec.message());
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fileError(path, "cannot read: " + buffer.getError().message());
  auto entries = std::make_shared<Entries>();
  try {
    StringRef bytes = (*buffer)->getBuffer();
    *entries = runtime::parseNpz(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()),
        path.str());
  } catch (const std::exception &error) {
    return fileError(path, llvm::Twine("not a readable npz file: ") + error.what());
  }
  CachedFile &slot = cache()[cacheKey(path)];
  slot = CachedFile{status.getLastModificationTime(), status.getSize(), std::move(entries),
                    writtenHere, ++useCounter};
  evictContents();
  return &slot;
}

const runtime::NpzEntry *findEntry(const Entries &entries, StringRef name) {
  for (const runtime::NpzEntry &entry : entries)
    if (entry.name == name)
      return &entry;
  return nullptr;
}

llvm::Expected<size_t> elementCount(const runtime::NpyArray &array, const llvm::Twine &what) {
  try {
    if (array.data.size() != array.count() * array.elementSize())
      return llvm::createStringError(what + ": data size does not match its shape");
    return array.count();
  } catch (const std::exception &error) {
    return llvm::createStringError(what + ": " + error.what());
  }
}

} // namespace

weights::NamedArray weights::makeFloatArray(std::string name, llvm::ArrayRef<int64_t> shape,
                                            llvm::ArrayRef<float> values) {
  NamedArray array{std::move(name), "<f4", shape.vec(), {}};
  array.data.resize(values.size() * sizeof(float));
  std::memcpy(array.data.data(), values.data(), array.data.size());
  return array;
}

llvm::Expected<weights::FloatArray> weights::readFloatArray(StringRef path, StringRef name) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  auto file = loadLocked(path);
  if (!file)
    return file.takeError();
  const runtime::NpzEntry *entry = findEntry(*(*file)->entries, name);
  if (!entry)
    return fileError(path, "has no array '" + name + "'");
  const runtime::NpyArray &array = entry->array;
  auto count = elementCount(array, "array '" + name + "' of weight file '" + path + "'");
  if (!count)
    return count.takeError();
  FloatArray result{array.shape, std::vector<float>(*count)};
  if (array.descr == "<f4") {
    std::memcpy(result.values.data(), array.data.data(), *count * sizeof(float));
  } else if (array.descr == "<f8") {
    for (size_t i = 0; i < *count; ++i) {
      double value;
      std::memcpy(&value, array.data.data() + i * sizeof(double), sizeof(double));
      result.values[i] = static_cast<float>(value);
    }
  } else {
    return fileError(path, "array '" + name + "' holds '" + array.descr +
                               "' elements; float32 ('<f4') or float64 ('<f8') expected");
  }
  return result;
}

llvm::Expected<std::vector<std::string>> weights::listArrays(StringRef path) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  auto file = loadLocked(path);
  if (!file)
    return file.takeError();
  std::vector<std::string> names;
  for (const runtime::NpzEntry &entry : *(*file)->entries)
    names.push_back(entry.name);
  return names;
}

llvm::Error weights::writeWithAddedArrays(StringRef inputPath, StringRef outputPath,
                                          std::vector<NamedArray> added) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  std::string outputKey = cacheKey(outputPath);
  auto entries = std::make_shared<Entries>();
  if (!inputPath.empty()) {
    auto input = loadLocked(inputPath);
    if (!input)
      return input.takeError();
    // Updating a file in place edits its cached contents directly (weights can be large); the
    // slot is dropped below if the file cannot be written.
    if (cacheKey(inputPath) == outputKey)
      entries = (*input)->entries;
    else
      *entries = *(*input)->entries;
  }
  auto fail = [&](llvm::Error error) {
    cache().erase(outputKey);
    return error;
  };
  for (NamedArray &array : added) {
    runtime::NpzEntry entry{
        array.name, {std::move(array.descr), std::move(array.shape), std::move(array.data)}};
    auto count = elementCount(entry.array, "new array '" + array.name + "'");
    if (!count)
      return fail(count.takeError());
    auto same =
        llvm::find_if(*entries, [&](const runtime::NpzEntry &e) { return e.name == array.name; });
    if (same != entries->end())
      *same = std::move(entry);
    else
      entries->push_back(std::move(entry));
  }

  std::vector<uint8_t> bytes;
  try {
    bytes = runtime::serializeNpz(*entries);
  } catch (const std::exception &error) {
    return fail(fileError(outputPath, llvm::Twine("cannot encode: ") + error.what()));
  }
  if (llvm::Error error = llvm::writeToOutput(outputPath, [&](llvm::raw_ostream &os) {
        os.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
        return llvm::Error::success();
      }))
    return fail(fileError(outputPath, "cannot write: " + llvm::toString(std::move(error))));

  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(outputPath, status))
    return fail(fileError(outputPath, "written but cannot be examined: " + ec.message()));
  cache()[outputKey] = CachedFile{status.getLastModificationTime(), status.getSize(),
                                  std::move(entries), true, ++useCounter};
  evictContents();
  return llvm::Error::success();
}

bool weights::isWrittenByThisProcess(StringRef path) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  CachedFile *current = findCurrent(path);
  return current && current->writtenHere;
}
