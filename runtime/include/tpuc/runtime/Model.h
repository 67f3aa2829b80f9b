//===- Model.h - a loaded cvimodel program, ready to run --------*- C++ -*-===//
//
// Model takes a parsed cvimodel, checks one program of it (memory regions, tensor placement,
// routines and the CPU functions they name), allocates the simulated device memory, copies the
// weights, loads embedded CPU-function libraries and prepares every routine. run() executes the
// routines in order: TPU routines on the simulated TPU, CPU routines on the host.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tpuc/runtime/Cvimodel.h"
#include "tpuc/runtime/DeviceMemory.h"
#include "tpuc/runtime/Npz.h"
#include "tpuc/runtime/TpuEngine.h"

#include <memory>
#include <string>
#include <vector>

namespace tpuc::runtime {

/// A tensor of the program's tensor map, placed in device memory.
struct TensorDesc {
  std::string name;
  DType dtype = DType::FP32;
  std::vector<int64_t> shape;
  float qscale = 1.0f;
  float zeroPoint = 0.0f;
  unsigned region = 0; ///< memory region (global address bits 42:40)
  uint64_t regionOffset = 0;
  uint64_t byteSize = 0;
  uint64_t memoryOffset = 0; ///< byte index in DeviceMemory::bytes
  bool overwrote = false;

  size_t count() const;
};

/// Timing of one executed routine.
struct RoutineProfile {
  bool isTpu = true;
  std::string name;      ///< cmdbuf section or CPU function name
  CmdbufProfile tpu;     ///< TPU routines: the engine's cycle model
  double hostMicros = 0; ///< CPU routines: host wall-clock time
};

struct RunProfile {
  double tpuClockMHz = 0;
  std::vector<RoutineProfile> routines;
};

/// Names of the memory regions by index (0..7).
const char *regionName(unsigned region);

class Model {
public:
  /// Checks and prepares program `programIndex` of `info`. Throws Error.
  explicit Model(CvimodelInfo info, size_t programIndex = 0);
  /// Reads, parses and prepares a file. Throws Error (message starts with the path).
  static std::unique_ptr<Model> fromFile(const std::string &path, size_t programIndex = 0);
  ~Model();
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  const CvimodelInfo &info() const { return model; }
  const ChipInfo &chip() const { return *chipInfo; }
  const std::vector<TensorDesc> &tensors() const { return tensorDescs; }
  std::vector<const TensorDesc *> inputs() const;
  std::vector<const TensorDesc *> outputs() const;
  const TensorDesc &tensor(const std::string &name) const;
  DeviceMemory &memory() { return mem; }

  /// Writes an input. Float data given to an int8/uint8 tensor is quantised with the tensor's
  /// qscale (round half away from zero, saturate); integer data of the tensor's own type is copied
  /// as is; float data given to a bf16 tensor is rounded to nearest even. The element count must
  /// match the tensor's.
  void setInput(const std::string &name, const NpyArray &value);
  /// Runs every routine in order. Fills `profile` (cycle model) when non-null.
  void run(RunProfile *profile = nullptr);
  /// Reads a tensor in its own type (bf16 widened to float32). With `dequantize`, int8/uint8
  /// tensors are returned as float32 code * qscale.
  NpyArray readTensor(const std::string &name, bool dequantize = false) const;

private:
  struct PreparedRoutine;
  struct PluginSet;

  void placeTensors();
  void prepareRoutines();

  CvimodelInfo model;
  const ProgramInfo *program = nullptr;
  const ChipInfo *chipInfo = nullptr;
  std::vector<TensorDesc> tensorDescs;
  DeviceMemory mem;
  std::unique_ptr<PluginSet> plugins; // destroyed after the routines (declared before them)
  std::vector<std::unique_ptr<PreparedRoutine>> routines;
  std::unique_ptr<TpuEngine> engine;
};

} // namespace tpuc::runtime
