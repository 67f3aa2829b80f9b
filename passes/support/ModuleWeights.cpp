//===- ModuleWeights.cpp - reading and rewriting a module's weights -------===//
#include "passes/support/ModuleWeights.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using llvm::StringRef;

namespace tpuc {

template <typename T> static std::string printed(T value) {
  std::string text;
  llvm::raw_string_ostream(text) << value;
  return text;
}

static std::mutex &weightEditMutex() {
  static std::mutex mutex;
  return mutex;
}

llvm::Expected<std::string> getWeightFile(ModuleOp module) {
  auto attr = module->getAttrOfType<StringAttr>(kWeightFileAttrName);
  if (!attr || attr.getValue().empty())
    return llvm::createStringError("the module has no '" + kWeightFileAttrName +
                                   "' attribute naming the npz file of its weights");
  return attr.getValue().str();
}

std::string deriveWeightFileName(StringRef current, StringRef tag) {
  llvm::SmallString<256> path(llvm::sys::path::parent_path(current));
  llvm::sys::path::append(path, llvm::sys::path::stem(current) + "_" + tag + ".npz");
  return std::string(path);
}

WeightEdit::WeightEdit(ModuleOp module) : lock(weightEditMutex()), module(module) {
  if (auto attr = module->getAttrOfType<StringAttr>(kWeightFileAttrName))
    currentFile = attr.getValue().str();
}

llvm::Expected<std::vector<float>> WeightEdit::readF32(tpu::LoadWeightOp op) {
  auto type = cast<RankedTensorType>(op.getType());
  if (!type.getElementType().isF32())
    return llvm::createStringError("weight '" + op.getName() + "' has element type " +
                                   printed(type.getElementType()) +
                                   "; only f32 weights can be rewritten");
  if (currentFile.empty())
    return getWeightFile(module).takeError();
  auto array = weights::readFloatArray(currentFile, op.getName());
  if (!array)
    return array.takeError();
  if (static_cast<int64_t>(array->values.size()) != type.getNumElements())
    return llvm::createStringError("weight '" + op.getName() + "' has " +
                                   llvm::Twine(array->values.size()) + " elements in '" +
                                   currentFile + "' but its type " + printed(type) + " has " +
                                   llvm::Twine(type.getNumElements()));
  return std::move(array->values);
}

std::string WeightEdit::uniqueName(StringRef baseName) {
  if (!takenNames) {
    takenNames.emplace();
    if (!currentFile.empty()) {
      // An unreadable file is reported by readF32 / commit; here it just has no names.
      if (auto names = weights::listArrays(currentFile))
        for (const std::string &name : *names)
          takenNames->insert(name);
      else
        llvm::consumeError(names.takeError());
    }
    module->walk([&](tpu::LoadWeightOp op) { takenNames->insert(op.getName()); });
  }
  std::string name = baseName.str();
  for (int suffix = 1; takenNames->contains(name); ++suffix)
    name = (baseName + "_" + llvm::Twine(suffix)).str();
  takenNames->insert(name);
  return name;
}

std::string WeightEdit::stageF32(StringRef baseName, llvm::ArrayRef<int64_t> shape,
                                 llvm::ArrayRef<float> values) {
  return stage(weights::makeFloatArray(baseName.str(), shape, values));
}

std::string WeightEdit::stage(weights::NamedArray array) {
  array.name = uniqueName(array.name);
  std::string name = array.name;
  staged.push_back(std::move(array));
  return name;
}

llvm::Error WeightEdit::commit(StringRef tag, StringRef output) {
  std::string target = output.str();
  if (target.empty()) {
    if (currentFile.empty())
      return getWeightFile(module).takeError();
    if (weights::isWrittenByThisProcess(currentFile)) {
      target = currentFile;
    } else {
      // Another module of this process may already use the derived name (the same input
      // rewritten twice): never take a file away from it.
      std::string suffixed = tag.str();
      for (int n = 1;; ++n) {
        target = deriveWeightFileName(currentFile, suffixed);
        if (!weights::isWrittenByThisProcess(target))
          break;
        suffixed = (tag + "_" + llvm::Twine(n)).str();
      }
    }
  }
  if (llvm::Error error = weights::writeWithAddedArrays(currentFile, target, std::move(staged)))
    return error;
  staged.clear();
  module->setAttr(kWeightFileAttrName, StringAttr::get(module.getContext(), target));
  currentFile = target;
  return llvm::Error::success();
}

} // namespace tpuc
