//===- TiuBf16Window.cpp - bf16 convolution, depthwise and pooling --------===//
#include "ConvWindow.h"
#include "TiuCommon.h"

namespace tpuc::runtime {

void convBf16(TiuOp &op) { op.unsupported(TiuField::opd_typ, "bf16 convolution"); }
void depthwiseBf16(TiuOp &op) { op.unsupported(TiuField::opd_typ, "bf16 depthwise"); }
void poolBf16(TiuOp &op, PoolKind) { op.unsupported(TiuField::opd_typ, "bf16 pooling"); }
void matmulBf16(TiuOp &op) { op.unsupported(TiuField::opd_typ, "bf16 matmul"); }

} // namespace tpuc::runtime
