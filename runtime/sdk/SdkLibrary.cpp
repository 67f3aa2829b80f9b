//===- SdkLibrary.cpp - libtpuc_sdk.so, the library custom-op plugins link --===//
//
// libtpuc_sdk.so holds the kernel emitter (tpuc::kernel::Context and the INT8 layer kernels of
// tpuc/kernel/Layers.h) so that a plugin's codeGenInt8 resolves the Context methods it calls
// whichever tpuc tool loads it. The headers are header-only otherwise (cvi/OpParam.h,
// cvi/CustomOp.h, cvi/runtime/*.h, tpuc/Arith.h).
//
//===----------------------------------------------------------------------===//
#include "cvi/CustomOp.h"

/// The custom-op ABI version of this SDK (CVI_CUSTOM_OP_ABI_VERSION).
extern "C" __attribute__((visibility("default"))) int tpucSdkAbiVersion() {
  return CVI_CUSTOM_OP_ABI_VERSION;
}
