//===- PluginLibrary.cpp - load a CPU-function library embedded in a model ===//

#include "tpuc/runtime/CpuFunction.h"
#include "tpuc/runtime/Error.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tpuc::runtime {

uint16_t hostElfMachine() {
#if defined(__x86_64__)
  return 0x3E;
#elif defined(__aarch64__)
  return 0xB7;
#else
  return 0;
#endif
}

namespace {

void checkElf(const std::string &what, const std::vector<uint8_t> &image) {
  if (image.size() < 64 || std::memcmp(image.data(),
                                       "\x7f"
                                       "ELF",
                                       4) != 0)
    throw Error(what + " is not an ELF shared library");
  if (image[4] != 2 || image[5] != 1)
    throw Error(what + " is not a 64-bit little-endian ELF file");
  uint16_t machine = uint16_t(image[18] | image[19] << 8);
  if (machine != hostElfMachine()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "0x%X, the host needs 0x%X", machine, hostElfMachine());
    throw Error(what + " is built for ELF machine " + buf);
  }
}

} // namespace

CpuFunctionLibrary::CpuFunctionLibrary(const std::string &sectionName,
                                       const std::vector<uint8_t> &image)
    : sectionName(sectionName) {
  const std::string what = "CPU function library in section '" + sectionName + "'";
  checkElf(what, image);
  fd = memfd_create(("tpuc-" + sectionName).c_str(), MFD_CLOEXEC);
  if (fd < 0)
    throw Error(what + ": memfd_create failed: " + std::strerror(errno));
  size_t written = 0;
  while (written < image.size()) {
    ssize_t n = ::write(fd, image.data() + written, image.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      std::string reason = std::strerror(errno);
      ::close(fd);
      throw Error(what + ": cannot write the in-memory file: " + reason);
    }
    written += static_cast<size_t>(n);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *reason = dlerror();
    std::string message = what + ": dlopen failed: " + (reason ? reason : "unknown reason");
    ::close(fd);
    throw Error(message);
  }
  auto *table = static_cast<CustomOpRuntimeFunc *>(dlsym(handle, "customOpRuntimeFuncs"));
  auto *count = static_cast<int *>(dlsym(handle, "customOpRuntimeFuncsNum"));
  if (!table || !count) {
    dlclose(handle);
    ::close(fd);
    throw Error(what + " does not export customOpRuntimeFuncs / customOpRuntimeFuncsNum "
                       "(use REGISTER_OP_RUNTIME_FUNCS)");
  }
  if (*count < 0 || *count > 100000) {
    dlclose(handle);
    ::close(fd);
    throw Error(what + ": customOpRuntimeFuncsNum is " + std::to_string(*count));
  }
  for (int i = 0; i < *count; ++i) {
    if (!table[i].name || !table[i].func) {
      dlclose(handle);
      ::close(fd);
      throw Error(what + ": entry #" + std::to_string(i) + " of customOpRuntimeFuncs is null");
    }
    funcs.push_back(table[i]);
  }
}

CpuFunctionLibrary::~CpuFunctionLibrary() {
  if (handle)
    dlclose(handle);
  if (fd >= 0)
    ::close(fd);
}

bool CpuFunctionLibrary::provides(const std::string &function) const {
  for (const auto &f : funcs)
    if (function == f.name)
      return true;
  return false;
}

std::vector<std::string> CpuFunctionLibrary::functionNames() const {
  std::vector<std::string> names;
  for (const auto &f : funcs)
    names.emplace_back(f.name);
  return names;
}

std::unique_ptr<cvi::runtime::ICpuFunction>
CpuFunctionLibrary::create(const std::string &function) const {
  for (const auto &f : funcs) {
    if (function != f.name)
      continue;
    cvi::runtime::ICpuFunction *instance = nullptr;
    try {
      instance = f.func();
    } catch (const std::exception &e) {
      throw Error("CPU function '" + function + "' from section '" + sectionName +
                  "': factory failed: " + e.what());
    }
    if (!instance)
      throw Error("CPU function '" + function + "' from section '" + sectionName +
                  "': factory returned null");
    return std::unique_ptr<cvi::runtime::ICpuFunction>(instance);
  }
  throw Error("section '" + sectionName + "' has no CPU function '" + function + "'");
}

} // namespace tpuc::runtime
